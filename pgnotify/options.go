package pgnotify

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/livesse/livesse/lt"
)

// DefaultChannel is the NOTIFY channel used without WithChannel.
const DefaultChannel = "livesse"

// Option configures New and Setup. WithSecret is required; the rest have
// defaults that work: a random instance id, channel DefaultChannel,
// slog.Default(), a listen connection taken from the pool.
type Option func(*config)

type config struct {
	instance     string
	channel      string
	logger       *slog.Logger
	listenConfig *pgx.ConnConfig
	pingInterval time.Duration
	backoffMin   time.Duration
	backoffMax   time.Duration
	queueSize    int
	maxMessage   int
	secrets      [][]byte // current first, then the previous ones
	hooks        hooks
	now          func() time.Time
	metrics      Metrics
}

// hooks let this package's tests stop the listener at chosen points.
type hooks struct {
	beforeReconnect func(ctx context.Context) // once per lost connection
	received        func()                    // after each notification is read
	pinged          func()                    // after each successful ping
	beacon          func(from, kind string)   // after each beacon from another instance is handled
	refused         func(reason string)       // after each payload is refused
	noBeacons       bool                      // send none
	unbatched       bool                      // Publish sends a statement per notification
}

func defaultConfig() config {
	return config{
		channel:      DefaultChannel,
		logger:       slog.Default(),
		pingInterval: 5 * time.Second,
		backoffMin:   100 * time.Millisecond,
		backoffMax:   10 * time.Second,
		queueSize:    16384,
		maxMessage:   8 << 20,
		now:          time.Now,
	}
}

// WithInstance sets this instance's id, which must be unique among the
// app's instances and valid for lt: 1 to 32 letters, digits, '_' or '-'
// (a pod or host name, say). The default is random, which is right for
// most deployments: connection ids carry it, and they live no longer than
// the process.
func WithInstance(id string) Option { return func(c *config) { c.instance = id } }

// WithChannel sets the NOTIFY channel (default DefaultChannel). It must be
// a lower-case identifier of at most 63 bytes (letters, digits and '_',
// not starting with a digit), so that it means the same in LISTEN, NOTIFY
// and pg_notify. Pass the same option to Setup: lt_notify sends on it.
func WithChannel(name string) Option { return func(c *config) { c.channel = name } }

// WithSecret sets the secret that authenticates messages between the
// instances of the app (required, at least MinSecretBytes random bytes,
// the same on every instance: for example the output of
// `openssl rand -hex 32` from your secret store). Messages are sent under
// current and accepted under current and every previous one, which is how
// the secret is rotated (see docs/multi-instance.md). Pass the same option
// to Setup: it stores the key lt_notify signs with, derived from current.
//
// Two keys are derived from each secret with HMAC-SHA256: one seals the
// messages instances send each other (AES-256-GCM, so other database roles
// that LISTEN cannot read them either), one signs the messages of
// lt_notify. The second is stored in the database (table lt_keys, readable
// by its owner only); it can sign server actions, nothing more.
func WithSecret(current []byte, previous ...[]byte) Option {
	secrets := [][]byte{bytes.Clone(current)}
	for _, p := range previous {
		secrets = append(secrets, bytes.Clone(p))
	}
	return func(c *config) { c.secrets = secrets }
}

// WithLogger sets where the Listener logs (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l
		}
	}
}

// WithListenConfig makes the Listener open its LISTEN connection with cfg
// instead of taking one out of the pool. Use it when the pool goes through
// a transaction-pooling proxy (PgBouncer in transaction mode), where LISTEN
// does not work: cfg must reach the primary directly.
func WithListenConfig(cfg *pgx.ConnConfig) Option {
	return func(c *config) { c.listenConfig = cfg }
}

// WithPingInterval sets how long the listen connection may stay silent
// before it is pinged (default 5 s). A failed ping counts as a lost
// connection. It is also the interval of the instance's beacons (at least
// a second), by which the others know it is live: an instance not heard
// from for three of its intervals is not, and Publish refuses messages for
// it.
func WithPingInterval(d time.Duration) Option { return func(c *config) { c.pingInterval = d } }

// WithBackoff sets the bounds of the jittered exponential backoff between
// reconnect attempts (default 100 ms to 10 s).
func WithBackoff(minDelay, maxDelay time.Duration) Option {
	return func(c *config) { c.backoffMin, c.backoffMax = minDelay, maxDelay }
}

// WithQueueSize bounds the notifications read but not yet delivered
// (default 16384). When it is full the reader drops the notification rather
// than stop reading (a listener that stops reading holds back PostgreSQL's
// queue for every listener), and every subscriber resyncs.
func WithQueueSize(n int) Option { return func(c *config) { c.queueSize = n } }

// WithMaxMessageBytes bounds a message's JSON envelope (default 8 MiB).
// Publish refuses larger ones with ErrTooLarge, and a stored message
// larger than this (sealed) is refused as a bad payload.
func WithMaxMessageBytes(n int) Option { return func(c *config) { c.maxMessage = n } }

// needSecret says whether newConfig must check WithSecret.
type needSecret bool

func newConfig(opts []Option, secret needSecret) (config, error) {
	c := defaultConfig()
	for _, o := range opts {
		o(&c)
	}
	if secret {
		if err := checkSecrets(c.secrets); err != nil {
			return c, err
		}
	}
	if c.instance == "" {
		c.instance = randomInstance()
	}
	switch {
	case !lt.ValidInstance(c.instance):
		return c, fmt.Errorf("%w: instance id %q: use 1 to 32 letters, digits, '_' or '-'", ErrInvalidConfig, c.instance)
	case !validChannel(c.channel):
		return c, fmt.Errorf("%w: channel %q: use a lower-case identifier of at most 63 bytes", ErrInvalidConfig, c.channel)
	case c.pingInterval <= 0:
		return c, fmt.Errorf("%w: ping interval %v", ErrInvalidConfig, c.pingInterval)
	case c.backoffMin <= 0 || c.backoffMax < c.backoffMin:
		return c, fmt.Errorf("%w: backoff %v to %v", ErrInvalidConfig, c.backoffMin, c.backoffMax)
	case c.queueSize < 1:
		return c, fmt.Errorf("%w: queue size %d", ErrInvalidConfig, c.queueSize)
	case c.maxMessage < maxNotifyPayload:
		return c, fmt.Errorf("%w: max message bytes %d is under %d", ErrInvalidConfig, c.maxMessage, maxNotifyPayload)
	}
	return c, nil
}

func checkSecrets(secrets [][]byte) error {
	const how = "use at least 32 random bytes, the same on every instance, for example from `openssl rand -hex 32`"
	if len(secrets) == 0 || len(secrets[0]) == 0 {
		return fmt.Errorf("%w: no secret: pass pgnotify.WithSecret(secret) to New and Setup; %s (instances trust only messages made with it)", ErrInvalidConfig, how)
	}
	for i, s := range secrets {
		if len(s) < MinSecretBytes {
			which := "the secret"
			if i > 0 {
				which = fmt.Sprintf("previous secret %d", i)
			}
			return fmt.Errorf("%w: %s is %d bytes: %s", ErrInvalidConfig, which, len(s), how)
		}
	}
	return nil
}
