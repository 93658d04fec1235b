package ltotel_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/livesse/livesse/internal/test/pgtest"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/ltotel"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/livesse/livesse/pgnotify"
	"github.com/matryer/is"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// secret is the instances' shared secret.
var secret = []byte("test secret: 32 bytes or longer!")

// notifyingPG passes a Listener's measurements on to ltotel's, then
// signals.
type notifyingPG struct {
	m  pgnotify.Metrics
	ch signal
}

func (n notifyingPG) Published(bytes int, large bool) { n.m.Published(bytes, large); n.ch.notify() }
func (n notifyingPG) Delivered(lag time.Duration)     { n.m.Delivered(lag); n.ch.notify() }

// process is one instance of the app, as a separate process would have
// it: its own pool, Listener, Handler, server, and its own OpenTelemetry
// pipeline (a ManualReader, a recorder of spans).
type process struct {
	URL     string
	H       *lt.Handler
	L       *pgnotify.Listener
	Reader  *sdkmetric.ManualReader
	Spans   *spans
	Changed signal // a measurement was taken
}

func startProcess(t *testing.T, db *pgxpool.Pool, id string) *process {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), lttest.Timeout)
	defer cancel()
	m, r := newMetrics(t)
	tr, rec := newProcessTracer(t)
	ch := make(signal, 1)
	l, err := pgnotify.New(ctx, pgtest.Reopen(t, db), pgnotify.WithSecret(secret), pgnotify.WithInstance(id),
		pgnotify.WithMetrics(notifyingPG{m, ch}), pgnotify.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	reg, err := m.ObserveListener(l)
	if err != nil {
		t.Fatal(err)
	}
	h, err := lt.New(lt.Must(lt.Parse("page", pageHTML)), &counter{}, state{},
		lt.WithBroadcaster(l), lt.WithSecret(secret), lt.WithName("counter"),
		lt.WithMetrics(notifying{m, ch}), lt.WithTracer(tr), lt.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/page", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		_ = h.Close()
		srv.Close()
		_ = reg.Unregister()
		_ = l.Close()
	})
	return &process{URL: srv.URL + "/page", H: h, L: l, Reader: r, Spans: rec, Changed: ch}
}

// A server action's trace crosses instances through PostgreSQL: the
// receiving instance's lt.deliver continues the sender's trace, a child
// of the span that published the message; and both instances' metrics
// count the message, from Health as well as from the Listener's calls.
func TestTraceAcrossInstancesThroughPostgres(t *testing.T) {
	is := is.New(t)
	db := pgtest.Pool(t)
	ctx, cancel := context.WithTimeout(context.Background(), lttest.Timeout)
	defer cancel()
	is.NoErr(pgnotify.Setup(ctx, db, pgnotify.WithSecret(secret)))
	a := startProcess(t, db, "a")
	b := startProcess(t, db, "b")
	tab := lttest.Open(t, b.URL)

	is.NoErr(a.H.TriggerAll(ctx, "set_msg", map[string]any{"msg": "from a"}))
	tab.WaitFor("msg=from a")

	server := a.Spans.await(t, "lt.server_action on a", named("lt.server_action", trace.TraceID{}, trace.SpanID{}))
	traceID := server.SpanContext().TraceID()
	publish := a.Spans.await(t, "lt.publish on a", named("lt.publish", traceID, server.SpanContext().SpanID()))
	is.Equal(publish.SpanKind(), trace.SpanKindProducer)
	deliver := b.Spans.await(t, "lt.deliver on b, in a's trace", named("lt.deliver", traceID, trace.SpanID{}))
	is.Equal(deliver.Parent().SpanID(), publish.SpanContext().SpanID()) // a's span that published it
	is.True(deliver.Parent().IsRemote())
	is.Equal(deliver.SpanKind(), trace.SpanKindConsumer)
	is.Equal(attrsOf(deliver)["livesse.page"], "counter")
	is.Equal(attrsOf(deliver)["livesse.from"], "a")
	is.Equal(deliver.Status().Code, codes.Unset)
	for _, s := range b.Spans.Ended() {
		is.True(s.Name() != "lt.server_action") // b only continued a's trace
	}

	page, notify := pageAttr("counter"), ltotel.ViaKey.String("notify")
	rd := awaitMetrics(t, a.Reader, a.Changed, sumOf("livesse.pgnotify.published.messages", 1, notify))
	sent := rd.count("livesse.pgnotify.published.bytes", notify)
	is.True(sent > 0 && sent < 8000)
	is.Equal(rd.count("livesse.fanout.connections", page), int64(0)) // no tab on a

	ident := instanceAttrs("b")
	rd = awaitMetrics(t, b.Reader, b.Changed,
		countOf("livesse.pgnotify.delivery.lag", 1),
		sumOf("livesse.pgnotify.delivered", 1, ident...),
		sumOf("livesse.actions", 1, page, action("SetMsg"), originAttr("server"), outcomeAttr("ok")),
		sumOf("livesse.fanout.connections", 1, page),
		countOf("livesse.fanout.duration", 1, page))
	connected, _ := gauge[int64](rd, "livesse.pgnotify.connected", ident...)
	is.Equal(connected, int64(1))
	usage, ok := gauge[float64](rd, "livesse.pgnotify.queue.usage", ident...)
	is.True(ok && usage >= 0 && usage < 0.5)
	for _, refused := range rd.metric("livesse.pgnotify.refused").Data.(metricdata.Sum[int64]).DataPoints {
		is.Equal(refused.Value, int64(0)) // nothing refused
	}
	lag := hist[float64](rd, "livesse.pgnotify.delivery.lag")
	is.True(lag.Sum >= 0 && lag.Sum < lttest.Timeout.Seconds())

	// A message over NOTIFY's 8000 bytes goes through lt_messages, which
	// Health measures.
	big := strings.Repeat("x", 10000)
	is.NoErr(a.H.TriggerAll(ctx, "set_msg", map[string]any{"msg": big}))
	tab.WaitFor("msg=" + big)
	table := ltotel.ViaKey.String("table")
	rd = awaitMetrics(t, a.Reader, a.Changed, sumOf("livesse.pgnotify.published.messages", 1, table))
	is.True(rd.count("livesse.pgnotify.published.bytes", table) > 10000)
	rows, _ := gauge[int64](rd, "livesse.pgnotify.large_messages", instanceAttrs("a")...)
	is.Equal(rows, int64(1))
	size, _ := gauge[int64](rd, "livesse.pgnotify.large_messages.bytes", instanceAttrs("a")...)
	is.True(size > 10000)
	awaitMetrics(t, b.Reader, b.Changed, countOf("livesse.pgnotify.delivery.lag", 2), sumOf("livesse.pgnotify.delivered", 2, ident...))
	second := a.Spans.await(t, "the second lt.server_action", func(s sdktrace.ReadOnlySpan) bool {
		return s.Name() == "lt.server_action" && s.SpanContext().TraceID() != traceID
	})
	b.Spans.await(t, "the second lt.deliver, in a's trace", named("lt.deliver", second.SpanContext().TraceID(), trace.SpanID{}))
}

func instanceAttrs(id string) []attribute.KeyValue {
	return []attribute.KeyValue{ltotel.InstanceKey.String(id), ltotel.ChannelKey.String(pgnotify.DefaultChannel)}
}
