package ltotel_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/ltotel"
	"github.com/livesse/livesse/pgnotify"
	"github.com/matryer/is"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

var (
	pageA = ltotel.PageKey.String("a")
	pageB = ltotel.PageKey.String("b")
)

func action(name string) attribute.KeyValue  { return ltotel.ActionKey.String(name) }
func reasonAttr(r string) attribute.KeyValue { return ltotel.ReasonKey.String(r) }

// timed are the attributes of an action's duration.
func timed(page attribute.KeyValue, name, origin string) []attribute.KeyValue {
	return []attribute.KeyValue{page, action(name), ltotel.OriginKey.String(origin)}
}

func ran(page attribute.KeyValue, name, source, outcome string) []attribute.KeyValue {
	return []attribute.KeyValue{page, action(name), ltotel.OriginKey.String(source), ltotel.OutcomeKey.String(outcome)}
}

// Every PageMetrics method lands on its instrument with the page's
// attributes, and two pages of one Metrics stay apart.
func TestPageMetricsReachTheirInstruments(t *testing.T) {
	is := is.New(t)
	m, r := newMetrics(t)
	a := m.Page("a", []string{"Increment", "AddItem", "Increment"}) // a duplicate is harmless
	b := m.Page("b", []string{"Refresh"})

	a.Connections(3)
	a.Connections(-1)
	b.Connections(1)
	a.Streams(1, 1) // a stream opens with its tab
	a.Streams(0, 2) // two more tabs join it
	a.Streams(1, 1)
	a.Streams(-1, -3) // the first closes
	a.Action("Increment", true, lt.OutcomeOK, 2*time.Millisecond)
	a.Action("Increment", true, lt.OutcomeOK, 4*time.Millisecond)
	a.Action("Increment", false, lt.OutcomeOK, time.Millisecond)
	a.Action("AddItem", true, lt.OutcomeError, 3*time.Second)
	b.Action("Refresh", false, lt.OutcomeOK, time.Millisecond)
	a.Refused("AddItem", lt.RefusedTooLarge)
	a.Refused("AddItem", lt.RefusedTooLarge)
	a.Refused("", lt.RefusedCrossSite)
	a.Refused("Increment", lt.RefusedQueueFull)
	a.Rendered(100 * time.Microsecond)
	a.Rendered(300 * time.Microsecond)
	a.Sent(1, 40)
	a.Sent(3, 200)
	b.Sent(1, 7)
	a.Heartbeat()
	a.Heartbeat()
	a.Resumed(true)
	a.Resumed(false)
	a.Resumed(false)
	a.Queued(5)
	a.Queued(-2)
	a.Overflowed()
	a.FanOut(10, 5*time.Millisecond)
	a.FanOut(20, 15*time.Millisecond)

	rd := collect(t, r)
	is.Equal(rd.count("livesse.connections", pageA), int64(2))
	is.Equal(rd.count("livesse.connections", pageB), int64(1))
	is.Equal(rd.count("livesse.streams", pageA), int64(1))
	is.Equal(rd.count("livesse.stream.tabs", pageA), int64(1))

	inc := hist[float64](rd, "livesse.action.duration", timed(pageA, "Increment", "client")...)
	is.Equal(inc.Count, uint64(2))
	is.True(math.Abs(inc.Sum-0.006) < 1e-9) // seconds
	is.Equal(hist[float64](rd, "livesse.action.duration", timed(pageA, "Increment", "server")...).Count, uint64(1))
	add := hist[float64](rd, "livesse.action.duration", timed(pageA, "AddItem", "client")...)
	is.Equal(add.Count, uint64(1))
	is.Equal(add.Sum, 3.0)
	is.Equal(hist[float64](rd, "livesse.action.duration", timed(pageB, "Refresh", "server")...).Count, uint64(1))
	is.Equal(histPoints(rd, "livesse.action.duration"), 4) // nothing else
	is.Equal(rd.metric("livesse.action.duration").Unit, "s")
	is.Equal(rd.count("livesse.actions", ran(pageA, "Increment", "client", "ok")...), int64(2))
	is.Equal(rd.count("livesse.actions", ran(pageA, "Increment", "server", "ok")...), int64(1))
	is.Equal(rd.count("livesse.actions", ran(pageA, "AddItem", "client", "error")...), int64(1))
	is.Equal(rd.count("livesse.actions", ran(pageB, "Refresh", "server", "ok")...), int64(1))
	is.Equal(len(rd.metric("livesse.actions").Data.(metricdata.Sum[int64]).DataPoints), 4) // none that did not happen

	is.Equal(rd.count("livesse.refused_requests", pageA, action("AddItem"), reasonAttr(lt.RefusedTooLarge)), int64(2))
	is.Equal(rd.count("livesse.refused_requests", pageA, reasonAttr(lt.RefusedCrossSite)), int64(1))
	is.Equal(rd.count("livesse.refused_requests", pageA, action("Increment"), reasonAttr(lt.RefusedQueueFull)), int64(1))

	render := hist[float64](rd, "livesse.render.duration", pageA)
	is.Equal(render.Count, uint64(2))
	is.True(math.Abs(render.Sum-0.0004) < 1e-12)
	is.Equal(rd.count("livesse.sent.events", pageA), int64(4))
	is.Equal(rd.count("livesse.sent.bytes", pageA), int64(240))
	is.Equal(rd.count("livesse.sent.bytes", pageB), int64(7))
	is.Equal(rd.metric("livesse.sent.bytes").Unit, "By")
	is.Equal(rd.count("livesse.heartbeats", pageA), int64(2))
	is.Equal(rd.count("livesse.resumes", pageA, ltotel.ResumeModeKey.String("replay")), int64(1))
	is.Equal(rd.count("livesse.resumes", pageA, ltotel.ResumeModeKey.String("render")), int64(2))
	is.Equal(rd.count("livesse.queued_jobs", pageA), int64(3))
	is.Equal(rd.count("livesse.queue.overflows", pageA), int64(1))
	fan := hist[float64](rd, "livesse.fanout.duration", pageA)
	is.Equal(fan.Count, uint64(2))
	is.True(math.Abs(fan.Sum-0.02) < 1e-12)
	is.Equal(rd.count("livesse.fanout.connections", pageA), int64(30))

	// Counters are monotonic, up-down counters not.
	for name, monotonic := range map[string]bool{"livesse.connections": false, "livesse.streams": false, "livesse.queued_jobs": false, "livesse.heartbeats": true, "livesse.refused_requests": true} {
		s := rd.metric(name).Data.(metricdata.Sum[int64])
		is.Equal(s.IsMonotonic, monotonic) // name
		is.Equal(s.Temporality, metricdata.CumulativeTemporality)
	}
}

