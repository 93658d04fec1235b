package pgnotify

import (
	"context"
	"encoding/json"
	"testing"
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
	body, err := encode(envelope{V: EnvelopeVersion, Instance: l.cfg.instance, Message: m})
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

// Msg is what the tests read and build of an lt.Message: its JSON form
// (lt's wire keys) and its sender.
type Msg struct {
	Instance      string         `json:"i,omitempty"`
	Page          string         `json:"p"`
	Kind          lt.Kind        `json:"k"`
	Target        string         `json:"t"`
	Action        string         `json:"a"`
	Data          map[string]any `json:"d,omitempty"`
	Except        string         `json:"x,omitempty"`
	Sync          bool           `json:"s,omitempty"`
	Identity      *lt.Identity   `json:"id,omitempty"`
	FromBroadcast bool           `json:"b,omitempty"`
	Close         bool           `json:"z,omitempty"`
	To            string         `json:"to,omitempty"`
	Request       map[string]any `json:"rq,omitempty"`
}

// M is the lt.Message of w, as lt decodes it from another instance.
func (w Msg) M(tb testing.TB) lt.Message {
	tb.Helper()
	b, err := json.Marshal(w)
	if err != nil {
		tb.Fatal(err)
	}
	var m lt.Message
	if err := m.UnmarshalJSON(b); err != nil {
		tb.Fatalf("lt refuses %s: %v", b, err)
	}
	return m
}

// View is what a test reads of m.
func View(tb testing.TB, m lt.Message) Msg {
	tb.Helper()
	b, err := m.MarshalJSON()
	if err != nil {
		tb.Fatal(err)
	}
	var w Msg
	if err := json.Unmarshal(b, &w); err != nil {
		tb.Fatal(err)
	}
	w.Instance = m.From()
	return w
}
