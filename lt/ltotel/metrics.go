package ltotel

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/pgnotify"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// ScopeName is the instrumentation scope of the package's meter and
// tracer.
const ScopeName = "github.com/livesse/livesse/lt/ltotel"

// The attributes of the package's measurements. livesse.page and
// livesse.action are also those lt sets on its spans.
const (
	// PageKey is the page: the Handler's name (lt.WithName).
	PageKey = attribute.Key("livesse.page")
	// ActionKey is an action's method name, such as AddItem.
	ActionKey = attribute.Key("livesse.action")
	// OriginKey says who ran an action: OriginClient (a POST) or
	// OriginServer (a server action).
	OriginKey = attribute.Key("livesse.origin")
	// OutcomeKey is an action's outcome: lt.OutcomeOK or lt.OutcomeError.
	OutcomeKey = attribute.Key("livesse.outcome")
	// ReasonKey is why a request was refused (lt's Refused constants), or
	// a notification (unauthenticated, stale, replayed, malformed).
	ReasonKey = attribute.Key("livesse.reason")
	// ResumeModeKey is how a tab resumed: ResumeReplay or ResumeRender.
	ResumeModeKey = attribute.Key("livesse.resume.mode")
	// ViaKey is how a message was published: ViaNotify (in the
	// notification) or ViaTable (through lt_messages, over 8000 bytes).
	ViaKey = attribute.Key("livesse.pgnotify.via")
	// InstanceKey is a Listener's instance id.
	InstanceKey = attribute.Key("livesse.pgnotify.instance")
	// ChannelKey is a Listener's NOTIFY channel.
	ChannelKey = attribute.Key("livesse.pgnotify.channel")
)

// Values of OriginKey, ResumeModeKey and ViaKey (the label values of
// package lt/ltprom).
const (
	OriginClient = "client"
	OriginServer = "server"
	ResumeReplay = "replay" // from the event log
	ResumeRender = "render" // with a full render
	ViaNotify    = "notify"
	ViaTable     = "table"
)

// reasons are lt's Refused constants, in the order of their counters.
var reasons = [...]string{
	lt.RefusedCrossSite, lt.RefusedUnauthorized, lt.RefusedBadRequest,
	lt.RefusedUnknownAction, lt.RefusedTooLarge, lt.RefusedForeign,
	lt.RefusedGone, lt.RefusedTooMany, lt.RefusedQueueFull,
	lt.RefusedUnavailable, lt.RefusedMount, lt.RefusedInternal,
}

// durationBuckets are the bucket boundaries, in seconds, of the duration
// histograms (action, render and diff, fan-out, delivery lag): those of
// package lt/ltprom, 25 µs to 10 s. The SDK's default ones suit
// milliseconds; a View can replace them.
func durationBuckets() []float64 {
	return []float64{
		0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
		0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
		0.1, 0.25, 0.5, 1, 2.5, 5, 10,
	}
}

// Metrics reports lt's and pgnotify's measurements as OpenTelemetry
// instruments. It implements lt.Metrics (pass it to lt.WithMetrics) and
// pgnotify.Metrics (pass it to pgnotify.WithMetrics); ObserveListener
// reports a Listener's Health. One Metrics serves every Handler and
// Listener of a process; it is safe for concurrent use.
//
// A page's counts (connections, streams, events, bytes, actions,
// refusals...) are kept in atomic counters, a few nanoseconds each on lt's
// hottest paths, and reported by observable instruments when a reader
// collects. Durations go to histograms as they are measured, with
// attribute sets made once per page and action: no allocation, no map
// lookup.
type Metrics struct {
	meter metric.Meter

	// The pages' counts, observed on collection.
	connections, streams, tabs, queued                   metric.Int64ObservableUpDownCounter
	actions, refused, events, bytes, heartbeats, resumes metric.Int64ObservableCounter
	overflows, fanOutConns                               metric.Int64ObservableCounter
	actionDuration, renderDuration, fanOutDuration       metric.Float64Histogram

	mu    sync.Mutex
	pages []*page // in the order of Page's calls

	published, publishedBytes metric.Int64Counter
	lag                       metric.Float64Histogram
	viaOpts                   [2][]metric.AddOption // [large]: via notify, via table

	listener listenerInstruments
}

// bg is the context of measurements: lt's PageMetrics methods have none.
var bg = context.Background()

