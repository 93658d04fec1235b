package pgnotify_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livesse/livesse/internal/test/pgtest"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/livesse/livesse/pgnotify"
)

// Figures for docs/performance.md; run against a local PostgreSQL:
//
//	pg_virtualenv -t go test -run '^$' -bench . -benchtime 2000x ./pgnotify/

// stamper is a Subscriber that reports each delivery's time.
type stamper struct{ at chan time.Time }

func (s stamper) Deliver(lt.Message) { s.at <- time.Now() }
func (s stamper) Resync()            {}

// reportLatencies reports the median and 99th percentile of d.
func reportLatencies(b *testing.B, d []time.Duration) {
	slices.Sort(d)
	ms := func(q float64) float64 { return float64(d[int(q*float64(len(d)-1))]) / 1e6 }
	b.ReportMetric(ms(0.5), "p50-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
	b.ReportMetric(ms(1), "max-ms")
}

// Publish on instance a to Deliver on instance b, one message in flight.
func BenchmarkCrossInstancePublishToDeliver(b *testing.B) {
	for _, batched := range []bool{false, true} {
		b.Run(fmt.Sprintf("batched=%t", batched), func(b *testing.B) { publishToDeliver(b, batched) })
	}
}

func publishToDeliver(b *testing.B, batched bool) {
	pgtest.Require(b)
	db := pgtest.Pool(b)
	var opts []pgnotify.Option
	if !batched {
		opts = append(opts, pgnotify.WithoutBatches())
	}
	a := newListener(b, db, "a", opts...)
	l := newListener(b, db, "b")
	s := stamper{at: make(chan time.Time, 1)}
	defer l.Subscribe(s)()
	ctx := b.Context()
	m := lt.Must(lt.ServerAction("page", lt.ToSession, "anon:0123456789abcdef", "tick", map[string]any{"n": 1}))
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		if err := a.Publish(ctx, m); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, (<-s.at).Sub(t0))
	}
	b.StopTimer()
	reportLatencies(b, lat)
}

// TriggerAll on instance a to the event on a tab's SSE stream on instance
// b (read by lttest's client), one action in flight.
func BenchmarkCrossInstanceTriggerToStream(b *testing.B) {
	pgtest.Require(b)
	db := newDB(b)
	a := newInstance(b, db, "a")
	bi := newInstance(b, db, "b")
	tab := lttest.Open(b, bi.URL+"/page")
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		t0 := time.Now()
		if err := a.H.TriggerAll(context.Background(), "set_msg", map[string]any{"msg": "m" + strconv.Itoa(i)}); err != nil {
			b.Fatal(err)
		}
		tab.WaitFor("msg=m" + strconv.Itoa(i) + "<")
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	reportLatencies(b, lat)
}

// Sustained rate through one listener: b.N distinct notifications,
// sealed by instance a beforehand, committed at once (one statement), then
// read, authenticated, checked for replay, decoded and delivered. The
// hand-off queue holds them all, so the figure is the delivering side's
// rate; with the default queue (16384) a burst much larger than that is
// partly dropped, and resynced.
func BenchmarkListenerThroughput(b *testing.B) {
	pgtest.Require(b)
	db := pgtest.Pool(b)
	a := newListener(b, db, "a")
	l := newListener(b, db, "b", pgnotify.WithQueueSize(max(b.N, 16384)))
	payloads := make([]string, b.N)
	for i := range payloads {
		p, err := a.SealMessage(lt.Must(lt.ServerAction("", lt.ToSession, "anon:0123456789abcdef", "tick", map[string]any{"n": i})))
		if err != nil {
			b.Fatal(err)
		}
		payloads[i] = p
	}
	deliver := counted(b, l)
	b.ResetTimer()
	t0 := time.Now()
	_, err := db.Exec(b.Context(), `SELECT pg_notify('livesse', p) FROM unnest($1::text[]) AS p`, payloads)
	if err != nil {
		b.Fatal(err)
	}
	deliver(t0)
	h, _ := l.Health(b.Context())
	b.ReportMetric(float64(h.Dropped), "dropped")
}

// counted subscribes to l and returns what waits until b.N messages are
// delivered and reports their rate since t0.
func counted(b *testing.B, l *pgnotify.Listener) (wait func(t0 time.Time)) {
	var n atomic.Int64
	done := make(chan struct{})
	b.Cleanup(l.Subscribe(counter{n: &n, total: int64(b.N), done: done}))
	return func(t0 time.Time) {
		select {
		case <-done:
		case <-time.After(time.Minute):
			b.Fatalf("delivered %d of %d", n.Load(), b.N)
		}
		b.StopTimer()
		b.ReportMetric(float64(b.N)/time.Since(t0).Seconds(), "msgs/s")
	}
}