// A name the page did not announce is measured without livesse.action
// (lt reports none, and a name must never add series); an outcome or a
// reason lt does not define is measured as it is.
func TestPageMetricsUnannouncedValues(t *testing.T) {
	is := is.New(t)
	m, r := newMetrics(t)
	p := m.Page("a", []string{"Increment"})
	p.Action("Other", true, lt.OutcomeOK, time.Millisecond)
	p.Action("Increment", true, "cancelled", time.Millisecond)
	p.Action("Else", false, "cancelled", time.Millisecond)
	p.Refused("Other", lt.RefusedGone)
	p.Refused("Increment", "new_reason")
	p.Refused("", "new_reason")

	rd := collect(t, r)
	noAction := func(origin, outcome string) []attribute.KeyValue {
		return []attribute.KeyValue{pageA, ltotel.OriginKey.String(origin), ltotel.OutcomeKey.String(outcome)}
	}
	is.Equal(hist[float64](rd, "livesse.action.duration", pageA, ltotel.OriginKey.String("client")).Count, uint64(1))
	is.Equal(rd.count("livesse.actions", noAction("client", "ok")...), int64(1))
	is.Equal(hist[float64](rd, "livesse.action.duration", timed(pageA, "Increment", "client")...).Count, uint64(1))
	is.Equal(rd.count("livesse.actions", ran(pageA, "Increment", "client", "cancelled")...), int64(1))
	is.Equal(hist[float64](rd, "livesse.action.duration", pageA, ltotel.OriginKey.String("server")).Count, uint64(1))
	is.Equal(rd.count("livesse.actions", noAction("server", "cancelled")...), int64(1))
	is.Equal(rd.count("livesse.refused_requests", pageA, reasonAttr(lt.RefusedGone)), int64(1))
	is.Equal(rd.count("livesse.refused_requests", pageA, action("Increment"), reasonAttr("new_reason")), int64(1))
	is.Equal(rd.count("livesse.refused_requests", pageA, reasonAttr("new_reason")), int64(1))
	for _, name := range []string{"livesse.actions", "livesse.refused_requests"} {
		for _, dp := range rd.metric(name).Data.(metricdata.Sum[int64]).DataPoints {
			v, _ := dp.Attributes.Value(ltotel.ActionKey)
			is.True(v.AsString() != "Other" && v.AsString() != "Else") // no series of its own
		}
	}
}