// NewMetrics makes the instruments of lt and pgnotify with a Meter of mp
// (otel.GetMeterProvider() if nil) named ScopeName, and registers the
// callback that reports the pages' counts.
func NewMetrics(mp metric.MeterProvider) (*Metrics, error) {
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	meter := mp.Meter(ScopeName)
	m := &Metrics{meter: meter}
	var err error
	upDown := func(name, unit, desc string) metric.Int64ObservableUpDownCounter {
		var c metric.Int64ObservableUpDownCounter
		if err == nil {
			c, err = meter.Int64ObservableUpDownCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		}
		return c
	}
	counter := func(name, unit, desc string) metric.Int64ObservableCounter {
		var c metric.Int64ObservableCounter
		if err == nil {
			c, err = meter.Int64ObservableCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		}
		return c
	}
	seconds := func(name, desc string) metric.Float64Histogram {
		var h metric.Float64Histogram
		if err == nil {
			h, err = meter.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc),
				metric.WithExplicitBucketBoundaries(durationBuckets()...))
		}
		return h
	}
	m.connections = upDown("livesse.connections", "{connection}", "Live connections (a tab, or a rendered page whose stream has not opened yet).")
	m.streams = upDown("livesse.streams", "{stream}", "Open event streams.")
	m.tabs = upDown("livesse.stream.tabs", "{tab}", "Tabs (connections) carried by the open event streams; divided by livesse.streams, the tabs per stream.")
	m.actions = counter("livesse.actions", "{action}", "Actions run on a connection, by action method, origin (client: a POST; server: a server action) and outcome (ok, error).")
	m.actionDuration = seconds("livesse.action.duration", "Time of an action on a connection, by action method and origin: the method's call with its render and diff.")
	m.refused = counter("livesse.refused_requests", "{request}", "Requests refused, by reason, and by action when the request named one of the page's.")
	m.renderDuration = seconds("livesse.render.duration", "Time of one render of the page and its diff against what the tab had.")
	m.events = counter("livesse.sent.events", "{event}", "Events written to event streams, heartbeats included.")
	m.bytes = counter("livesse.sent.bytes", "By", "Bytes written to event streams, heartbeats included.")
	m.heartbeats = counter("livesse.heartbeats", "{heartbeat}", "Heartbeats written to idle event streams.")
	m.resumes = counter("livesse.resumes", "{resume}", "Tabs reconnecting to their connection, by mode: replay (from the event log) or render (a full render: the gap was too large, or the connection unknown).")
	m.queued = upDown("livesse.queued_jobs", "{job}", "Jobs (actions, lifecycle calls) waiting on connections.")
	m.overflows = counter("livesse.queue.overflows", "{job}", "Jobs refused because their connection's queue was full.")
	m.fanOutDuration = seconds("livesse.fanout.duration", "Time of a server action's fan-out on this instance: from the call, or the message from another instance, until the last connection had run it.")
	m.fanOutConns = counter("livesse.fanout.connections", "{connection}", "Connections reached by server action fan-outs on this instance.")
	if err == nil {
		m.published, err = meter.Int64Counter("livesse.pgnotify.published.messages", metric.WithUnit("{message}"),
			metric.WithDescription("Messages published to the other instances, by via: notify (in the notification) or table (through lt_messages, over 8000 bytes)."))
	}
	if err == nil {
		m.publishedBytes, err = meter.Int64Counter("livesse.pgnotify.published.bytes", metric.WithUnit("By"),
			metric.WithDescription("Bytes of the payloads of the messages published, by via."))
	}
	m.lag = seconds("livesse.pgnotify.delivery.lag", "Time from a message's sealing or signing (by another instance, or lt_notify in SQL) to its hand-off to lt.")
	if err == nil {
		err = m.listener.init(meter)
	}
	if err == nil {
		// Registered for the Metrics' lifetime, as its instruments are.
		_, err = meter.RegisterCallback(m.observe, m.connections, m.streams, m.tabs, m.queued,
			m.actions, m.refused, m.events, m.bytes, m.heartbeats, m.resumes, m.overflows, m.fanOutConns)
	}
	if err != nil {
		return nil, fmt.Errorf("ltotel: %w", err)
	}
	for i, via := range [2]string{ViaNotify, ViaTable} {
		m.viaOpts[i] = []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(ViaKey.String(via)))}
	}
	return m, nil
}

