package ltotel_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/ltotel"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

type state struct {
	N   int
	Msg string
}

// counter is the test page's controller.
type counter struct{}

func (c *counter) Increment(s state, ctx *lt.Context) (state, error) {
	s.N++
	return s, nil
}

func (c *counter) Fail(s state, ctx *lt.Context) (state, error) {
	return s, lt.UserError("that did not work")
}

func (c *counter) SetMsg(s state, ctx *lt.Context) (state, error) {
	s.Msg = ctx.GetString("msg")
	return s, nil
}

const pageHTML = `<!DOCTYPE html><html><head><title>t</title></head><body>` +
	`<p id="n">n={{.N}}</p><p id="msg">msg={{.Msg}}</p></body></html>`

// signal says something was measured: the waits below collect again.
type signal chan struct{}

func (s signal) notify() {
	select {
	case s <- struct{}{}:
	default:
	}
}

// notifying passes lt's measurements on to an lt.Metrics (ltotel's), then
// signals, so that a test can wait for them without sleeping.
type notifying struct {
	lt.Metrics
	ch signal
}

func (n notifying) Page(name string, actions []string) lt.PageMetrics {
	return notifyingPage{n.Metrics.Page(name, actions), n.ch}
}

type notifyingPage struct {
	p  lt.PageMetrics
	ch signal
}

func (n notifyingPage) Connections(d int)      { n.p.Connections(d); n.ch.notify() }
func (n notifyingPage) Streams(d, tabs int)    { n.p.Streams(d, tabs); n.ch.notify() }
func (n notifyingPage) Refused(name, r string) { n.p.Refused(name, r); n.ch.notify() }
func (n notifyingPage) Action(name string, client bool, outcome string, d time.Duration) {
	n.p.Action(name, client, outcome, d)
	n.ch.notify()
}
func (n notifyingPage) Rendered(d time.Duration)          { n.p.Rendered(d); n.ch.notify() }
func (n notifyingPage) Sent(events, bytes int)            { n.p.Sent(events, bytes); n.ch.notify() }
func (n notifyingPage) Heartbeat()                        { n.p.Heartbeat(); n.ch.notify() }
func (n notifyingPage) Resumed(replayed bool)             { n.p.Resumed(replayed); n.ch.notify() }
func (n notifyingPage) Queued(d int)                      { n.p.Queued(d); n.ch.notify() }
func (n notifyingPage) Overflowed()                       { n.p.Overflowed(); n.ch.notify() }
func (n notifyingPage) FanOut(conns int, d time.Duration) { n.p.FanOut(conns, d); n.ch.notify() }

// want is an expected value: of a sum (counter, up-down counter) or, with
// count, of a histogram's count, at exactly attrs.
type want struct {
	name  string
	attrs []attribute.KeyValue
	value int64
	count bool
}

func (w want) String() string {
	kind := ""
	if w.count {
		kind = " count"
	}
	return fmt.Sprintf("%s%s%v = %d", w.name, kind, w.attrs, w.value)
}

// value reads w's figure, false if the collection has no such point.
func (rd *reading) value(w want) (int64, bool) {
	m, ok := rd.metrics[w.name]
	if !ok {
		return 0, false
	}
	set := attribute.NewSet(w.attrs...)
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		for _, dp := range d.DataPoints {
			if dp.Attributes.Equals(&set) {
				return dp.Value, true
			}
		}
	case metricdata.Histogram[float64]:
		for _, dp := range d.DataPoints {
			if dp.Attributes.Equals(&set) {
				return int64(dp.Count), true
			}
		}
	}
	return 0, false
}

// awaitMetrics collects from r each time ch signals, until every figure
// has its value, within lttest.Timeout; it returns that collection.
func awaitMetrics(t testing.TB, r *sdkmetric.ManualReader, ch signal, wants ...want) *reading {
	t.Helper()
	deadline := time.After(lttest.Timeout)
	for {
		rd := collect(t, r)
		var wrong []string
		for _, w := range wants {
			if v, ok := rd.value(w); !ok && w.value != 0 || v != w.value {
				wrong = append(wrong, fmt.Sprintf("%v (it is %d)", w, v))
			}
		}
		if len(wrong) == 0 {
			return rd
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("metrics never reached:\n\t%s", strings.Join(wrong, "\n\t"))
		}
	}
}

func sumOf(name string, value int64, attrs ...attribute.KeyValue) want {
	return want{name: name, attrs: attrs, value: value}
}

func countOf(name string, value int64, attrs ...attribute.KeyValue) want {
	return want{name: name, attrs: attrs, value: value, count: true}
}

