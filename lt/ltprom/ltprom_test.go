package ltprom_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"

	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/ltprom"
	"github.com/livesse/livesse/pgnotify"
	"github.com/matryer/is"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// scrape gathers g in the text format and returns each sample's value by
// its name and labels as they read there (labels sorted by name), such as
// `livesse_streams{page="p"}`.
func scrape(t testing.TB, g prometheus.Gatherer) map[string]float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	enc := expfmt.NewEncoder(&text, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return parseSamples(t, text.Bytes())
}

// parseSamples reads the samples of a text exposition.
func parseSamples(t testing.TB, text []byte) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("sample %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// series counts the samples whose name and labels start with prefix.
func series(samples map[string]float64, prefix string) int {
	n := 0
	for k := range samples {
		if strings.HasPrefix(k, prefix) {
			n++
		}
	}
	return n
}

// Every PageMetrics call lands in its metric, under the page's and the
// action's labels; what lt does not report stays at zero.
func TestPageMetrics(t *testing.T) {
	is := is.New(t)
	reg := prometheus.NewPedanticRegistry() // checks each metric against its description
	m := ltprom.New(reg)
	p := m.Page("orders", []string{"Refresh", "AddItem", "AddItem"}) // lt never repeats one; a repeat is harmless

	p.Connections(1)
	p.Connections(1)
	p.Connections(1)
	p.Connections(-1)
	p.Streams(1, 1)
	p.Streams(1, 3)
	p.Streams(0, -1)
	p.Action("AddItem", true, lt.OutcomeOK, 300*time.Microsecond)
	p.Action("AddItem", true, lt.OutcomeOK, 2*time.Millisecond)
	p.Action("AddItem", true, lt.OutcomeError, 40*time.Microsecond)
	p.Action("Refresh", false, lt.OutcomeOK, 3*time.Second)
	p.Action("Nope", true, lt.OutcomeOK, time.Millisecond) // not an action of the page
	p.Refused("", lt.RefusedBadRequest)
	p.Refused("", lt.RefusedBadRequest)
	p.Refused("AddItem", lt.RefusedTooLarge)
	p.Refused("Refresh", "some_new_reason")
	p.Rendered(20 * time.Microsecond)
	p.Rendered(70 * time.Microsecond)
	p.Sent(1, 54)
	p.Sent(2, 100)
	p.Heartbeat()
	p.Sent(1, 2)
	p.Resumed(true)
	p.Resumed(true)
	p.Resumed(false)
	p.Queued(3)
	p.Queued(-1)
	p.Overflowed()
	p.FanOut(500, 8*time.Millisecond)
	p.FanOut(2, 30*time.Microsecond)

	s := scrape(t, reg)
	want := map[string]float64{
		`livesse_connections{page="orders"}`: 2,
		`livesse_streams{page="orders"}`:     2,
		`livesse_stream_tabs{page="orders"}`: 3,

		`livesse_actions_total{action="AddItem",origin="client",outcome="ok",page="orders"}`:    2,
		`livesse_actions_total{action="AddItem",origin="client",outcome="error",page="orders"}`: 1,
		`livesse_actions_total{action="AddItem",origin="server",outcome="ok",page="orders"}`:    0, // made in Page, exposed at zero
		`livesse_actions_total{action="Refresh",origin="server",outcome="ok",page="orders"}`:    1,
		`livesse_actions_total{action="",origin="client",outcome="ok",page="orders"}`:           1,

		`livesse_action_duration_seconds_count{action="AddItem",origin="client",page="orders"}`:               3,
		`livesse_action_duration_seconds_sum{action="AddItem",origin="client",page="orders"}`:                 0.00234,
		`livesse_action_duration_seconds_bucket{action="AddItem",origin="client",page="orders",le="5e-05"}`:   1,
		`livesse_action_duration_seconds_bucket{action="AddItem",origin="client",page="orders",le="0.00025"}`: 1,
		`livesse_action_duration_seconds_bucket{action="AddItem",origin="client",page="orders",le="0.0005"}`:  2,
		`livesse_action_duration_seconds_bucket{action="AddItem",origin="client",page="orders",le="0.0025"}`:  3,
		`livesse_action_duration_seconds_bucket{action="Refresh",origin="server",page="orders",le="2.5"}`:     0,
		`livesse_action_duration_seconds_bucket{action="Refresh",origin="server",page="orders",le="5"}`:       1,
		`livesse_action_duration_seconds_count{action="Refresh",origin="client",page="orders"}`:               0,

		`livesse_refused_requests_total{action="",page="orders",reason="bad_request"}`:            2,
		`livesse_refused_requests_total{action="AddItem",page="orders",reason="too_large"}`:       1,
		`livesse_refused_requests_total{action="Refresh",page="orders",reason="some_new_reason"}`: 1,

		`livesse_render_duration_seconds_count{page="orders"}`:               2,
		`livesse_render_duration_seconds_bucket{page="orders",le="2.5e-05"}`: 1,
		`livesse_render_duration_seconds_bucket{page="orders",le="0.0001"}`:  2,
		`livesse_sent_events_total{page="orders"}`:                           4,
		`livesse_sent_bytes_total{page="orders"}`:                            156,
		`livesse_heartbeats_total{page="orders"}`:                            1,
		`livesse_resumes_total{mode="replay",page="orders"}`:                 2,
		`livesse_resumes_total{mode="render",page="orders"}`:                 1,
		`livesse_queued_jobs{page="orders"}`:                                 2,
		`livesse_queue_overflows_total{page="orders"}`:                       1,
		`livesse_fanout_duration_seconds_count{page="orders"}`:               2,
		`livesse_fanout_duration_seconds_bucket{page="orders",le="5e-05"}`:   1,
		`livesse_fanout_duration_seconds_bucket{page="orders",le="0.01"}`:    2,
		`livesse_fanout_connections_total{page="orders"}`:                    502,
	}
	for k, v := range want {
		got, ok := s[k]
		if !ok {
			t.Errorf("no sample %s", k)
			continue
		}
		if diff := got - v; diff > 1e-12 || diff < -1e-12 {
			t.Errorf("%s = %v, want %v", k, got, v)
		}
	}
	// Refusals appear only for the (action, reason) pairs that happened.
	is.Equal(series(s, "livesse_refused_requests_total{"), 3)
	// Actions: 2 of the page's × 2 origins × 2 outcomes, and the unknown one.
	is.Equal(series(s, "livesse_actions_total{"), 9)
}

// The metrics follow Prometheus's naming conventions.
func TestLint(t *testing.T) {
	is := is.New(t)
	reg := prometheus.NewRegistry()
	m := ltprom.New(reg)
	p := m.Page("p", []string{"A"})
	p.Refused("A", lt.RefusedGone)
	m.Published(10, false)
	is.NoErr(reg.Register(ltprom.ListenerCollector(&fakeListener{channel: "livesse", h: healthy()})))
	problems, err := testutil.GatherAndLint(reg)
	is.NoErr(err)
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

// Two pages count apart; a second New on the same registry shares the
// metrics of the first instead of failing.
func TestPagesAndRegistries(t *testing.T) {
	is := is.New(t)
	reg := prometheus.NewRegistry()
	a := ltprom.New(reg).Page("a", []string{"Go"})
	b := ltprom.New(reg).Page("b", []string{"Go"})
	a2 := ltprom.New(reg).Page("a", []string{"Go"}) // a second Handler of the same name
	a.Action("Go", true, lt.OutcomeOK, time.Millisecond)
	a2.Action("Go", true, lt.OutcomeOK, time.Millisecond)
	b.Action("Go", false, lt.OutcomeError, time.Millisecond)
	a.Streams(1, 1)
	a2.Streams(1, 1)
	b.Streams(1, 2)
	s := scrape(t, reg)
	is.Equal(s[`livesse_actions_total{action="Go",origin="client",outcome="ok",page="a"}`], 2.0)
	is.Equal(s[`livesse_actions_total{action="Go",origin="client",outcome="ok",page="b"}`], 0.0)
	is.Equal(s[`livesse_actions_total{action="Go",origin="server",outcome="error",page="b"}`], 1.0)
	is.Equal(s[`livesse_streams{page="a"}`], 2.0)
	is.Equal(s[`livesse_stream_tabs{page="b"}`], 2.0)

	// Another kind of collector under one of the names is a real conflict.
	other := prometheus.NewRegistry()
	other.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "livesse_streams", Help: "not ours"}))
	defer func() { is.True(recover() != nil) }() // New panics, as MustRegister does
	ltprom.New(other)
}

