package pgnotify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
			m, _, ok := l.receive(ctx, p)
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

// errSkip is a payload that is fine but not for the subscribers: this
// instance's own message, a beacon, a message for another instance.
var errSkip = errors.New("pgnotify: not for the subscribers")

// receive turns a payload into the message to deliver, with the time it
// was made. It reports false for what is not to be delivered; refused
// payloads are counted and logged.
func (l *Listener) receive(ctx context.Context, payload string) (lt.Message, time.Time, bool) {
	m, made, err := l.accept(ctx, payload, false)
	if err == nil {
		if mm := l.cfg.metrics; mm != nil {
			mm.Delivered(l.cfg.now().Sub(made))
		}
		return m, made, true
	}
	s := &l.stats
	var reason string
	switch {
	case errors.Is(err, errSkip):
		return lt.Message{}, time.Time{}, false
	case ctx.Err() != nil: // closing
		return lt.Message{}, time.Time{}, false
	case errors.Is(err, errUnauthenticated):
		s.unauthenticated.Add(1)
		reason = "unauthenticated"
	case errors.Is(err, errStale):
		s.stale.Add(1)
		reason = "stale"
	case errors.Is(err, errReplayed):
		s.replayed.Add(1)
		reason = "replayed"
	case errors.Is(err, ErrMissingMessage), !errors.Is(err, ErrBadPayload):
		// A good message could not be read (or an authentic reference
		// names a row that is gone): it is lost, as if dropped.
		s.dropped.Add(1)
		l.log.Error("pgnotify: message lost; resyncing every page", "err", err)
		l.requestResync()
		return lt.Message{}, time.Time{}, false
	default:
		s.malformed.Add(1)
		reason = "malformed"
	}
	l.refusals.note(l.log, l.cfg.now(), reason, "pgnotify: notification refused", err, payload)
	if h := l.cfg.hooks.refused; h != nil {
		h(reason)
	}
	return lt.Message{}, time.Time{}, false
}

// accept authenticates a payload, checks its time and that it was not
// seen before, then decodes it; only then, for a reference, it reads the
// stored message, which must be of the same type and bound to the
// reference by its SHA-256. stored is true for a stored message. It
// returns the message with the time its sender made it.
func (l *Listener) accept(ctx context.Context, payload string, stored bool) (m lt.Message, made time.Time, err error) {
	e, err := l.acceptAt(ctx, payload, stored, &made)
	return e.Message, made, err
}

// acceptAt is accept, returning the whole envelope of the message.
func (l *Listener) acceptAt(ctx context.Context, payload string, stored bool, made *time.Time) (envelope, error) {
	o, err := l.keys.open(l.cfg.channel, payload)
	if err != nil {
		return envelope{}, err
	}
	if err := l.replay.check(o.id, o.time, l.cfg.now()); err != nil {
		return envelope{}, err
	}
	*made = time.UnixMicro(o.time) // a stored message's own, read below, comes last
	var e envelope
	if o.signed {
		e, err = decodeSQL(o.body)
	} else {
		e, err = decode(o.body)
	}
	if err != nil {
		return envelope{}, err
	}
	if stored && (e.Ref != "" || e.Beacon != "") {
		return envelope{}, fmt.Errorf("%w: a stored message is a reference or a beacon", ErrBadPayload)
	}
	if e.Instance == l.cfg.instance && !e.Echo {
		return envelope{}, errSkip // applied by this instance when it sent it
	}
	if e.Beacon != "" {
		l.beaconReceived(e.Instance, e.Beacon, time.Duration(e.Every)*time.Millisecond)
		return envelope{}, errSkip
	}
	l.heard(e.Instance, 0)
	if e.To != "" && e.To != l.cfg.instance {
		return envelope{}, errSkip // for another instance
	}
	if e.Ref == "" {
		return e, nil
	}
	inner, err := l.fetch(ctx, e)
	if err != nil {
		return envelope{}, err
	}
	if inner[:2] != payload[:2] {
		return envelope{}, fmt.Errorf("%w: a stored message of another type than its reference", ErrBadPayload)
	}
	in, err := l.acceptAt(ctx, inner, true, made)
	switch {
	case err != nil:
		return envelope{}, fmt.Errorf("stored message %.12s…: %w", e.Ref, err)
	case in.Instance != e.Instance || in.Message.To() != e.To:
		return envelope{}, fmt.Errorf("%w: a stored message from another sender, or for another instance, than its reference", ErrBadPayload)
	}
	return in, nil
}

// fetch reads the payload a reference names from lt_messages, and checks
// it is the one the reference names. A message for this instance alone is
// deleted as it is read.
func (l *Listener) fetch(ctx context.Context, ref envelope) (string, error) {
	digest, err := hex.DecodeString(ref.Ref)
	if err != nil { // checked by validate
		return "", fmt.Errorf("%w: reference %q", ErrBadPayload, ref.Ref)
	}
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	payload, err := l.fetchRow(ctx, digest, ref.To != "")
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", fmt.Errorf("%w: %.12s…", ErrMissingMessage, ref.Ref)
	case err != nil:
		return "", fmt.Errorf("pgnotify: reading stored message %.12s…: %w", ref.Ref, err)
	case len(payload) > l.maxPayload():
		return "", fmt.Errorf("%w: stored message %.12s… is %d bytes, over %d", ErrBadPayload, ref.Ref, len(payload), l.maxPayload())
	}
	if sum := sha256.Sum256([]byte(payload)); hex.EncodeToString(sum[:]) != ref.Ref {
		return "", fmt.Errorf("%w: stored message %.12s… is not the one its notification names", errUnauthenticated, ref.Ref)
	}
	if len(payload) < 2 {
		return "", fmt.Errorf("%w: stored message %.12s… is empty", ErrBadPayload, ref.Ref)
	}
	return payload, nil
}

// maxPayload is the largest payload of a message of at most maxMessage
// bytes of JSON.
func (l *Listener) maxPayload() int {
	return signedHeaderLen + b64.EncodedLen(sealHeaderLen+l.cfg.maxMessage+gcmTagLen)
}

// fetchFromTable reads (or, with take, deletes and returns) a row of
// lt_messages.
func (l *Listener) fetchFromTable(ctx context.Context, digest []byte, take bool) (string, error) {
	q := "SELECT payload FROM lt_messages WHERE id = $1"
	if take {
		q = "DELETE FROM lt_messages WHERE id = $1 RETURNING payload"
	}
	var payload string
	err := l.pool.QueryRow(ctx, q, digest).Scan(&payload)
	return payload, err
}
