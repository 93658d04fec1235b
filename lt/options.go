package lt

import (
	"fmt"
	"log/slog"
	"slices"
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
	uploads        map[string]Upload // WithUpload
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
	maxConns       int
	clientConns    int
	clientStreams  int
	maxForward     int
	secret         []byte
	oldSecrets     [][]byte
	metrics        Metrics
	tracer         Tracer
	hijack         bool
	gzip           bool
	dev            bool          // WithDevMode
	devFiles       []string      // WithDevMode's template files
	devPoll        time.Duration // WithDevPoll
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
		clientConns:    128,
		clientStreams:  8,
		maxForward:     256 << 10,
		hijack:         true,
	}
}

// check refuses option values that cannot work, so that a typo fails at
// New rather than as every request refused.
func (o *options) check() error {
	for _, c := range []struct {
		ok   bool
		what string
	}{
		{o.maxBody > 0, fmt.Sprintf("WithMaxBodyBytes(%d): must be positive", o.maxBody)},
		{o.maxFields > 0, fmt.Sprintf("WithMaxFields(%d): must be positive", o.maxFields)},
		{o.heartbeat >= 0, fmt.Sprintf("WithHeartbeat(%v): must not be negative (0 is the default, 15 s)", o.heartbeat)},
		{o.retry > 0, fmt.Sprintf("WithRetry(%v): must be positive", o.retry)},
		{o.writeTimeout >= 0, fmt.Sprintf("WithWriteTimeout(%v): must not be negative (0 is the default, 10 s)", o.writeTimeout)},
		{o.connectTimeout > 0, fmt.Sprintf("WithConnectTimeout(%v): must be positive", o.connectTimeout)},
		{o.reconnectGrace > 0, fmt.Sprintf("WithReconnectGrace(%v): must be positive", o.reconnectGrace)},
		{o.maxStates > 0, fmt.Sprintf("WithMaxSavedStates(%d): must be positive", o.maxStates)},
		{o.maxStreams >= 0, fmt.Sprintf("WithMaxStreams(%d): must not be negative (0: no limit)", o.maxStreams)},
		{o.maxConns >= 0, fmt.Sprintf("WithMaxConnections(%d): must not be negative (0: no limit)", o.maxConns)},
		{o.clientConns > 0 && o.clientStreams > 0, fmt.Sprintf("WithClientLimits(%d, %d): both must be positive", o.clientConns, o.clientStreams)},
		{o.devPoll >= 0, fmt.Sprintf("WithDevPoll(%v): must not be negative (0 is the default, 500 ms)", o.devPoll)},
		{o.maxForward > 0, fmt.Sprintf("WithMaxForwardBytes(%d): must be positive", o.maxForward)},
		{o.secret == nil || len(o.secret) >= sessioncookie.MinSecret, fmt.Sprintf("WithSecret: %d bytes; use at least %d random bytes", len(o.secret), sessioncookie.MinSecret)},
		{!slices.ContainsFunc(o.oldSecrets, func(s []byte) bool { return len(s) < sessioncookie.MinSecret }), fmt.Sprintf("WithSecret: a previous secret is under %d bytes", sessioncookie.MinSecret)},
	} {
		if !c.ok {
			return fmt.Errorf("lt: option %s", c.what)
		}
	}
	if err := checkUploads(o.uploads); err != nil {
		return fmt.Errorf("lt: option %w", err)
	}
	return nil
}

// WithAuthenticator identifies logged-in users; see Authenticator. Without
// it (and without an Identity from middleware) every browser is an
// anonymous session keyed by a session cookie.
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
// (default 1000). More get 413. Above 10,000 it does not raise Go's own
// bounds: net/url parses at most 10,000 url-encoded fields, and
// mime/multipart 1000 parts (GODEBUG multipartmaxparts).
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

// WithTrustedOrigins lets action POSTs and event streams come from these
// origins besides the page's own ("https://admin.example.com"). Others get
// 403.
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

// WithMaxConnections bounds the live connections (tabs, and rendered
// pages whose stream has not opened yet) the Handler holds at once
// (default 0: no limit but the per-client ones). A new one over the limit
// ends the oldest connection that has no stream; if every one has a
// stream, the page or stream gets 503 with Retry-After.
func WithMaxConnections(n int) Option { return func(o *options) { o.maxConns = n } }