// server serves the test page at /page with opts, closed when the test
// ends.
func server(t testing.TB, opts ...lt.Option) (*lt.Handler, string) {
	t.Helper()
	opts = append([]lt.Option{lt.WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	h, err := lt.New(lt.Must(lt.Parse("page", pageHTML)), &counter{}, state{}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/page", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { _ = h.Close(); srv.Close() })
	return h, srv.URL + "/page"
}

// Streams and actions on a real Handler reach the OpenTelemetry
// instruments with exact counts.
func TestMetricsOfAHandler(t *testing.T) {
	is := is.New(t)
	m, r := newMetrics(t)
	ch := make(signal, 1)
	h, u := server(t, lt.WithMetrics(notifying{m, ch}), lt.WithName("counter"), lt.WithHeartbeat(time.Hour))
	page := pageAttr("counter")

	a := lttest.Open(t, u)
	b := lttest.Open(t, u)
	awaitMetrics(t, r, ch,
		sumOf("livesse.connections", 2, page), sumOf("livesse.streams", 2, page),
		sumOf("livesse.stream.tabs", 2, page), sumOf("livesse.heartbeats", 2, page))

	a.Act("increment", nil)
	a.Act("increment", nil)
	a.Act("fail", nil)
	is.Equal(a.Act("no_such_action", nil).Status, http.StatusBadRequest)
	is.NoErr(h.TriggerAll(context.Background(), "set_msg", map[string]any{"msg": "hi"}))
	a.WaitFor("msg=hi")
	b.WaitFor("msg=hi")
	client, server := originAttr("client"), originAttr("server")
	ok, failed := outcomeAttr("ok"), outcomeAttr("error")
	rd := awaitMetrics(t, r, ch,
		sumOf("livesse.actions", 2, page, action("Increment"), client, ok),
		sumOf("livesse.actions", 1, page, action("Fail"), client, failed),
		sumOf("livesse.actions", 2, page, action("SetMsg"), server, ok),
		countOf("livesse.action.duration", 2, page, action("Increment"), client),
		countOf("livesse.action.duration", 1, page, action("Fail"), client),
		countOf("livesse.action.duration", 2, page, action("SetMsg"), server),
		sumOf("livesse.refused_requests", 1, page, reasonAttr(lt.RefusedUnknownAction)),
		sumOf("livesse.fanout.connections", 2, page),
		countOf("livesse.fanout.duration", 1, page),
		sumOf("livesse.queued_jobs", 0, page),
		sumOf("livesse.connections", 2, page),
	)
	is.Equal(len(rd.metric("livesse.actions").Data.(metricdata.Sum[int64]).DataPoints), 3)          // nothing else ran
	is.Equal(len(rd.metric("livesse.refused_requests").Data.(metricdata.Sum[int64]).DataPoints), 1) // nor was refused
	renders := hist[float64](rd, "livesse.render.duration", page)
	is.True(renders.Count >= 5) // an action's render at least, and the streams' first
	is.True(renders.Sum > 0)
	is.Equal(rd.count("livesse.resumes", page, modeAttr("replay")), int64(0)) // first streams are no resumes

	// A tab reconnecting to its connection resumes from the log; one that
	// names a connection that is gone gets a full render.
	conn, seq := a.Conn(), a.Seq()
	a.Close()
	_, ev := a.OpenStreamFor(conn, seq-1)
	is.Equal(ev.Type, "update")
	_, ev = a.OpenStreamFor("made-up", 0)
	is.Equal(ev.Type, "render")
	awaitMetrics(t, r, ch,
		sumOf("livesse.resumes", 1, page, modeAttr("replay")),
		sumOf("livesse.resumes", 1, page, modeAttr("render")))

	// Closed, the Handler leaves nothing open.
	is.NoErr(h.Close())
	awaitMetrics(t, r, ch,
		sumOf("livesse.connections", 0, page), sumOf("livesse.streams", 0, page),
		sumOf("livesse.stream.tabs", 0, page), sumOf("livesse.queued_jobs", 0, page))
}

// livesse.sent.events and livesse.sent.bytes are what the stream carried,
// to the byte.
func TestSentIsWhatTheWireCarries(t *testing.T) {
	is := is.New(t)
	m, r := newMetrics(t)
	ch := make(signal, 1)
	h, u := server(t, lt.WithMetrics(notifying{m, ch}), lt.WithHeartbeat(time.Hour))
	page := pageAttr("page")

	tab := lttest.Get(t, u) // the page, without its stream
	q := url.Values{"_lt_conn": {tab.Conn()}}
	req, err := http.NewRequest(http.MethodGet, u+"?"+q.Encode(), nil)
	is.NoErr(err)
	req.Header.Set("Accept", "text/event-stream")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := &http.Client{Jar: tab.Jar()}
	defer c.CloseIdleConnections()
	res, err := c.Do(req.WithContext(ctx))
	is.NoErr(err)
	defer res.Body.Close()
	is.Equal(res.StatusCode, http.StatusOK)
	frames := bufio.NewReader(res.Body)
	read := 0
	// next reads one event (up to its blank line) and returns its type.
	next := func() string {
		t.Helper()
		var typ string
		for {
			line, err := frames.ReadBytes('\n')
			read += len(line)
			if err != nil {
				t.Fatalf("reading the stream: %v", err)
			}
			if bytes.Equal(line, []byte("\n")) {
				return typ
			}
			if v, ok := bytes.CutPrefix(line, []byte("event: ")); ok {
				typ = string(bytes.TrimSpace(v))
			}
		}
	}
	is.Equal(next(), "hb") // the first heartbeat
	is.Equal(next(), "render")
	awaitMetrics(t, r, ch, sumOf("livesse.sent.events", 2, page), sumOf("livesse.sent.bytes", int64(read), page),
		sumOf("livesse.heartbeats", 1, page))

	is.NoErr(h.TriggerAll(context.Background(), "increment", nil))
	is.Equal(next(), "update")
	awaitMetrics(t, r, ch, sumOf("livesse.sent.events", 3, page), sumOf("livesse.sent.bytes", int64(read), page),
		sumOf("livesse.heartbeats", 1, page))
	cancel()
	_, _ = io.Copy(io.Discard, res.Body)
}

func pageAttr(name string) attribute.KeyValue       { return ltotel.PageKey.String(name) }
func originAttr(origin string) attribute.KeyValue   { return ltotel.OriginKey.String(origin) }
func outcomeAttr(outcome string) attribute.KeyValue { return ltotel.OutcomeKey.String(outcome) }
func modeAttr(mode string) attribute.KeyValue       { return ltotel.ResumeModeKey.String(mode) }