// Custom buckets reach every duration histogram.
func TestWithBuckets(t *testing.T) {
	is := is.New(t)
	reg := prometheus.NewRegistry()
	m := ltprom.New(reg, ltprom.WithBuckets(0.001, 1))
	p := m.Page("p", []string{"A"})
	p.Action("A", true, lt.OutcomeOK, 2*time.Millisecond)
	p.Rendered(time.Millisecond / 2)
	p.FanOut(1, 2*time.Second)
	m.Delivered(time.Millisecond / 2)
	s := scrape(t, reg)
	is.Equal(s[`livesse_action_duration_seconds_bucket{action="A",origin="client",page="p",le="0.001"}`], 0.0)
	is.Equal(s[`livesse_action_duration_seconds_bucket{action="A",origin="client",page="p",le="1"}`], 1.0)
	is.Equal(s[`livesse_render_duration_seconds_bucket{page="p",le="0.001"}`], 1.0)
	is.Equal(s[`livesse_fanout_duration_seconds_bucket{page="p",le="1"}`], 0.0)
	is.Equal(s[`livesse_pgnotify_delivery_lag_seconds_bucket{le="0.001"}`], 1.0)
	is.Equal(series(s, `livesse_render_duration_seconds_bucket{`), 3) // 0.001, 1, +Inf
}