// WithClientLimits bounds what one client (a signed-in user, else one
// session cookie) holds on this page: connections, that is tabs and
// rendered pages (default 128: a browser with many tabs open on the page,
// or a user's devices), and event streams (default 8; one browser needs
// one, or one per 64 tabs). Over the connection limit a new one ends the
// client's own oldest connection that has no stream, or, when all have
// one, is refused with 429, as is a stream naming more tabs than the
// limit; over the stream limit a new stream ends the client's oldest.
// Other clients are never affected. A client without a session cookie
// (one that ignores cookies) is a new session every time: each of its
// streams may open one connection, and the pages it loads without ever
// connecting are bounded by the Handler as a whole.
func WithClientLimits(conns, streams int) Option {
	return func(o *options) { o.clientConns, o.clientStreams = conns, streams }
}

// WithMaxForwardBytes bounds the action POST (its form and headers) that
// an instance forwards to the instance holding the tab's connection
// (default 256 KiB): larger ones get 413. Behind a load balancer with
// sticky sessions nothing is forwarded.
func WithMaxForwardBytes(n int) Option { return func(o *options) { o.maxForward = n } }

// WithSecret gives lt the app's secret, at least 32 random bytes, the same
// on every instance: it signs the anonymous session cookie, so that only
// session ids the app issued are accepted. Cookies signed with a previous
// secret are still accepted, so that rotating the secret keeps sessions.
// Without it a key made at start signs them: that serves one process (its
// Handlers and middleware.Session agree), but sessions end when it
// restarts, and with a Broadcaster connecting several processes New
// refuses to start without a secret. Pass the same secrets to
// middleware.SessionWith and to pgnotify.WithSecret.
func WithSecret(current []byte, previous ...[]byte) Option {
	return func(o *options) { o.secret, o.oldSecrets = current, previous }
}

// WithStreamsInHandler keeps each event stream inside its handler, on
// net/http's connection goroutine with its buffers, instead of taking the
// connection over once the headers are written (http.Hijacker), which is
// the default on HTTP/1.x.
//
// Taken streams cost about a fifth of the memory (5.8 against 32 KiB per
// idle stream, see docs/performance.md): no goroutine waits on an idle
// one, and a fan-out writes to them from the goroutine that ran the
// action. Their response is delimited by closing the
// connection; middleware sees the request end at once, so chi's Timeout
// and Throttle no longer cut or hold streams and its Logger logs the
// stream's start; http.Server.Shutdown does not wait for them (Close
// ends them); and a client that went away is noticed at once on Linux
// (one epoll instance and goroutine per process, shared by every
// Handler, holding no OS thread while it waits), at the next heartbeat
// elsewhere. Choose
// this option when middleware or connection tracking must see the stream
// for its whole life. Where a connection cannot be taken (HTTP/2, a
// wrapper without Unwrap or Hijack) streams stay in the handler anyway.
func WithStreamsInHandler() Option { return func(o *options) { o.hijack = false } }

// WithStreamCompression gzips the event streams of clients whose
// Accept-Encoding admits gzip (every browser's does): such a stream is
// answered with "Content-Encoding: gzip" and "Vary: Accept-Encoding", and
// each write (an update, a render, a replay on resume, a heartbeat) is
// compressed with the stream's recent bytes as context and flushed whole,
// so every event still reaches the browser at once. Pages, action
// responses and other clients' streams are sent as they are.
//
// What it costs: each compressed stream keeps the last
// sse.DefaultGzipHistory (256) bytes it sent, the context its next
// write refers back to (0.1-0.8 KiB more memory per stream, measured),
// and compressing takes about 1-2 µs of CPU per event (9-16 % more per
// delivery in a fan-out to 10,000 streams). What it saves: a one-value
// update is about 21 bytes on the wire instead of 82, a first render or
// a resync a fraction of its size. docs/performance.md ("Compressed
// streams") has the figures and how they were measured. A proxy in front
// must pass such a stream on as it is: nginx's gzip and chi's Compress
// leave a response that has a Content-Encoding alone (docs/deploying.md).
func WithStreamCompression() Option { return func(o *options) { o.gzip = true } }

// WithMaxSavedStates bounds how many sessions' last states are kept
// for reloads and JavaScript-free posts (default 10,000). When it is
// reached, a new state takes the place of one not used recently. The bound
// is the store's as a whole: it may hold up to n+15 (one more for each of
// its 16 shards that had none when it filled).
func WithMaxSavedStates(n int) Option { return func(o *options) { o.maxStates = n } }
