package pgnotify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/livesse/livesse/lt"
)

// fetchTimeout bounds reading a large message from lt_messages.
const fetchTimeout = 5 * time.Second

// deliver applies queued notifications to the subscribers, in the order
// they were committed, and runs the resyncs the reader asks for.
func (l *Listener) deliver(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.resync:
			l.stats.resyncs.Add(1)
			for _, s := range l.subscribers() {
				s.Resync()
			}
		case p := <-l.inbox:
			m, ok := l.receive(ctx, p)
			if !ok {
				continue
			}
			l.stats.delivered.Add(1)
			for _, s := range l.subscribers() {
				s.Deliver(m)
			}
		}
	}
}

// receive decodes a payload into the message to deliver. It reports false
// for this instance's own messages and for bad payloads, which it logs and
// counts.
func (l *Listener) receive(ctx context.Context, payload string) (lt.Message, bool) {
	e, err := decode([]byte(payload))
	if err == nil && e.Instance == l.cfg.instance && !e.Echo {
		return lt.Message{}, false // applied by this instance when it sent it
	}
	if err == nil && e.Ref != 0 {
		e, err = l.fetch(ctx, e)
	}
	switch {
	case err == nil:
		return e.Message, true
	case ctx.Err() != nil: // closing
	case errors.Is(err, ErrBadPayload):
		l.stats.malformed.Add(1)
		l.log.Warn("pgnotify: notification refused", "err", err, "payload", clip(payload))
	default:
		// A good message could not be read: it is lost, as if dropped.
		l.stats.dropped.Add(1)
		l.log.Error("pgnotify: message lost; resyncing every page", "err", err)
		l.requestResync()
	}
	return lt.Message{}, false
}

// fetch reads the envelope a reference points to from lt_messages.
func (l *Listener) fetch(ctx context.Context, ref envelope) (envelope, error) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	var body []byte
	err := l.pool.QueryRow(ctx, "SELECT payload::text FROM lt_messages WHERE id = $1", ref.Ref).Scan(&body)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return envelope{}, fmt.Errorf("%w: id %d", ErrMissingMessage, ref.Ref)
	case err != nil:
		return envelope{}, fmt.Errorf("pgnotify: reading message %d: %w", ref.Ref, err)
	case len(body) > l.cfg.maxMessage:
		return envelope{}, fmt.Errorf("%w: message %d is %d bytes, over %d", ErrBadPayload, ref.Ref, len(body), l.cfg.maxMessage)
	}
	e, err := decode(body)
	if err != nil {
		return envelope{}, fmt.Errorf("message %d: %w", ref.Ref, err)
	}
	if e.Ref != 0 {
		return envelope{}, fmt.Errorf("%w: message %d is itself a reference", ErrBadPayload, ref.Ref)
	}
	return e, nil
}
