package ltotel_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/ltotel"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// spans records the spans of one TracerProvider, as a process's exporter
// would, and signals each that ends.
type spans struct {
	*tracetest.SpanRecorder
	ended signal
}

func (s *spans) OnEnd(span sdktrace.ReadOnlySpan) {
	s.SpanRecorder.OnEnd(span)
	s.ended.notify()
}

// newProcessTracer is the Tracer of one process: its own TracerProvider,
// recorded by the returned spans, propagating W3C trace context.
func newProcessTracer(t testing.TB) (*ltotel.Tracer, *spans) {
	t.Helper()
	rec := &spans{SpanRecorder: tracetest.NewSpanRecorder(), ended: make(signal, 1)}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return ltotel.NewTracer(tp, propagation.TraceContext{}), rec
}

// await waits until a span that match accepts has ended, within
// lttest.Timeout, and returns it.
func (s *spans) await(t testing.TB, what string, match func(sdktrace.ReadOnlySpan) bool) sdktrace.ReadOnlySpan {
	t.Helper()
	deadline := time.After(lttest.Timeout)
	for {
		for _, sp := range s.Ended() {
			if match(sp) {
				return sp
			}
		}
		select {
		case <-s.ended:
		case <-deadline:
			var have []string
			for _, sp := range s.Ended() {
				have = append(have, fmt.Sprintf("%s (trace %s, parent %s)", sp.Name(), sp.SpanContext().TraceID(), sp.Parent().SpanID()))
			}
			t.Fatalf("no span %s ended; ended: %v", what, have)
		}
	}
}

// named matches the spans named name in trace (any trace if invalid) that
// are children of parent (any parent if invalid).
func named(name string, tr trace.TraceID, parent trace.SpanID) func(sdktrace.ReadOnlySpan) bool {
	return func(s sdktrace.ReadOnlySpan) bool {
		return s.Name() == name && (!tr.IsValid() || s.SpanContext().TraceID() == tr) &&
			(!parent.IsValid() || s.Parent().SpanID() == parent)
	}
}

// postWithTrace posts action for tab as the JavaScript client does, with
// a traceparent header, and returns the status.
func postWithTrace(t *testing.T, pageURL string, tab *lttest.Tab, action, traceparent string) int {
	t.Helper()
	form := url.Values{"_lt_conn": {tab.Conn()}, "_lt_action": {action}}
	req, err := http.NewRequest(http.MethodPost, pageURL, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("traceparent", traceparent)
	c := &http.Client{Jar: tab.Jar(), Timeout: lttest.Timeout}
	defer c.CloseIdleConnections()
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// An action POST whose request carries a traceparent is a server span in
// that trace, a child of the caller's span, with the method's call, the
// render and the publishing of the update as its children.
func TestActionSpansContinueTheRequestsTrace(t *testing.T) {
	is := is.New(t)
	tr, rec := newProcessTracer(t)
	_, u := server(t, lt.WithTracer(tr), lt.WithName("counter"))
	tab := lttest.Open(t, u)

	traceID, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	caller, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	is.Equal(postWithTrace(t, u, tab, "increment", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), http.StatusOK)

	action := rec.await(t, "lt.action of the POST", named("lt.action", traceID, caller))
	is.Equal(action.SpanKind(), trace.SpanKindServer)
	is.True(action.Parent().IsRemote())
	is.True(action.SpanContext().IsSampled())
	attrs := attrsOf(action)
	is.Equal(attrs["livesse.page"], "counter")
	is.Equal(attrs["livesse.conn"], tab.Conn())
	is.Equal(action.Status().Code, codes.Unset)
	id := action.SpanContext().SpanID()
	var children []string
	for _, name := range []string{"lt.call", "lt.render", "lt.publish"} {
		s := rec.await(t, name+" under lt.action", named(name, traceID, id)) // ended before their parent
		is.True(!s.StartTime().Before(action.StartTime()) && !s.EndTime().After(action.EndTime()))
		children = append(children, s.Name())
	}
	is.Equal(children, []string{"lt.call", "lt.render", "lt.publish"})

	// A failing action fails its span and its call's.
	is.Equal(postWithTrace(t, u, tab, "fail", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"), http.StatusUnprocessableEntity)
	failed, _ := trace.TraceIDFromHex("0af7651916cd43dd8448eb211c80319c")
	action = rec.await(t, "lt.action of the failing POST", named("lt.action", failed, trace.SpanID{}))
	is.Equal(action.Status().Code, codes.Error)
	call := rec.await(t, "its lt.call", named("lt.call", failed, action.SpanContext().SpanID()))
	is.Equal(call.Status().Code, codes.Error)
	is.True(slices.ContainsFunc(call.Events(), func(e sdktrace.Event) bool { return e.Name == "exception" }))
}