// Page makes the counters of the page named name and the attribute sets
// of its actions' histograms; lt calls it once per Handler, in lt.New. A
// name not in actions (lt reports none) is measured without
// livesse.action. Two Handlers of one name are measured as one page.
func (m *Metrics) Page(name string, actions []string) lt.PageMetrics {
	names := slices.Clone(actions)
	slices.Sort(names)
	names = slices.Compact(names)
	names = slices.DeleteFunc(names, func(a string) bool { return a == "" })
	pageKV := PageKey.String(name)
	p := &page{m: m, name: name, names: names, actions: make([]actionState, len(names)+1)}
	p.set = attribute.NewSet(pageKV)
	p.rec = []metric.RecordOption{metric.WithAttributeSet(p.set)}
	for i, a := range names {
		p.actions[i].init(pageKV, ActionKey.String(a))
	}
	p.other = &p.actions[len(names)]
	p.other.init(pageKV)
	m.mu.Lock()
	m.pages = append(m.pages, p)
	m.mu.Unlock()
	return p
}

// page is a page's PageMetrics: its counts, and its histograms' options.
type page struct {
	m    *Metrics
	name string
	set  attribute.Set         // the page
	rec  []metric.RecordOption // the page

	connections, streams, tabs, queued   atomic.Int64
	events, bytes, heartbeats, overflows atomic.Int64
	fanOutConns                          atomic.Int64
	resumes                              [2]atomic.Int64 // [replayed]

	// names are the controller's actions, sorted; actions their states,
	// and then other's: that of refusals naming no action, and of names
	// not in names.
	names   []string
	actions []actionState
	other   *actionState

	// odd counts, by their attributes, the actions and refusals whose
	// outcome or reason lt does not define (it reports none).
	oddMu sync.Mutex
	odd   map[oddKey]int64
}

// oddKey is an odd count's attributes; refusals have no origin.
type oddKey struct{ action, origin, outcome, reason string }

// actionState is one action's counts and histogram options.
type actionState struct {
	name    string                   // "" for other
	count   [2][2]atomic.Int64       // [client][error]
	ran     [2][]metric.RecordOption // [client]
	refused [len(reasons)]atomic.Int64
}

// init makes the histogram options of the action with attributes attrs
// (the page's, and the action's but for other).
func (a *actionState) init(attrs ...attribute.KeyValue) {
	if len(attrs) > 1 {
		a.name = attrs[1].Value.AsString()
	}
	for c, origin := range [2]string{OriginServer, OriginClient} {
		set := attribute.NewSet(append(slices.Clip(attrs), OriginKey.String(origin))...)
		a.ran[c] = []metric.RecordOption{metric.WithAttributeSet(set)}
	}
}

// action returns the state of the action named name: a binary search of
// the page's few names, or other.
func (p *page) action(name string) *actionState {
	if i, ok := slices.BinarySearch(p.names, name); ok {
		return &p.actions[i]
	}
	return p.other
}

