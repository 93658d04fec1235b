// Package ltprom exposes livesse's measurements as Prometheus metrics
// (github.com/prometheus/client_golang): a *Metrics is the lt.Metrics of
// lt.WithMetrics and the pgnotify.Metrics of pgnotify.WithMetrics, and
// RegisterListener adds a pgnotify.Listener's Health, read at each scrape.
//
//	reg := prometheus.NewRegistry()
//	m := ltprom.New(reg)
//	h, err := lt.New(page, &Counter{}, State{}, lt.WithMetrics(m))
//	...
//	r.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// Every metric is named livesse_*; docs/metrics.md lists them with their
// labels and meaning, and docs/grafana-livesse.json is a dashboard on
// them. Wrap the Registerer (prometheus.WrapRegistererWith) to add labels
// of your own, such as an app's name when several share a registry.
//
// Only lt/ltprom imports client_golang: apps that do not import it get no
// metrics library.
package ltprom

import (
	"errors"
	"time"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/pgnotify"
	"github.com/prometheus/client_golang/prometheus"
)

// DefaultBuckets returns the upper bounds, in seconds, of the duration
// histograms (action latency, render and diff, fan-out, pgnotify's lag)
// without WithBuckets: 18 from 25 µs to 10 s, about three per decade. The
// slice is the caller's.
func DefaultBuckets() []float64 {
	return []float64{
		0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
		0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
		0.1, 0.25, 0.5, 1, 2.5, 5, 10,
	}
}

// Option configures New.
type Option func(*config)

type config struct {
	buckets       []float64
	healthTimeout time.Duration
}

// WithBuckets sets the upper bounds, in seconds, of every duration
// histogram (default DefaultBuckets()); New panics if they do not
// increase. No bounds leaves the default.
func WithBuckets(bounds ...float64) Option {
	return func(c *config) {
		if len(bounds) > 0 {
			c.buckets = append([]float64(nil), bounds...)
		}
	}
}

// WithHealthTimeout bounds the database queries of a registered
// Listener's Health at each scrape (default 2 s). A scrape whose queries
// fail or run out of time reports the Listener's counters without the
// gauges those queries read.
func WithHealthTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.healthTimeout = d
		}
	}
}

// Metrics is livesse's set of Prometheus metrics: pass it to lt.WithMetrics
// (it is an lt.Metrics, for any number of Handlers) and pgnotify.WithMetrics
// (it is a pgnotify.Metrics), and register Listeners with
// RegisterListener. Make it with New; it is safe for concurrent use.
type Metrics struct {
	reg prometheus.Registerer
	cfg config

	connections *prometheus.GaugeVec
	streams     *prometheus.GaugeVec
	streamTabs  *prometheus.GaugeVec
	actions     *prometheus.CounterVec
	actionTime  *prometheus.HistogramVec
	refused     *prometheus.CounterVec
	renderTime  *prometheus.HistogramVec
	sentEvents  *prometheus.CounterVec
	sentBytes   *prometheus.CounterVec
	heartbeats  *prometheus.CounterVec
	resumes     *prometheus.CounterVec
	queued      *prometheus.GaugeVec
	overflows   *prometheus.CounterVec
	fanOutTime  *prometheus.HistogramVec
	fanOutConns *prometheus.CounterVec

	published     [2]prometheus.Counter // by via: notify, table
	publishedSize [2]prometheus.Counter
	lag           prometheus.Observer
}

// Label values.
const (
	originClient = "client"
	originServer = "server"
	viaNotify    = "notify"
	viaTable     = "table"
	modeReplay   = "replay"
	modeRender   = "render"
)

