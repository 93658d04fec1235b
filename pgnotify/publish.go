package pgnotify

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/livesse/livesse/lt"
)

// Publish sends m to every other instance, through the pool, at once (in
// its own implicit transaction). It is not delivered back to this
// instance: lt applies m locally itself. A message over 8000 bytes goes
// through lt_messages (see Setup). lt.Handler calls Publish; apps call the
// Handler's TriggerGroup, TriggerUser or TriggerAll.
func (l *Listener) Publish(ctx context.Context, m lt.Message) error {
	return l.send(ctx, l.pool, m, false)
}

// PublishTx sends m through tx: it is delivered when tx commits, and never
// if it rolls back, like a NOTIFY in the transaction. Unlike Publish it
// reaches this instance too (as a message from SQL does), since nothing
// was applied locally:
//
//	tx, _ := pool.Begin(ctx)
//	_, _ = tx.Exec(ctx, "INSERT INTO orders ...")
//	_ = l.PublishTx(ctx, tx, lt.Message{Page: "orders", Kind: lt.ToAll, Action: "refresh"})
//	err := tx.Commit(ctx) // every dashboard, on every instance, refreshes
func (l *Listener) PublishTx(ctx context.Context, tx pgx.Tx, m lt.Message) error {
	return l.send(ctx, tx, m, true)
}

// send encodes m in an envelope and sends it with pg_notify, or through
// lt_send (and lt_messages) if it is too large for a notification.
func (l *Listener) send(ctx context.Context, db Execer, m lt.Message, echo bool) error {
	if l.closed.Load() {
		return ErrClosed
	}
	m.Instance = l.cfg.instance
	e := envelope{V: EnvelopeVersion, Echo: echo, Message: m}
	if err := e.validate(); err != nil {
		// The receivers would refuse it: say so here instead.
		return fmt.Errorf("pgnotify: cannot publish: %w", err)
	}
	body, err := encode(e)
	if err != nil {
		return err
	}
	if len(body) > l.cfg.maxMessage {
		return fmt.Errorf("%w: %d bytes, over %d", ErrTooLarge, len(body), l.cfg.maxMessage)
	}
	if len(body) < maxNotifyPayload {
		_, err = db.Exec(ctx, "SELECT pg_notify($1, $2)", l.cfg.channel, string(body))
	} else {
		_, err = db.Exec(ctx, "SELECT lt_send($1, $2::jsonb)", l.cfg.channel, string(body))
	}
	if err != nil {
		return fmt.Errorf("pgnotify: publishing %s to %s %q: %w", m.Action, m.Kind, m.Target, err)
	}
	return nil
}