// Each of lt's Refused reasons is counted under its own name, with and
// without an action.
func TestRefusedReasons(t *testing.T) {
	is := is.New(t)
	m, r := newMetrics(t)
	p := m.Page("a", []string{"Increment"})
	all := []string{lt.RefusedCrossSite, lt.RefusedUnauthorized, lt.RefusedBadRequest, lt.RefusedUnknownAction,
		lt.RefusedTooLarge, lt.RefusedForeign, lt.RefusedGone, lt.RefusedTooMany, lt.RefusedQueueFull,
		lt.RefusedUnavailable, lt.RefusedMount, lt.RefusedInternal}
	for i, reason := range all {
		for range i + 1 {
			p.Refused("", reason)
			p.Refused("Increment", reason)
			p.Refused("Increment", reason)
		}
	}
	rd := collect(t, r)
	for i, reason := range all {
		is.Equal(rd.count("livesse.refused_requests", pageA, reasonAttr(reason)), int64(i+1))                        // reason
		is.Equal(rd.count("livesse.refused_requests", pageA, action("Increment"), reasonAttr(reason)), int64(2*i+2)) // reason
	}
}

func TestPublishedAndDelivered(t *testing.T) {
	is := is.New(t)
	m, r := newMetrics(t)
	var pm pgnotify.Metrics = m
	pm.Published(100, false)
	pm.Published(300, false)
	pm.Published(20000, true)
	pm.Delivered(2 * time.Millisecond)
	pm.Delivered(6 * time.Millisecond)
	pm.Delivered(-time.Millisecond) // clocks that disagree: counted as 0

	rd := collect(t, r)
	notify, table := ltotel.ViaKey.String("notify"), ltotel.ViaKey.String("table")
	is.Equal(rd.count("livesse.pgnotify.published.messages", notify), int64(2))
	is.Equal(rd.count("livesse.pgnotify.published.messages", table), int64(1))
	is.Equal(rd.count("livesse.pgnotify.published.bytes", notify), int64(400))
	is.Equal(rd.count("livesse.pgnotify.published.bytes", table), int64(20000))
	is.Equal(rd.metric("livesse.pgnotify.published.bytes").Unit, "By")
	lag := hist[float64](rd, "livesse.pgnotify.delivery.lag")
	is.Equal(lag.Count, uint64(3))
	is.True(math.Abs(lag.Sum-0.008) < 1e-12)
	v, _ := lag.Min.Value()
	is.Equal(v, 0.0)
	is.Equal(rd.metric("livesse.pgnotify.delivery.lag").Unit, "s")
}

// fakeListener reports a Health with a distinct value in every field.
type fakeListener struct {
	h   pgnotify.Health
	err error
}

func (f *fakeListener) Health(context.Context) (pgnotify.Health, error) { return f.h, f.err }