// Calls from many goroutines at once all count (run with -race).
func TestConcurrentCalls(t *testing.T) {
	is := is.New(t)
	reg := prometheus.NewRegistry()
	m := ltprom.New(reg)
	p := m.Page("p", []string{"A", "B"})
	const workers, each = 8, 1000
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				p.Connections(1)
				p.Streams(1, 2)
				p.Action("A", w%2 == 0, lt.OutcomeOK, time.Duration(i)*time.Microsecond)
				p.Refused("B", lt.RefusedGone) // the first ones race to make the counter
				p.Sent(1, 10)
				p.Queued(1)
				p.Queued(-1)
				m.Published(100, i%2 == 0)
				m.Delivered(time.Millisecond)
			}
		})
	}
	wg.Wait()
	s := scrape(t, reg)
	is.Equal(s[`livesse_connections{page="p"}`], float64(workers*each))
	is.Equal(s[`livesse_stream_tabs{page="p"}`], float64(2*workers*each))
	is.Equal(s[`livesse_actions_total{action="A",origin="client",outcome="ok",page="p"}`], float64(workers/2*each))
	is.Equal(s[`livesse_actions_total{action="A",origin="server",outcome="ok",page="p"}`], float64(workers/2*each))
	is.Equal(s[`livesse_refused_requests_total{action="B",page="p",reason="gone"}`], float64(workers*each))
	is.Equal(s[`livesse_sent_bytes_total{page="p"}`], float64(10*workers*each))
	is.Equal(s[`livesse_queued_jobs{page="p"}`], 0.0)
	is.Equal(s[`livesse_pgnotify_published_messages_total{via="table"}`], float64(workers*each/2))
	is.Equal(s[`livesse_pgnotify_published_bytes_total{via="notify"}`], float64(100*workers*each/2))
	is.Equal(s[`livesse_pgnotify_delivery_lag_seconds_count`], float64(workers*each))
}

func TestPgnotifyMetrics(t *testing.T) {
	is := is.New(t)
	reg := prometheus.NewRegistry()
	var m pgnotify.Metrics = ltprom.New(reg)
	m.Published(700, false)
	m.Published(9000, true)
	m.Published(20000, true)
	m.Delivered(300 * time.Microsecond)
	m.Delivered(-time.Millisecond) // clocks that disagree: counted as no lag
	s := scrape(t, reg)
	is.Equal(s[`livesse_pgnotify_published_messages_total{via="notify"}`], 1.0)
	is.Equal(s[`livesse_pgnotify_published_messages_total{via="table"}`], 2.0)
	is.Equal(s[`livesse_pgnotify_published_bytes_total{via="notify"}`], 700.0)
	is.Equal(s[`livesse_pgnotify_published_bytes_total{via="table"}`], 29000.0)
	is.Equal(s[`livesse_pgnotify_delivery_lag_seconds_count`], 2.0)
	is.Equal(s[`livesse_pgnotify_delivery_lag_seconds_bucket{le="2.5e-05"}`], 1.0)
	is.Equal(s[`livesse_pgnotify_delivery_lag_seconds_bucket{le="0.0005"}`], 2.0)
	is.Equal(s[`livesse_pgnotify_delivery_lag_seconds_sum`], 0.0003)
}

