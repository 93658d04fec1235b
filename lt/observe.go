package lt

import (
	"context"
	"time"
)

// Metrics receives lt's measurements: an adapter turns them into
// Prometheus metrics (package lt/ltprom) or OpenTelemetry instruments
// (package lt/ltotel), or anything else, so that lt itself imports no
// metrics library. Pass one with WithMetrics.
type Metrics interface {
	// Page returns what measures the page named name (the Handler's
	// name, see WithName) whose controller has the given actions (their
	// method names, such as AddItem: the only names PageMetrics.Action
	// and Refused report).
	// lt calls it once per Handler, in New, so that an adapter can make
	// its labelled instruments once.
	Page(name string, actions []string) PageMetrics
}

// PageMetrics measures one page. lt calls its methods on hot paths (a
// fan-out to 10,000 tabs calls Sent 10,000 times), so they must be cheap,
// never block and be safe for concurrent use. Embed NopPageMetrics to
// implement only some.
type PageMetrics interface {
	// Connections changes the number of live connections by delta: a
	// tab, or a rendered page whose stream has not opened yet.
	Connections(delta int)
	// Streams changes the number of open event streams by delta, and
	// the tabs (connections) they carry by tabs.
	Streams(delta, tabs int)
	// Action is one action run on one connection: a client's (a POST, on
	// this instance or forwarded to it) or a server action's; outcome is
	// OutcomeOK or OutcomeError, d the method's call with its render and
	// diff. name is the action's method name, never client input.
	Action(name string, client bool, outcome string, d time.Duration)
	// Refused is a request lt refused (see the Refused constants); name
	// is the action's method name when the refusal came after the request
	// named one of the controller's actions (another session's or a gone
	// connection, a full queue, a forward refused), else "".
	Refused(name, reason string)
	// Rendered is one render of the page and its diff against what the
	// tab had, d long. A server action reaching many connections renders
	// each distinct state once and shares it (and its diff): it reports
	// that render once, without the diff.
	Rendered(d time.Duration)
	// Sent is what one write put on a stream: events and their bytes,
	// heartbeats included.
	Sent(events, bytes int)
	// Heartbeat is a heartbeat written to an idle stream.
	Heartbeat()
	// Resumed is a tab reconnecting to its connection: from the log
	// (replayed is true; it missed nothing or got the events it missed)
	// or with a full render (the gap was too large, or the connection
	// was unknown).
	Resumed(replayed bool)
	// Queued changes the number of jobs (actions, lifecycle calls)
	// waiting on connections by delta.
	Queued(delta int)
	// Overflowed is a job refused because its connection's queue was
	// full (ErrQueueFull).
	Overflowed()
	// FanOut is a server action that reached conns connections of this
	// instance, d from the call (TriggerAll, a message from another
	// instance) until the last of them had run it.
	FanOut(conns int, d time.Duration)
}

// Outcomes of PageMetrics.Action.
const (
	OutcomeOK    = "ok"
	OutcomeError = "error"
)

// Reasons of PageMetrics.Refused.
const (
	RefusedCrossSite     = "cross_site"     // 403: another site's POST or another origin's stream
	RefusedUnauthorized  = "unauthorized"   // 401: the Authenticator refused
	RefusedBadRequest    = "bad_request"    // 400/415: malformed, or several actions named
	RefusedUnknownAction = "unknown_action" // 400: not an action of the controller, or none named
	RefusedTooLarge      = "too_large"      // 413: body, fields, or a forward over the limits
	RefusedForeign       = "foreign"        // 403: another session's connection
	RefusedGone          = "gone"           // 410: unknown or expired connection
	RefusedTooMany       = "too_many"       // 429/503: a client's or the page's limits
	RefusedQueueFull     = "queue_full"     // 503: the connection's queue is full
	RefusedUnavailable   = "unavailable"    // 503: closed, or the other instances unreachable
	RefusedMount         = "mount_failed"   // Mount returned an error
	RefusedInternal      = "internal"       // 500
)

// NopPageMetrics measures nothing; embed it to implement only some of
// PageMetrics.
type NopPageMetrics struct{}

func (NopPageMetrics) Connections(int)                            {}
func (NopPageMetrics) Streams(int, int)                           {}
func (NopPageMetrics) Action(string, bool, string, time.Duration) {}
func (NopPageMetrics) Refused(string, string)                     {}
func (NopPageMetrics) Rendered(time.Duration)                     {}
func (NopPageMetrics) Sent(int, int)                              {}
func (NopPageMetrics) Heartbeat()                                 {}
func (NopPageMetrics) Resumed(bool)                               {}
func (NopPageMetrics) Queued(int)                                 {}
func (NopPageMetrics) Overflowed()                                {}
func (NopPageMetrics) FanOut(int, time.Duration)                  {}

// WithMetrics reports the Handler's measurements to m (see package
// lt/ltprom and lt/ltotel).
func WithMetrics(m Metrics) Option { return func(o *options) { o.metrics = m } }

// WithTracer makes spans of the Handler's work with t (see package
// lt/ltotel).
func WithTracer(t Tracer) Option { return func(o *options) { o.tracer = t } }

// Tracer makes the spans of lt's work: an adapter maps it onto a tracing
// library (package lt/ltotel for OpenTelemetry), so that lt itself imports
// none. Pass one with WithTracer.
//
// lt starts a span for an action POST ("lt.action", a child of the
// request's span, or of the trace context its headers carry), with
// children for the method's call and for the render and diff and the
// publishing of the update; for a server action ("lt.server_action") with
// a child for publishing it to the other instances; and on an instance
// that receives a message from another, a span ("lt.deliver") continuing
// the sender's trace, whose context travels in the message.
type Tracer interface {
	// Start starts a span named name, a child of the span in ctx if any,
	// and returns the context that holds it.
	Start(ctx context.Context, name string, attrs ...Attr) (context.Context, Span)
	// Inject writes the trace context of ctx into carrier.
	Inject(ctx context.Context, carrier Carrier)
	// Extract returns ctx with the trace context carrier holds.
	Extract(ctx context.Context, carrier Carrier) context.Context
}

// Span is one span a Tracer started.
type Span interface {
	// End ends the span; err, when not nil, marks it failed.
	End(err error)
}

// Attr is a span attribute: lt sets the page, the action and the
// connection.
type Attr struct{ Key, Value string }

// Carrier carries a trace context: an HTTP request's headers, or the
// Trace of a Message. Its method set is OpenTelemetry's
// propagation.TextMapCarrier.
type Carrier interface {
	Get(key string) string
	Set(key, value string)
	Keys() []string
}
