package lt

import (
	"log/slog"
	"time"

	"github.com/livesse/livesse/internal/sessioncookie"
)

// Option configures a Handler. The defaults serve a public page safely;
// options exist where no default can fit every app.
type Option func(*options)

type options struct {
	auth           Authenticator
	logger         *slog.Logger
	maxBody        int64
	maxFields      int
	heartbeat      time.Duration
	retry          time.Duration
	writeTimeout   time.Duration
	connectTimeout time.Duration
	reconnectGrace time.Duration
	trusted        []string
	cookieName     string
	secureCookie   bool
	clientURL      string
	maxStates      int
	broadcaster    Broadcaster
	name           string
	maxStreams     int
	hijack         bool
}

func defaultOptions() options {
	return options{
		logger:         slog.Default(),
		maxBody:        1 << 20,
		maxFields:      1000,
		connectTimeout: time.Minute,
		reconnectGrace: 30 * time.Second,
		cookieName:     sessioncookie.DefaultName,
		maxStates:      10000,
		retry:          time.Second,
		hijack:         true,
	}
}

// WithAuthenticator identifies logged-in users; see Authenticator. Without
// it (and without an Identity from middleware) every browser is an
// anonymous session group keyed by a session cookie.
func WithAuthenticator(a Authenticator) Option { return func(o *options) { o.auth = a } }

// WithLogger sets where lt logs refused requests and failures (default
// slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// WithMaxBodyBytes bounds an action POST's body (default 1 MiB, uploads
// included). Larger bodies get 413.
func WithMaxBodyBytes(n int64) Option { return func(o *options) { o.maxBody = n } }

// WithMaxFields bounds the number of form values in an action POST
// (default 1000). More get 413.
func WithMaxFields(n int) Option { return func(o *options) { o.maxFields = n } }

// WithHeartbeat sets how often an idle stream gets a keep-alive comment
// (default 15 s). Keep it well under your proxies' read timeouts.
func WithHeartbeat(d time.Duration) Option { return func(o *options) { o.heartbeat = d } }

// WithRetry sets the reconnection time streams ask clients for (the SSE
// retry: field, default 1 s): after losing a stream, livesse's client waits
// this long plus a backoff with full jitter, which spreads the reconnects
// of many clients after a restart. Raise it to make clients come back more
// slowly, for example while an instance is overloaded.
func WithRetry(d time.Duration) Option { return func(o *options) { o.retry = d } }

// WithWriteTimeout bounds each write to a stream (default 10 s): a client
// whose socket accepts nothing for that long is cut and resumes when it
// reconnects. The server's own WriteTimeout does not apply to streams.
func WithWriteTimeout(d time.Duration) Option { return func(o *options) { o.writeTimeout = d } }

// WithConnectTimeout sets how long a rendered page's connection waits for
// its stream before it is dropped (default 1 min). Pages viewed without
// JavaScript never open one.
func WithConnectTimeout(d time.Duration) Option { return func(o *options) { o.connectTimeout = d } }

// WithReconnectGrace sets how long a connection outlives its stream so that
// a reconnecting tab resumes it, with its state, and misses nothing
// (default 30 s). After that the connection ends for good: its context is
// cancelled and OnDisconnect runs.
func WithReconnectGrace(d time.Duration) Option { return func(o *options) { o.reconnectGrace = d } }

// WithTrustedOrigins lets action POSTs come from these origins besides the
// page's own ("https://admin.example.com"). Others get 403.
func WithTrustedOrigins(origins ...string) Option {
	return func(o *options) { o.trusted = append(o.trusted, origins...) }
}

// WithSessionCookie sets the anonymous session cookie's name (default
// "lt_session") and forces its Secure flag, for TLS terminated at a proxy.
// Under direct TLS the cookie is Secure anyway.
func WithSessionCookie(name string, secure bool) Option {
	return func(o *options) {
		if name != "" {
			o.cookieName = name
		}
		o.secureCookie = secure
	}
}

// WithClientURL makes pages load the client script from url (for example
// where web.Handler() is mounted, to share one cached copy across pages)
// instead of from the page's own URL.
func WithClientURL(url string) Option { return func(o *options) { o.clientURL = url } }

// WithMaxStreams bounds the event streams open at once (default 0: no
// limit but the machine's). Over the limit a new stream gets 503 with
// Retry-After; existing clients are never evicted. One stream carries all
// tabs of a browser on a page.
func WithMaxStreams(n int) Option { return func(o *options) { o.maxStreams = n } }

// WithStreamsInHandler keeps each event stream inside its handler, on
// net/http's connection goroutine with its buffers, instead of taking the
// connection over once the headers are written (http.Hijacker), which is
// the default on HTTP/1.x.
//
// Taken streams cost about a third of the memory (see
// docs/performance.md), and a fan-out writes to them from the goroutine
// that ran the action. Their response is delimited by closing the
// connection; middleware sees the request end at once, so chi's Timeout
// and Throttle no longer cut or hold streams and its Logger logs the
// stream's start; http.Server.Shutdown does not wait for them (Close
// ends them); and a client that went away is noticed by one epoll
// goroutine per Handler on Linux, at the next heartbeat elsewhere. Choose
// this option when middleware or connection tracking must see the stream
// for its whole life. Where a connection cannot be taken (HTTP/2, a
// wrapper without Unwrap or Hijack) streams stay in the handler anyway.
func WithStreamsInHandler() Option { return func(o *options) { o.hijack = false } }

// WithMaxSavedStates bounds how many session groups' last states are kept
// for reloads and JavaScript-free posts (default 10,000; least recently used
// go first).
func WithMaxSavedStates(n int) Option { return func(o *options) { o.maxStates = n } }