// fakeListener reports a fixed Health, and the deadline it was given.
type fakeListener struct {
	channel string
	h       pgnotify.Health
	err     error

	mu       sync.Mutex
	calls    int
	deadline time.Duration // left on the context of the last call
}

func (f *fakeListener) Channel() string { return f.channel }

func (f *fakeListener) Health(ctx context.Context) (pgnotify.Health, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if d, ok := ctx.Deadline(); ok {
		f.deadline = time.Until(d)
	}
	return f.h, f.err
}

func healthy() pgnotify.Health {
	return pgnotify.Health{
		Instance: "a", Channel: "livesse", Connected: true, LastPing: time.Unix(1700000000, 500000000),
		Reconnects: 1, Received: 10, Delivered: 7, Dropped: 1, Unauthenticated: 2, Stale: 3, Replayed: 4,
		Malformed: 5, Resyncs: 6, QueueUsage: 0.25, Peers: []string{"b", "c"},
		LargeMessages: 3, LargeBytes: 30000,
	}
}

// A registered Listener's Health is read once per scrape, within the
// timeout, and reported under its channel.
func TestListenerCollector(t *testing.T) {
	is := is.New(t)
	reg := prometheus.NewPedanticRegistry()
	m := ltprom.New(reg, ltprom.WithHealthTimeout(time.Minute))
	l := &fakeListener{channel: "livesse", h: healthy()}
	is.NoErr(m.RegisterListener(l))
	s := scrape(t, reg)
	is.Equal(l.calls, 1)                                              // one Health per scrape
	is.True(l.deadline > 50*time.Second && l.deadline <= time.Minute) // WithHealthTimeout bounds it
	want := map[string]float64{
		`livesse_pgnotify_connected{channel="livesse"}`:                              1,
		`livesse_pgnotify_last_ping_timestamp_seconds{channel="livesse"}`:            1700000000.5,
		`livesse_pgnotify_reconnects_total{channel="livesse"}`:                       1,
		`livesse_pgnotify_received_total{channel="livesse"}`:                         10,
		`livesse_pgnotify_delivered_total{channel="livesse"}`:                        7,
		`livesse_pgnotify_dropped_total{channel="livesse"}`:                          1,
		`livesse_pgnotify_refused_total{channel="livesse",reason="unauthenticated"}`: 2,
		`livesse_pgnotify_refused_total{channel="livesse",reason="stale"}`:           3,
		`livesse_pgnotify_refused_total{channel="livesse",reason="replayed"}`:        4,
		`livesse_pgnotify_refused_total{channel="livesse",reason="malformed"}`:       5,
		`livesse_pgnotify_resyncs_total{channel="livesse"}`:                          6,
		`livesse_pgnotify_queue_usage_ratio{channel="livesse"}`:                      0.25,
		`livesse_pgnotify_peers{channel="livesse"}`:                                  2,
		`livesse_pgnotify_large_messages{channel="livesse"}`:                         3,
		`livesse_pgnotify_large_messages_bytes{channel="livesse"}`:                   30000,
	}
	for k, v := range want {
		got, ok := s[k]
		if !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, v)
		}
	}

	// Counters change between scrapes: each scrape reads Health anew.
	l.mu.Lock()
	l.h.Delivered, l.h.Connected = 8, false
	l.mu.Unlock()
	s = scrape(t, reg)
	is.Equal(l.calls, 2)
	is.Equal(s[`livesse_pgnotify_delivered_total{channel="livesse"}`], 8.0)
	is.Equal(s[`livesse_pgnotify_connected{channel="livesse"}`], 0.0)

	// A second Listener on the same channel would collide; on another it
	// does not.
	var are prometheus.AlreadyRegisteredError
	is.True(errors.As(m.RegisterListener(&fakeListener{channel: "livesse", h: healthy()}), &are))
	is.NoErr(m.RegisterListener(&fakeListener{channel: "other", h: healthy()}))
	is.Equal(scrape(t, reg)[`livesse_pgnotify_delivered_total{channel="other"}`], 7.0)
}