func TestObserveListenerReadsHealth(t *testing.T) {
	is := is.New(t)
	m, r := newMetrics(t)
	l := &fakeListener{h: pgnotify.Health{
		Instance: "one", Channel: "livesse", Connected: true,
		Reconnects: 2, Received: 3, Delivered: 4, Dropped: 5, Unauthenticated: 6,
		Stale: 7, Replayed: 8, Malformed: 9, Resyncs: 10, QueueUsage: 0.25,
		LargeMessages: 11, LargeBytes: 12000, LastPing: time.Unix(1700000000, 500_000_000),
		Peers: []string{"two", "three"},
	}}
	reg, err := m.ObserveListener(l)
	is.NoErr(err)
	other := &fakeListener{h: pgnotify.Health{Instance: "two", Channel: "livesse", Reconnects: 1, QueueUsage: 0.5, LargeMessages: -1, LargeBytes: -1}}
	reg2, err := m.ObserveListener(other)
	is.NoErr(err)

	one := []attribute.KeyValue{ltotel.InstanceKey.String("one"), ltotel.ChannelKey.String("livesse")}
	two := []attribute.KeyValue{ltotel.InstanceKey.String("two"), ltotel.ChannelKey.String("livesse")}
	rd := collect(t, r)
	v, _ := gauge[int64](rd, "livesse.pgnotify.connected", one...)
	is.Equal(v, int64(1))
	v, _ = gauge[int64](rd, "livesse.pgnotify.connected", two...)
	is.Equal(v, int64(0))
	v, _ = gauge[int64](rd, "livesse.pgnotify.peers", one...)
	is.Equal(v, int64(2))
	u, _ := gauge[float64](rd, "livesse.pgnotify.queue.usage", one...)
	is.Equal(u, 0.25)
	is.Equal(rd.metric("livesse.pgnotify.queue.usage").Unit, "1")
	u, _ = gauge[float64](rd, "livesse.pgnotify.last_ping.timestamp", one...)
	is.Equal(u, 1700000000.5)
	v, _ = gauge[int64](rd, "livesse.pgnotify.large_messages", one...)
	is.Equal(v, int64(11))
	v, _ = gauge[int64](rd, "livesse.pgnotify.large_messages.bytes", one...)
	is.Equal(v, int64(12000))
	_, ok := gauge[int64](rd, "livesse.pgnotify.large_messages", two...)
	is.True(!ok) // -1: unknown, left out
	_, ok = gauge[float64](rd, "livesse.pgnotify.last_ping.timestamp", two...)
	is.True(!ok) // never pinged
	for name, want := range map[string]int64{
		"livesse.pgnotify.reconnects": 2, "livesse.pgnotify.received": 3, "livesse.pgnotify.delivered": 4,
		"livesse.pgnotify.dropped": 5, "livesse.pgnotify.resyncs": 10,
	} {
		is.Equal(rd.count(name, one...), want) // name
		s := rd.metric(name).Data.(metricdata.Sum[int64])
		is.True(s.IsMonotonic) // name
	}
	is.Equal(rd.count("livesse.pgnotify.reconnects", two...), int64(1))
	for reason, want := range map[string]int64{"unauthenticated": 6, "stale": 7, "replayed": 8, "malformed": 9} {
		is.Equal(rd.count("livesse.pgnotify.refused", append(one, reasonAttr(reason))...), want) // reason
	}

	// Later collections read the Listener again.
	l.h.Delivered, l.h.Connected = 40, false
	rd = collect(t, r)
	is.Equal(rd.count("livesse.pgnotify.delivered", one...), int64(40))
	v, _ = gauge[int64](rd, "livesse.pgnotify.connected", one...)
	is.Equal(v, int64(0))

	// The queue's usage unknown: left out, the rest reported, the error
	// returned.
	boom := errors.New("database unreachable")
	l.h.QueueUsage, l.err = -1, boom
	rd = collectErr(t, r)
	is.True(errors.Is(rd.err, boom))
	_, ok = gauge[float64](rd, "livesse.pgnotify.queue.usage", one...)
	is.True(!ok)
	is.Equal(rd.count("livesse.pgnotify.delivered", one...), int64(40))

	// A closed Listener reports its final counters, and no error.
	l.h.QueueUsage, l.err = -1, pgnotify.ErrClosed
	rd = collect(t, r)
	is.Equal(rd.count("livesse.pgnotify.delivered", one...), int64(40))

	// Unregistered, a Listener is no longer read.
	is.NoErr(reg.Unregister())
	is.NoErr(reg2.Unregister())
	rd = collect(t, r)
	if m, ok := rd.metrics["livesse.pgnotify.delivered"]; ok {
		is.Equal(len(m.Data.(metricdata.Sum[int64]).DataPoints), 0)
	}
}

// The hot-path methods allocate nothing (on the SDK), so that a fan-out to
// 10,000 tabs, which calls Sent 10,000 times, costs no garbage.
func TestHotPathsDoNotAllocate(t *testing.T) {
	m, _ := newMetrics(t)
	p := m.Page("a", []string{"AddItem", "Increment", "Refresh"})
	var pm pgnotify.Metrics = m
	for name, f := range map[string]func(){
		"Connections": func() { p.Connections(1) },
		"Streams":     func() { p.Streams(1, 2) },
		"Action":      func() { p.Action("Increment", true, lt.OutcomeOK, time.Millisecond) },
		"ActionError": func() { p.Action("Refresh", false, lt.OutcomeError, time.Millisecond) },
		"Refused":     func() { p.Refused("AddItem", lt.RefusedGone) },
		"RefusedNone": func() { p.Refused("", lt.RefusedInternal) },
		"Rendered":    func() { p.Rendered(time.Microsecond) },
		"Sent":        func() { p.Sent(1, 60) },
		"Heartbeat":   p.Heartbeat,
		"Resumed":     func() { p.Resumed(true) },
		"Queued":      func() { p.Queued(1) },
		"Overflowed":  p.Overflowed,
		"FanOut":      func() { p.FanOut(100, time.Millisecond) },
		"Published":   func() { pm.Published(500, false) },
		"Delivered":   func() { pm.Delivered(time.Millisecond) },
	} {
		f() // the SDK makes a point's storage on its first measurement
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s: %v allocations per call, want 0", name, n)
		}
	}
}

