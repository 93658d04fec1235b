package ltprom

import (
	"context"
	"time"

	"github.com/livesse/livesse/pgnotify"
	"github.com/prometheus/client_golang/prometheus"
)

// HealthReporter is what a Listener collector reads: *pgnotify.Listener
// is one. Health may be called from several scrapes at once.
type HealthReporter interface {
	Channel() string
	Health(ctx context.Context) (pgnotify.Health, error)
}

// RegisterListener registers with m's registry a collector of l's Health
// (see ListenerCollector), read once per scrape. It returns the
// registry's error, such as prometheus.AlreadyRegisteredError for a second
// Listener on the same channel. The collector stays registered when l is
// closed, reporting its final counters.
func (m *Metrics) RegisterListener(l HealthReporter) error {
	return m.reg.Register(newListenerCollector(l, m.cfg.healthTimeout))
}

// ListenerCollector returns a collector of l's Health for a registry of
// your own (RegisterListener registers one with m's): at each scrape it
// calls l.Health once, its queries bounded by WithHealthTimeout, and
// reports the counters (received, delivered, dropped, refused by reason,
// reconnects, resyncs), whether the LISTEN connection is up, the peers,
// and, when Health could read them, the notification queue's usage and
// the size of lt_messages (a gauge Health could not read is left out of
// that scrape rather than reported as -1). Every metric has the label
// channel, l's NOTIFY channel.
func ListenerCollector(l HealthReporter, opts ...Option) prometheus.Collector {
	cfg := config{healthTimeout: 2 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	return newListenerCollector(l, cfg.healthTimeout)
}

type listenerCollector struct {
	l       HealthReporter
	timeout time.Duration

	connected, lastPing, reconnects, received, delivered, dropped *prometheus.Desc
	refused, resyncs, queueUsage, peers, largeRows, largeBytes    *prometheus.Desc
}

func newListenerCollector(l HealthReporter, timeout time.Duration) *listenerCollector {
	labels := prometheus.Labels{"channel": l.Channel()}
	desc := func(name, help string, variable ...string) *prometheus.Desc {
		return prometheus.NewDesc("livesse_pgnotify_"+name, help, variable, labels)
	}
	return &listenerCollector{
		l: l, timeout: timeout,
		connected:  desc("connected", "1 if the LISTEN connection is up, else 0."),
		lastPing:   desc("last_ping_timestamp_seconds", "When the LISTEN connection last proved alive (it connected, or a ping succeeded), in Unix seconds."),
		reconnects: desc("reconnects_total", "LISTEN connections lost and reopened."),
		received:   desc("received_total", "Notifications read: messages, beacons and refused payloads."),
		delivered:  desc("delivered_total", "Messages handed to lt."),
		dropped:    desc("dropped_total", "Messages lost on this side (the hand-off queue full, or a stored body unreadable or gone); each led to a resync."),
		refused:    desc("refused_total", "Notifications refused, by reason: unauthenticated (not made with the secret), stale (outside the time window), replayed (seen before), malformed (authentic but bad input).", "reason"),
		resyncs:    desc("resyncs_total", "Times every page was told to resync (after a reconnect or a drop)."),
		queueUsage: desc("queue_usage_ratio", "pg_notification_queue_usage(): the fraction of the server's notification queue in use, 0 to 1."),
		peers:      desc("peers", "Other instances heard from lately."),
		largeRows:  desc("large_messages", "Rows of lt_messages (messages over 8000 bytes), shared by every instance; counted up to pgnotify.MaxCountedLarge."),
		largeBytes: desc("large_messages_bytes", "Bytes of the payloads in lt_messages."),
	}
}

func (c *listenerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.connected, c.lastPing, c.reconnects, c.received, c.delivered,
		c.dropped, c.refused, c.resyncs, c.queueUsage, c.peers, c.largeRows, c.largeBytes} {
		ch <- d
	}
}

func (c *listenerCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	h, _ := c.l.Health(ctx) // what could not be read is -1, and left out below
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	connected := 0.0
	if h.Connected {
		connected = 1
	}
	gauge(c.connected, connected)
	if !h.LastPing.IsZero() && h.LastPing.UnixNano() > 0 {
		gauge(c.lastPing, float64(h.LastPing.UnixNano())/1e9)
	}
	counter(c.reconnects, h.Reconnects)
	counter(c.received, h.Received)
	counter(c.delivered, h.Delivered)
	counter(c.dropped, h.Dropped)
	counter(c.refused, h.Unauthenticated, "unauthenticated")
	counter(c.refused, h.Stale, "stale")
	counter(c.refused, h.Replayed, "replayed")
	counter(c.refused, h.Malformed, "malformed")
	counter(c.resyncs, h.Resyncs)
	gauge(c.peers, float64(len(h.Peers)))
	if h.QueueUsage >= 0 {
		gauge(c.queueUsage, h.QueueUsage)
	}
	if h.LargeMessages >= 0 {
		gauge(c.largeRows, float64(h.LargeMessages))
		gauge(c.largeBytes, float64(h.LargeBytes))
	}
}
