package ltotel

import (
	"context"
	"errors"
	"time"

	"github.com/livesse/livesse/pgnotify"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Published counts a message a Listener published, and its payload's
// bytes, by via (pgnotify.Metrics).
func (m *Metrics) Published(bytes int, large bool) {
	opts := m.viaOpts[b2i(large)]
	m.published.Add(bg, 1, opts...)
	m.publishedBytes.Add(bg, int64(bytes), opts...)
}

// Delivered records the lag of a message a Listener handed to lt, from its
// sealing or signing (pgnotify.Metrics).
func (m *Metrics) Delivered(lag time.Duration) { m.lag.Record(bg, max(lag, 0).Seconds()) }

// HealthReporter is what ObserveListener reads: *pgnotify.Listener is
// one.
type HealthReporter interface {
	Health(ctx context.Context) (pgnotify.Health, error)
}

// listenerInstruments are the observable instruments of Listeners'
// Health reports.
type listenerInstruments struct {
	connected, peers, large, largeBytes metric.Int64ObservableGauge
	queueUsage, lastPing                metric.Float64ObservableGauge
	reconnects, received, delivered     metric.Int64ObservableCounter
	dropped, refused, resyncs           metric.Int64ObservableCounter
}

func (li *listenerInstruments) init(meter metric.Meter) error {
	var err error
	counter := func(name, unit, desc string) metric.Int64ObservableCounter {
		var c metric.Int64ObservableCounter
		if err == nil {
			c, err = meter.Int64ObservableCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		}
		return c
	}
	gauge := func(name, unit, desc string) metric.Int64ObservableGauge {
		var g metric.Int64ObservableGauge
		if err == nil {
			g, err = meter.Int64ObservableGauge(name, metric.WithUnit(unit), metric.WithDescription(desc))
		}
		return g
	}
	fgauge := func(name, unit, desc string) metric.Float64ObservableGauge {
		var g metric.Float64ObservableGauge
		if err == nil {
			g, err = meter.Float64ObservableGauge(name, metric.WithUnit(unit), metric.WithDescription(desc))
		}
		return g
	}
	li.connected = gauge("livesse.pgnotify.connected", "", "1 if the LISTEN connection is up, else 0.")
	li.lastPing = fgauge("livesse.pgnotify.last_ping.timestamp", "s", "When the LISTEN connection last proved alive (it connected, or a ping succeeded), in Unix seconds.")
	li.reconnects = counter("livesse.pgnotify.reconnects", "{reconnect}", "LISTEN connections lost and reopened.")
	li.received = counter("livesse.pgnotify.received", "{notification}", "Notifications read: messages, beacons and refused payloads.")
	li.delivered = counter("livesse.pgnotify.delivered", "{message}", "Messages handed to lt.")
	li.dropped = counter("livesse.pgnotify.dropped", "{message}", "Messages lost on this side (the hand-off queue full, or a stored body unreadable or gone); each led to a resync.")
	li.refused = counter("livesse.pgnotify.refused", "{notification}", "Notifications refused, by reason: unauthenticated (not made with the secret), stale (outside the time window), replayed (seen before), malformed (authentic but bad input).")
	li.resyncs = counter("livesse.pgnotify.resyncs", "{resync}", "Times every page was told to resync (after a reconnect or a drop).")
	li.queueUsage = fgauge("livesse.pgnotify.queue.usage", "1", "pg_notification_queue_usage(): the fraction of the server's notification queue in use, 0 to 1.")
	li.peers = gauge("livesse.pgnotify.peers", "{instance}", "Other instances heard from lately.")
	li.large = gauge("livesse.pgnotify.large_messages", "{message}", "Rows of lt_messages (messages over 8000 bytes), shared by every instance; counted up to pgnotify.MaxCountedLarge.")
	li.largeBytes = gauge("livesse.pgnotify.large_messages.bytes", "By", "Bytes of the payloads in lt_messages.")
	return err
}

// ObserveListener reports l's Health (see pgnotify.Listener.Health) at
// every collection, with the attributes livesse.pgnotify.instance and
// livesse.pgnotify.channel. Health's queries of the database (the
// notification queue's usage, the size of lt_messages) run within the
// collection's context; the gauges of those that fail are left out, the
// rest is reported, and the collection returns Health's error too (a
// periodic reader hands it to otel.Handle). A closed Listener reports its
// final counters; unregister the returned Registration when l is closed.
func (m *Metrics) ObserveListener(l HealthReporter) (metric.Registration, error) {
	li := &m.listener
	return m.meter.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		h, err := l.Health(ctx) // with an error, h holds what could be read
		if errors.Is(err, pgnotify.ErrClosed) {
			err = nil
		}
		id := []attribute.KeyValue{InstanceKey.String(h.Instance), ChannelKey.String(h.Channel)}
		opt := metric.WithAttributeSet(attribute.NewSet(id...))
		connected := int64(0)
		if h.Connected {
			connected = 1
		}
		o.ObserveInt64(li.connected, connected, opt)
		if !h.LastPing.IsZero() && h.LastPing.UnixNano() > 0 {
			o.ObserveFloat64(li.lastPing, float64(h.LastPing.UnixNano())/1e9, opt)
		}
		o.ObserveInt64(li.reconnects, h.Reconnects, opt)
		o.ObserveInt64(li.received, h.Received, opt)
		o.ObserveInt64(li.delivered, h.Delivered, opt)
		o.ObserveInt64(li.dropped, h.Dropped, opt)
		o.ObserveInt64(li.resyncs, h.Resyncs, opt)
		for _, r := range [...]struct {
			reason string
			n      int64
		}{{"unauthenticated", h.Unauthenticated}, {"stale", h.Stale}, {"replayed", h.Replayed}, {"malformed", h.Malformed}} {
			o.ObserveInt64(li.refused, r.n, metric.WithAttributes(append(id[:2:2], ReasonKey.String(r.reason))...))
		}
		o.ObserveInt64(li.peers, int64(len(h.Peers)), opt)
		if h.QueueUsage >= 0 {
			o.ObserveFloat64(li.queueUsage, h.QueueUsage, opt)
		}
		if h.LargeMessages >= 0 {
			o.ObserveInt64(li.large, h.LargeMessages, opt)
			o.ObserveInt64(li.largeBytes, h.LargeBytes, opt)
		}
		return err
	}, li.connected, li.lastPing, li.reconnects, li.received, li.delivered, li.dropped, li.refused,
		li.resyncs, li.queueUsage, li.peers, li.large, li.largeBytes)
}