// reason returns the index of a Refused constant, or -1.
func reason(r string) int {
	for i, s := range reasons {
		if s == r {
			return i
		}
	}
	return -1
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func origin(client bool) string {
	if client {
		return OriginClient
	}
	return OriginServer
}

func (p *page) Connections(delta int) { p.connections.Add(int64(delta)) }

func (p *page) Streams(delta, tabs int) {
	p.streams.Add(int64(delta))
	p.tabs.Add(int64(tabs))
}

func (p *page) Action(name string, client bool, outcome string, d time.Duration) {
	a, c := p.action(name), b2i(client)
	switch outcome {
	case lt.OutcomeOK:
		a.count[c][0].Add(1)
	case lt.OutcomeError:
		a.count[c][1].Add(1)
	default:
		p.countOdd(oddKey{action: a.name, origin: origin(client), outcome: outcome})
	}
	p.m.actionDuration.Record(bg, d.Seconds(), a.ran[c]...)
}

func (p *page) Refused(name, why string) {
	a := p.action(name)
	if r := reason(why); r >= 0 {
		a.refused[r].Add(1)
		return
	}
	p.countOdd(oddKey{action: a.name, reason: why})
}

func (p *page) countOdd(k oddKey) {
	p.oddMu.Lock()
	defer p.oddMu.Unlock()
	if p.odd == nil {
		p.odd = map[oddKey]int64{}
	}
	p.odd[k]++
}

func (p *page) Rendered(d time.Duration) { p.m.renderDuration.Record(bg, d.Seconds(), p.rec...) }

func (p *page) Sent(events, bytes int) {
	p.events.Add(int64(events))
	p.bytes.Add(int64(bytes))
}

func (p *page) Heartbeat() { p.heartbeats.Add(1) }

func (p *page) Resumed(replayed bool) { p.resumes[b2i(replayed)].Add(1) }

func (p *page) Queued(delta int) { p.queued.Add(int64(delta)) }

func (p *page) Overflowed() { p.overflows.Add(1) }

func (p *page) FanOut(conns int, d time.Duration) {
	p.m.fanOutDuration.Record(bg, d.Seconds(), p.rec...)
	p.fanOutConns.Add(int64(conns))
}

// totals are a page's counts, summed over the Handlers of its name.
type totals struct {
	set                                  attribute.Set
	connections, streams, tabs, queued   int64
	events, bytes, heartbeats, overflows int64
	fanOutConns                          int64
	resumes                              [2]int64
	counts                               map[oddKey]int64 // actions run and refused
}

// observe reports the pages' counts: a page's always, an action's or a
// refusal's once it has happened.
func (m *Metrics) observe(_ context.Context, o metric.Observer) error {
	m.mu.Lock()
	pages := m.pages
	m.mu.Unlock()
	var order []*totals
	byName := map[string]*totals{}
	for _, p := range pages {
		t := byName[p.name]
		if t == nil {
			t = &totals{set: p.set, counts: map[oddKey]int64{}}
			byName[p.name] = t
			order = append(order, t)
		}
		p.addTo(t)
	}
	for _, t := range order {
		opt := metric.WithAttributeSet(t.set)
		o.ObserveInt64(m.connections, t.connections, opt)
		o.ObserveInt64(m.streams, t.streams, opt)
		o.ObserveInt64(m.tabs, t.tabs, opt)
		o.ObserveInt64(m.queued, t.queued, opt)
		o.ObserveInt64(m.events, t.events, opt)
		o.ObserveInt64(m.bytes, t.bytes, opt)
		o.ObserveInt64(m.heartbeats, t.heartbeats, opt)
		o.ObserveInt64(m.overflows, t.overflows, opt)
		o.ObserveInt64(m.fanOutConns, t.fanOutConns, opt)
		page, _ := t.set.Value(PageKey)
		pageKV := PageKey.String(page.AsString())
		for i, mode := range [2]string{ResumeRender, ResumeReplay} {
			o.ObserveInt64(m.resumes, t.resumes[i], metric.WithAttributes(pageKV, ResumeModeKey.String(mode)))
		}
		for k, n := range t.counts {
			if n == 0 {
				continue // it never happened: no series
			}
			attrs := []attribute.KeyValue{pageKV}
			if k.action != "" {
				attrs = append(attrs, ActionKey.String(k.action))
			}
			if k.reason != "" {
				o.ObserveInt64(m.refused, n, metric.WithAttributes(append(attrs, ReasonKey.String(k.reason))...))
				continue
			}
			attrs = append(attrs, OriginKey.String(k.origin), OutcomeKey.String(k.outcome))
			o.ObserveInt64(m.actions, n, metric.WithAttributes(attrs...))
		}
	}
	return nil
}

// addTo adds p's counts to t.
func (p *page) addTo(t *totals) {
	t.connections += p.connections.Load()
	t.streams += p.streams.Load()
	t.tabs += p.tabs.Load()
	t.queued += p.queued.Load()
	t.events += p.events.Load()
	t.bytes += p.bytes.Load()
	t.heartbeats += p.heartbeats.Load()
	t.overflows += p.overflows.Load()
	t.fanOutConns += p.fanOutConns.Load()
	for i := range t.resumes {
		t.resumes[i] += p.resumes[i].Load()
	}
	for i := range p.actions {
		a := &p.actions[i]
		for c, origin := range [2]string{OriginServer, OriginClient} {
			for e, outcome := range [2]string{lt.OutcomeOK, lt.OutcomeError} {
				t.counts[oddKey{action: a.name, origin: origin, outcome: outcome}] += a.count[c][e].Load()
			}
		}
		for r, reason := range reasons {
			t.counts[oddKey{action: a.name, reason: reason}] += a.refused[r].Load()
		}
	}
	p.oddMu.Lock()
	for k, n := range p.odd {
		t.counts[k] += n
	}
	p.oddMu.Unlock()
}

var (
	_ lt.Metrics       = (*Metrics)(nil)
	_ pgnotify.Metrics = (*Metrics)(nil)
	_ HealthReporter   = (*pgnotify.Listener)(nil)
	_ lt.Tracer        = (*Tracer)(nil)
)
