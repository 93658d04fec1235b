package pgnotify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/livesse/livesse/lt"
)

// Publish sends m to every other instance, through the pool, at once, or,
// when m.To() is set, to that instance only: if no live instance has that
// id, it returns an error wrapping lt.ErrNoInstance and sends and stores
// nothing. It returns once PostgreSQL has committed the notification.
// Concurrent calls share a statement, and so a commit (PostgreSQL commits
// notifying transactions one at a time, which is what bounds the rate of
// messages): each statement sends what was queued while the last one ran.
// Messages published one after the other arrive in that order. A message
// is not delivered back to this instance: lt applies it locally itself.
// A message over 8000 bytes goes through lt_messages (see Setup).
// lt.Handler calls Publish; apps call the Handler's TriggerSession,
// TriggerUser or TriggerAll.
func (l *Listener) Publish(ctx context.Context, m lt.Message) error {
	return l.send(ctx, nil, m, false)
}

// PublishTx sends m through tx: it is delivered when tx commits, and never
// if it rolls back, like a NOTIFY in the transaction. Unlike Publish it
// reaches this instance too (as a message from SQL does), since nothing
// was applied locally:
//
//	tx, _ := pool.Begin(ctx)
//	_, _ = tx.Exec(ctx, "INSERT INTO orders ...")
//	m, _ := lt.ServerAction("orders", lt.ToAll, "", "refresh", nil)
//	_ = l.PublishTx(ctx, tx, m)
//	err := tx.Commit(ctx) // every dashboard, on every instance, refreshes
//
// The transaction must commit within MessageWindow (2 minutes) of the
// call: receivers refuse older messages.
func (l *Listener) PublishTx(ctx context.Context, tx pgx.Tx, m lt.Message) error {
	return l.send(ctx, tx, m, true)
}

// storeAndNotify stores a large message and sends the notification that
// names it, in one statement (so in one transaction), deleting the rows
// that have outlived MessageWindow.
const storeAndNotify = `WITH expired AS (DELETE FROM lt_messages WHERE created_at < clock_timestamp() - interval '2 minutes'),
  stored AS (INSERT INTO lt_messages (id, payload) VALUES ($1, $2))
SELECT pg_notify($3, $4)`

// send seals m in an envelope and sends it with pg_notify, storing it in
// lt_messages if it is too large for a notification: through tx, or
// without one (tx nil) in the next batch of notifications (batch.go), or
// through the pool for a large message.
func (l *Listener) send(ctx context.Context, tx Execer, m lt.Message, echo bool) error {
	if l.closed.Load() {
		return ErrClosed
	}
	to := m.To()
	if to != "" && !l.live(to) {
		return fmt.Errorf("pgnotify: publishing %s: %w: %q", m, lt.ErrNoInstance, to)
	}
	if to == l.cfg.instance && !echo {
		return nil // for this instance only, which applies it itself
	}
	// encode refuses what the receivers would refuse: say so here instead.
	body, err := encode(envelope{V: EnvelopeVersion, Instance: l.cfg.instance, Echo: echo, Message: m})
	if err != nil {
		return err
	}
	if len(body) > l.cfg.maxMessage {
		return fmt.Errorf("%w: %d bytes, over %d", ErrTooLarge, len(body), l.cfg.maxMessage)
	}
	now := l.cfg.now().UnixMicro()
	payload := l.keys.seal(l.cfg.channel, now, body)
	db := tx
	if db == nil {
		db = l.pool
	}
	switch {
	case len(payload) < maxNotifyPayload && tx == nil && !l.cfg.hooks.unbatched:
		err = l.notify(ctx, payload)
	case len(payload) < maxNotifyPayload:
		_, err = db.Exec(ctx, "SELECT pg_notify($1, $2)", l.cfg.channel, payload)
	default:
		sum := sha256.Sum256([]byte(payload))
		ref, rerr := encode(envelope{V: EnvelopeVersion, Instance: l.cfg.instance, To: to, Echo: echo, Ref: hex.EncodeToString(sum[:])})
		if rerr != nil {
			return rerr
		}
		_, err = db.Exec(ctx, storeAndNotify, sum[:], payload, l.cfg.channel, l.keys.seal(l.cfg.channel, now, ref))
	}
	if err != nil {
		return fmt.Errorf("pgnotify: publishing %s: %w", m, err)
	}
	l.stats.published.Add(1)
	if mm := l.cfg.metrics; mm != nil {
		mm.Published(len(payload), len(payload) >= maxNotifyPayload)
	}
	return nil
}