// New makes livesse's metrics and registers them with reg
// (prometheus.DefaultRegisterer if reg is nil). Metrics that an earlier
// New registered with reg are shared rather than registered again, so that
// New may be called more than once per registry (their histograms keep the
// buckets they were made with). New panics if reg refuses the metrics for
// another reason (a collector of another kind under the same name), as
// prometheus.MustRegister does. Until lt or pgnotify report something, the
// metrics read zero; page metrics appear when a Handler is made.
func New(reg prometheus.Registerer, opts ...Option) *Metrics {
	if reg == nil {
		reg = prometheus.DefaultRegisterer
	}
	cfg := config{buckets: DefaultBuckets(), healthTimeout: 2 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	m := &Metrics{reg: reg, cfg: cfg}
	page := []string{"page"}
	m.connections = register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "livesse_connections",
		Help: "Live connections (a tab, or a rendered page whose stream has not opened yet).",
	}, page))
	m.streams = register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "livesse_streams",
		Help: "Open event streams.",
	}, page))
	m.streamTabs = register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "livesse_stream_tabs",
		Help: "Tabs (connections) carried by the open event streams; divided by livesse_streams, the tabs per stream.",
	}, page))
	m.actions = register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "livesse_actions_total",
		Help: "Actions run on a connection, by action method, origin (client: a POST; server: a server action) and outcome (ok, error).",
	}, []string{"page", "action", "origin", "outcome"}))
	m.actionTime = register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "livesse_action_duration_seconds",
		Help:    "Time of an action on a connection: the method's call with its render and diff.",
		Buckets: cfg.buckets,
	}, []string{"page", "action", "origin"}))
	m.refused = register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "livesse_refused_requests_total",
		Help: "Requests refused, by reason, and by action when the request named one of the page's (else action=\"\").",
	}, []string{"page", "action", "reason"}))
	m.renderTime = register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "livesse_render_duration_seconds",
		Help:    "Time of one render of the page and its diff against what the tab had.",
		Buckets: cfg.buckets,
	}, page))
	m.sentEvents = register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "livesse_sent_events_total",
		Help: "Events written to event streams, heartbeats included.",
	}, page))
	m.sentBytes = register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "livesse_sent_bytes_total",
		Help: "Bytes written to event streams, heartbeats included.",
	}, page))
	m.heartbeats = register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "livesse_heartbeats_total",
		Help: "Heartbeats written to idle event streams.",
	}, page))
	m.resumes = register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "livesse_resumes_total",
		Help: "Tabs reconnecting to their connection, by mode: replay (from the event log) or render (a full render: the gap was too large, or the connection unknown).",
	}, []string{"page", "mode"}))
	m.queued = register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "livesse_queued_jobs",
		Help: "Jobs (actions, lifecycle calls) waiting on connections.",
	}, page))
	m.overflows = register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "livesse_queue_overflows_total",
		Help: "Jobs refused because their connection's queue was full.",
	}, page))
	m.fanOutTime = register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "livesse_fanout_duration_seconds",
		Help:    "Time of a server action's fan-out on this instance: from the call, or the message from another instance, until the last connection had run it.",
		Buckets: cfg.buckets,
	}, page))
	m.fanOutConns = register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "livesse_fanout_connections_total",
		Help: "Connections reached by server action fan-outs on this instance.",
	}, page))

	published := register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "livesse_pgnotify_published_messages_total",
		Help: "Messages published to the other instances, by via: notify (in the notification) or table (through lt_messages, over 8000 bytes).",
	}, []string{"via"}))
	publishedSize := register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "livesse_pgnotify_published_bytes_total",
		Help: "Bytes of the payloads of the messages published, by via.",
	}, []string{"via"}))
	for i, via := range [2]string{viaNotify, viaTable} {
		m.published[i] = published.WithLabelValues(via)
		m.publishedSize[i] = publishedSize.WithLabelValues(via)
	}
	m.lag = register(reg, prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "livesse_pgnotify_delivery_lag_seconds",
		Help:    "Time from a message's sealing or signing (by another instance, or lt_notify in SQL) to its hand-off to lt.",
		Buckets: cfg.buckets,
	}))
	return m
}

// register registers c with reg, or returns the collector of the same
// kind already registered in its place.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if old, ok := are.ExistingCollector.(C); ok {
				return old
			}
		}
		panic(err)
	}
	return c
}

// Page makes the metrics of the page named name, with their label values
// bound once here for each action in actions (and origin and outcome), so
// that the returned PageMetrics's methods look up nothing: each is one or
// two atomic additions (a histogram's observation: a short search of its
// buckets, then those), with no allocation. lt calls it in lt.New. The
// page's connections, streams and actions read zero until lt reports
// them; a name not in actions is counted under action="".
func (m *Metrics) Page(name string, actions []string) lt.PageMetrics {
	return newPage(m, name, actions)
}

// Published counts a message published to the other instances: its
// payload's bytes, in livesse_pgnotify_published_*{via="table"} if it
// went through lt_messages, else via="notify". pgnotify calls it.
func (m *Metrics) Published(bytes int, large bool) {
	i := 0
	if large {
		i = 1
	}
	m.published[i].Inc()
	m.publishedSize[i].Add(float64(bytes))
}

// Delivered observes the lag of a message handed to lt, from its sealing
// or signing: livesse_pgnotify_delivery_lag_seconds. pgnotify calls it.
func (m *Metrics) Delivered(lag time.Duration) {
	m.lag.Observe(max(lag, 0).Seconds())
}

var (
	_ lt.Metrics       = (*Metrics)(nil)
	_ pgnotify.Metrics = (*Metrics)(nil)
)