// What Health could not read is left out, not reported as -1; the
// counters are still there.
func TestListenerCollectorPartialHealth(t *testing.T) {
	is := is.New(t)
	reg := prometheus.NewRegistry()
	h := healthy()
	h.QueueUsage, h.LargeMessages, h.LargeBytes, h.Connected = -1, -1, -1, false
	l := &fakeListener{channel: "livesse", h: h, err: pgnotify.ErrClosed}
	is.NoErr(reg.Register(ltprom.ListenerCollector(l)))
	s := scrape(t, reg)
	_, ok := s[`livesse_pgnotify_queue_usage_ratio{channel="livesse"}`]
	is.True(!ok)
	_, ok = s[`livesse_pgnotify_large_messages{channel="livesse"}`]
	is.True(!ok)
	_, ok = s[`livesse_pgnotify_large_messages_bytes{channel="livesse"}`]
	is.True(!ok)
	is.Equal(s[`livesse_pgnotify_delivered_total{channel="livesse"}`], 7.0)
	is.Equal(s[`livesse_pgnotify_connected{channel="livesse"}`], 0.0)
	is.True(l.deadline > time.Second && l.deadline <= 2*time.Second) // the default timeout
}

// The hot-path methods allocate nothing, once a refusal's counter exists.
func TestNoAllocations(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := ltprom.New(reg)
	p := m.Page("p", []string{"A", "B", "C", "D", "E"})
	p.Refused("C", lt.RefusedForeign)
	calls := map[string]func(){
		"Connections": func() { p.Connections(1) },
		"Streams":     func() { p.Streams(1, 1) },
		"Action":      func() { p.Action("D", true, lt.OutcomeOK, time.Millisecond) },
		"Refused":     func() { p.Refused("C", lt.RefusedForeign) },
		"Rendered":    func() { p.Rendered(time.Millisecond) },
		"Sent":        func() { p.Sent(1, 54) },
		"Heartbeat":   func() { p.Heartbeat() },
		"Resumed":     func() { p.Resumed(true) },
		"Queued":      func() { p.Queued(1) },
		"Overflowed":  func() { p.Overflowed() },
		"FanOut":      func() { p.FanOut(10, time.Millisecond) },
		"Published":   func() { m.Published(100, false) },
		"Delivered":   func() { m.Delivered(time.Millisecond) },
	}
	for name, f := range calls {
		if n := testing.AllocsPerRun(1000, f); n != 0 {
			t.Errorf("%s: %v allocations per call", name, n)
		}
	}
}

func BenchmarkPageMetrics(b *testing.B) {
	m := ltprom.New(prometheus.NewRegistry())
	p := m.Page("p", []string{"AddItem", "Decrement", "Increment", "Refresh", "Remove", "Reset", "Save", "Tick"})
	p.Refused("Save", lt.RefusedTooLarge)
	for _, bc := range []struct {
		name string
		f    func()
	}{
		{"Connections", func() { p.Connections(1) }},
		{"Streams", func() { p.Streams(1, 1) }},
		{"Action", func() { p.Action("Save", true, lt.OutcomeOK, 300*time.Microsecond) }},
		{"Refused", func() { p.Refused("Save", lt.RefusedTooLarge) }},
		{"Rendered", func() { p.Rendered(40 * time.Microsecond) }},
		{"Sent", func() { p.Sent(1, 54) }},
		{"Heartbeat", func() { p.Heartbeat() }},
		{"Resumed", func() { p.Resumed(true) }},
		{"Queued", func() { p.Queued(1) }},
		{"FanOut", func() { p.FanOut(500, 8*time.Millisecond) }},
		{"Published", func() { m.Published(100, false) }},
		{"Delivered", func() { m.Delivered(200 * time.Microsecond) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bc.f()
			}
		})
	}
	b.Run("Sent/parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				p.Sent(1, 54)
			}
		})
	})
}