// The same from SQL: b.N lt_notify calls in one statement, each signed by
// the database (HMAC-SHA256 in SQL), verified by the listener.
func BenchmarkSQLNotifyThroughput(b *testing.B) {
	pgtest.Require(b)
	db := newDB(b)
	l := newListener(b, db, "b", pgnotify.WithQueueSize(max(b.N, 16384)))
	deliver := counted(b, l)
	b.ResetTimer()
	t0 := time.Now()
	_, err := db.Exec(b.Context(), `SELECT lt_notify('tick', 'group', 'anon:0123456789abcdef', jsonb_build_object('n', g)) FROM generate_series(1, $1) AS g`, b.N)
	if err != nil {
		b.Fatal(err)
	}
	sent := time.Since(t0)
	deliver(t0)
	b.ReportMetric(float64(sent.Microseconds())/float64(b.N), "sql-µs/msg")
}

// Sustained rate with the sending side included: publishers goroutines
// Publish on instance a, one listener on b; batched (the default: each
// statement sends what was queued while the last one ran) and each message
// in a statement (its own transaction) of its own, alternately.
func BenchmarkPublishThroughput(b *testing.B) {
	for _, publishers := range []int{8, 64} {
		for _, batched := range []bool{false, true} {
			name := fmt.Sprintf("publishers=%d/batched=%t", publishers, batched)
			b.Run(name, func(b *testing.B) { publishThroughput(b, publishers, batched) })
		}
	}
}

func publishThroughput(b *testing.B, publishers int, batched bool) {
	pgtest.Require(b)
	db := pgtest.Pool(b)
	var opts []pgnotify.Option
	if !batched {
		opts = append(opts, pgnotify.WithoutBatches())
	}
	a := newListener(b, db, "a", opts...)
	l := newListener(b, db, "b", pgnotify.WithQueueSize(max(b.N, 16384)))
	var n atomic.Int64
	done := make(chan struct{})
	defer l.Subscribe(counter{n: &n, total: int64(b.N), done: done})()
	var seq atomic.Int64
	b.SetParallelism(max(1, publishers/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	t0 := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m := lt.Must(lt.ServerAction("page", lt.ToAll, "", "tick", map[string]any{"n": seq.Add(1)}))
			if err := a.Publish(b.Context(), m); err != nil {
				b.Error(err)
				return
			}
		}
	})
	sent := time.Since(t0)
	select {
	case <-done:
	case <-time.After(time.Minute):
		b.Fatalf("delivered %d of %d", n.Load(), b.N)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(t0).Seconds(), "msgs/s")
	b.ReportMetric(float64(b.N)/sent.Seconds(), "sent/s")
	if h, _ := a.Health(b.Context()); h.Batches > 0 {
		b.ReportMetric(float64(h.Published)/float64(h.Batches), "msgs/batch")
	}
}

// counter is a Subscriber that closes done at the total-th delivery.
type counter struct {
	n     *atomic.Int64
	total int64
	done  chan struct{}
}

func (c counter) Deliver(lt.Message) {
	if c.n.Add(1) == c.total {
		close(c.done)
	}
}
func (c counter) Resync() {}

// Instances on one PostgreSQL: n instances (each a Listener with its own
// pool and LISTEN connection, in this process), 64 goroutines publishing
// server actions for every instance (lt.ToAll), spread over the
// instances; each message reaches the n-1 others. msgs/s counts messages
// published, deliveries/s their deliveries, both until the last delivery.
func BenchmarkInstances(b *testing.B) {
	for _, n := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("instances=%d", n), func(b *testing.B) { instances(b, n) })
	}
}

func instances(b *testing.B, n int) {
	pgtest.Require(b)
	db := pgtest.Pool(b)
	ls := make([]*pgnotify.Listener, n)
	var delivered atomic.Int64
	want := int64(b.N * (n - 1))
	done := make(chan struct{})
	if want == 0 {
		close(done)
	}
	for i := range ls {
		ls[i] = newListener(b, db, fmt.Sprintf("i%d", i), pgnotify.WithQueueSize(max(b.N, 16384)))
		b.Cleanup(ls[i].Subscribe(counter{n: &delivered, total: want, done: done}))
	}
	var seq atomic.Int64
	b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	t0 := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k := seq.Add(1)
			m := lt.Must(lt.ServerAction("page", lt.ToAll, "", "tick", map[string]any{"n": k}))
			if err := ls[int(k)%n].Publish(b.Context(), m); err != nil {
				b.Error(err)
				return
			}
		}
	})
	select {
	case <-done:
	case <-time.After(time.Minute):
		b.Fatalf("delivered %d of %d", delivered.Load(), want)
	}
	b.StopTimer()
	d := time.Since(t0).Seconds()
	b.ReportMetric(float64(b.N)/d, "msgs/s")
	b.ReportMetric(float64(want)/d, "deliveries/s")
	var dropped int64
	for _, l := range ls {
		h, _ := l.Health(b.Context())
		dropped += h.Dropped
	}
	b.ReportMetric(float64(dropped), "dropped")
}
