package pgnotify

import (
	"context"
	"time"

	"github.com/livesse/livesse/lt"
)

// WithReconnectHook calls f (in the listening goroutine) each time the
// listen connection is lost, before reconnecting; the reconnect waits for
// f to return.
func WithReconnectHook(f func(ctx context.Context)) Option {
	return func(c *config) { c.hooks.beforeReconnect = f }
}

// WithReceiveHook calls f after each notification is read and handed off
// (or dropped).
func WithReceiveHook(f func()) Option { return func(c *config) { c.hooks.received = f } }

// WithPingHook calls f after each successful ping of the listen
// connection.
func WithPingHook(f func()) Option { return func(c *config) { c.hooks.pinged = f } }

// WithBeaconHook calls f (in the delivering goroutine) after each beacon
// from another instance is handled.
func WithBeaconHook(f func(from, kind string)) Option {
	return func(c *config) { c.hooks.beacon = f }
}

// WithRefusedHook calls f (in the delivering goroutine) after each payload
// is refused, with the reason: unauthenticated, stale, replayed,
// malformed.
func WithRefusedHook(f func(reason string)) Option {
	return func(c *config) { c.hooks.refused = f }
}

// WithClock makes the Listener read the time from now.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithoutBeacons stops the Listener from sending beacons (so that a test
// can count exactly what other instances refuse). Nobody knows it is
// live, and Publish to it fails.
func WithoutBeacons() Option { return func(c *config) { c.hooks.noBeacons = true } }

// Seal makes the payload of an instance message with JSON body, made at
// t, as the Listener would send it.
func (l *Listener) Seal(body string, t time.Time) string {
	return l.keys.seal(l.cfg.channel, t.UnixMicro(), []byte(body))
}

// SealMessage makes the payload Publish would send for m (small enough
// for a notification).
func (l *Listener) SealMessage(m lt.Message) (string, error) {
	m.Instance = l.cfg.instance
	body, err := encode(envelope{V: EnvelopeVersion, Message: m})
	if err != nil {
		return "", err
	}
	return l.keys.seal(l.cfg.channel, l.cfg.now().UnixMicro(), body), nil
}

// SignSQL makes the payload lt_notify would make with secret on channel
// for JSON body, at t, with the given nonce (32 hex digits).
func SignSQL(secret []byte, channel string, t time.Time, nonce, body string) string {
	k := deriveSubkeys(secret)
	return signSQL(k.sql, k.sqlKID, channel, t.UnixMicro(), nonce, body)
}

// AwaitPeer waits until the Listener knows instance id is live.
func (l *Listener) AwaitPeer(ctx context.Context, id string) error { return l.awaitPeer(ctx, id) }

// KeyIDs returns the ids of the instance key and the SQL key of secret.
func KeyIDs(secret []byte) (instance, sql string) {
	k := deriveSubkeys(secret)
	return k.instKID, k.sqlKID
}

// WithoutBatches makes Publish send each notification in a statement of
// its own, as before batches: the benchmarks' baseline.
func WithoutBatches() Option { return func(c *config) { c.hooks.unbatched = true } }
