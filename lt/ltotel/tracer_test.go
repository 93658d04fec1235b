package ltotel_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/ltotel"
	"github.com/matryer/is"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// newTracer returns a Tracer over a TracerProvider whose ended spans
// the returned recorder holds, propagating W3C trace context.
func newTracer(t testing.TB) (*ltotel.Tracer, *tracetest.SpanRecorder) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return ltotel.NewTracer(tp, propagation.TraceContext{}), rec
}

// ended returns the recorded span named name, failing the test unless
// there is exactly one.
func ended(t testing.TB, rec *tracetest.SpanRecorder, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	var found []sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.Name() == name {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d ended spans named %q, want 1 (ended: %v)", len(found), name, spanNames(rec.Ended()))
	}
	return found[0]
}

func spanNames(spans []sdktrace.ReadOnlySpan) []string {
	var ns []string
	for _, s := range spans {
		ns = append(ns, s.Name())
	}
	return ns
}

func attrsOf(s sdktrace.ReadOnlySpan) map[attribute.Key]string {
	m := map[attribute.Key]string{}
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value.String()
	}
	return m
}

// Spans nest through the context Start returns, carry lt's attributes,
// and have the kinds of their roles.
func TestTracerSpans(t *testing.T) {
	is := is.New(t)
	tr, rec := newTracer(t)
	ctx, action := tr.Start(context.Background(), "lt.action", lt.Attr{Key: "livesse.page", Value: "todo"}, lt.Attr{Key: "livesse.action", Value: "AddItem"})
	_, call := tr.Start(ctx, "lt.call")
	call.End(nil)
	_, publish := tr.Start(ctx, "lt.publish")
	publish.End(nil)
	action.End(nil)

	a := ended(t, rec, "lt.action")
	is.Equal(a.SpanKind(), trace.SpanKindServer) // no parent: it serves the request
	is.True(!a.Parent().IsValid())
	is.Equal(attrsOf(a), map[attribute.Key]string{"livesse.page": "todo", "livesse.action": "AddItem"})
	is.Equal(a.Status().Code, codes.Unset)
	is.Equal(a.InstrumentationScope().Name, ltotel.ScopeName)
	c := ended(t, rec, "lt.call")
	is.Equal(c.SpanKind(), trace.SpanKindInternal)
	is.Equal(c.Parent().SpanID(), a.SpanContext().SpanID())
	is.Equal(c.SpanContext().TraceID(), a.SpanContext().TraceID())
	p := ended(t, rec, "lt.publish")
	is.Equal(p.SpanKind(), trace.SpanKindProducer)
	is.Equal(p.Parent().SpanID(), a.SpanContext().SpanID())

	// Under a middleware's server span, lt.action is internal.
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	reqCtx, req := tp.Tracer("otelhttp").Start(context.Background(), "POST /todo", trace.WithSpanKind(trace.SpanKindServer))
	_, inner := tr.Start(reqCtx, "lt.action")
	inner.End(nil)
	req.End()
	var innerSpan sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.Name() == "lt.action" && s.Parent().IsValid() {
			innerSpan = s
		}
	}
	is.True(innerSpan != nil)
	is.Equal(innerSpan.SpanKind(), trace.SpanKindInternal)
	is.Equal(innerSpan.Parent().SpanID(), req.SpanContext().SpanID())
}

// End with an error marks the span failed and records the error.
func TestTracerEndWithError(t *testing.T) {
	is := is.New(t)
	tr, rec := newTracer(t)
	_, s := tr.Start(context.Background(), "lt.call")
	s.End(errors.New("no such item"))
	c := ended(t, rec, "lt.call")
	is.Equal(c.Status().Code, codes.Error)
	is.Equal(c.Status().Description, "no such item")
	is.Equal(len(c.Events()), 1)
	is.Equal(c.Events()[0].Name, "exception")
}

// The trace context travels through a carrier (a map in a Message, a
// request's headers): the receiving side's spans continue the trace, as
// children of the sender's span, and lt.deliver is a consumer span.
func TestTracerInjectExtract(t *testing.T) {
	is := is.New(t)
	tr, rec := newTracer(t)
	ctx, server := tr.Start(context.Background(), "lt.server_action")
	pubCtx, pub := tr.Start(ctx, "lt.publish")
	carried := map[string]string{}
	tr.Inject(pubCtx, propagation.MapCarrier(carried))
	is.True(carried["traceparent"] != "")
	pub.End(nil)
	server.End(nil)

	rctx := tr.Extract(context.Background(), propagation.MapCarrier(carried))
	sc := trace.SpanContextFromContext(rctx)
	is.True(sc.IsRemote())
	_, deliver := tr.Start(rctx, "lt.deliver", lt.Attr{Key: "livesse.page", Value: "todo"})
	deliver.End(nil)

	p, d := ended(t, rec, "lt.publish"), ended(t, rec, "lt.deliver")
	is.Equal(d.SpanKind(), trace.SpanKindConsumer)
	is.Equal(d.SpanContext().TraceID(), p.SpanContext().TraceID())
	is.Equal(d.Parent().SpanID(), p.SpanContext().SpanID())
	is.True(d.Parent().IsRemote())

	// An incoming request's traceparent header continues its trace.
	h := http.Header{}
	h.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	actx := tr.Extract(context.Background(), propagation.HeaderCarrier(h))
	_, action := tr.Start(actx, "lt.action")
	action.End(nil)
	var a sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.Name() == "lt.action" {
			a = s
		}
	}
	is.Equal(a.SpanContext().TraceID().String(), "4bf92f3577b34da6a3ce929d0e0e4736")
	is.Equal(a.Parent().SpanID().String(), "00f067aa0ba902b7")
	is.Equal(a.SpanKind(), trace.SpanKindServer) // its parent is remote
}

// NewTracer(nil, nil) uses otel's global provider and propagator.
func TestTracerDefaultsToGlobals(t *testing.T) {
	is := is.New(t)
	oldTP, oldProp := otel.GetTracerProvider(), otel.GetTextMapPropagator()
	defer func() { otel.SetTracerProvider(oldTP); otel.SetTextMapPropagator(oldProp) }()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})

	tr := ltotel.NewTracer(nil, nil)
	ctx, s := tr.Start(context.Background(), "lt.server_action")
	carrier := propagation.MapCarrier{}
	tr.Inject(ctx, carrier)
	s.End(nil)
	is.Equal(len(rec.Ended()), 1)
	is.True(carrier["traceparent"] != "")
	is.Equal(trace.SpanContextFromContext(tr.Extract(context.Background(), carrier)).TraceID(), rec.Ended()[0].SpanContext().TraceID())
}
