package pgnotify

import "time"

// Metrics receives the measurements of a Listener that its Health report
// cannot give as counters: an adapter (package lt/ltprom or lt/ltotel)
// turns them into histograms. Its methods are called on the delivering
// and publishing paths: they must be cheap, never block and be safe for
// concurrent use.
type Metrics interface {
	// Published is a message sent to the other instances: bytes is its
	// payload's size, large says it went through lt_messages.
	Published(bytes int, large bool)
	// Delivered is a message handed to lt, lag after it was sealed or
	// signed (by another instance, or by lt_notify in SQL).
	Delivered(lag time.Duration)
}

// WithMetrics reports the Listener's measurements to m.
func WithMetrics(m Metrics) Option { return func(c *config) { c.metrics = m } }