// NewMetrics(nil) uses the global MeterProvider (a no-op one until set).
func TestNewMetricsDefaults(t *testing.T) {
	is := is.New(t)
	m, err := ltotel.NewMetrics(nil)
	is.NoErr(err)
	m.Page("a", nil).Connections(1) // measures nothing, fails nothing
	m2, err := ltotel.NewMetrics(noop.NewMeterProvider())
	is.NoErr(err)
	m2.Page("a", []string{"X"}).Action("X", true, lt.OutcomeOK, 0)
}

// A View can replace the histograms' buckets, which are in seconds.
func TestActionBucketsAreSeconds(t *testing.T) {
	is := is.New(t)
	m, r := newMetrics(t)
	m.Page("a", []string{"X"}).Action("X", true, lt.OutcomeOK, 3*time.Millisecond)
	dp := hist[float64](collect(t, r), "livesse.action.duration", timed(pageA, "X", "client")...)
	is.True(len(dp.Bounds) > 8)
	is.True(dp.Bounds[0] <= 0.001) // sub-millisecond actions are told apart
	is.True(dp.Bounds[len(dp.Bounds)-1] >= 5)
	// 3 ms falls in the bucket (2.5 ms, 5 ms]
	for i, b := range dp.Bounds {
		if b >= 0.003 {
			is.Equal(dp.BucketCounts[i], uint64(1))
			break
		}
	}
}

func BenchmarkPageMetrics(b *testing.B) {
	m, _ := newMetrics(b)
	p := m.Page("a", []string{"AddItem", "Increment", "Refresh", "Remove", "Sort"})
	b.Run("Sent", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p.Sent(1, 60)
		}
	})
	b.Run("Action", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p.Action("Remove", true, lt.OutcomeOK, time.Millisecond)
		}
	})
	b.Run("Refused", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p.Refused("Sort", lt.RefusedTooMany)
		}
	})
	b.Run("Rendered", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p.Rendered(50 * time.Microsecond)
		}
	})
	b.Run("SentParallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				p.Sent(1, 60)
			}
		})
	})
}

// Two Handlers of one name are measured as one page; a page with nothing
// counted yet reports zeros, and no refusal series.
func TestPagesOfOneNameAdd(t *testing.T) {
	is := is.New(t)
	m, r := newMetrics(t)
	a1 := m.Page("a", []string{"Increment"})
	a2 := m.Page("a", []string{"Increment", "Reset"})
	m.Page("idle", []string{"Increment"})
	a1.Connections(2)
	a2.Connections(3)
	a1.Sent(1, 10)
	a2.Sent(2, 20)
	a1.Refused("Increment", lt.RefusedGone)
	a2.Refused("Increment", lt.RefusedGone)
	a2.Refused("Reset", lt.RefusedGone)

	rd := collect(t, r)
	is.Equal(rd.count("livesse.connections", pageA), int64(5))
	is.Equal(rd.count("livesse.sent.bytes", pageA), int64(30))
	is.Equal(rd.count("livesse.refused_requests", pageA, action("Increment"), reasonAttr(lt.RefusedGone)), int64(2))
	is.Equal(rd.count("livesse.refused_requests", pageA, action("Reset"), reasonAttr(lt.RefusedGone)), int64(1))
	idle := ltotel.PageKey.String("idle")
	is.Equal(rd.count("livesse.connections", idle), int64(0))
	is.Equal(rd.count("livesse.sent.events", idle), int64(0))
	is.Equal(rd.count("livesse.resumes", idle, ltotel.ResumeModeKey.String("replay")), int64(0))
	for _, dp := range rd.metric("livesse.refused_requests").Data.(metricdata.Sum[int64]).DataPoints {
		v, _ := dp.Attributes.Value(ltotel.PageKey)
		is.Equal(v.AsString(), "a") // only page a refused anything
	}
}
