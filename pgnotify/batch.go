package pgnotify

import (
	"context"
	"sync/atomic"
	"time"
)

// Publish's notifications go out in batches: one statement, so one
// transaction, sends every notification queued while the previous one
// ran. PostgreSQL takes a global lock to commit a transaction that
// notified, so notifications sent together cost one commit instead of one
// each: under load the batches grow by themselves, and with one message
// at a time a batch is that message, sent at once.
const (
	maxBatch      = 512             // notifications in one statement
	maxBatchBytes = 1 << 20         // their payloads' bytes
	batchTimeout  = 5 * time.Second // bounds a statement, and Close's wait for it
)

// notifyMany sends its payloads on one channel, in order, in one
// statement.
const notifyMany = "SELECT pg_notify($1, p) FROM unnest($2::text[]) WITH ORDINALITY AS t(p, i) ORDER BY i"

// outgoing is a notification waiting for its batch.
type outgoing struct {
	payload string
	done    chan error // buffered: the batcher never waits for the caller
	gone    atomic.Bool
}

// notify queues payload for the next batch and waits until it is sent,
// ctx is done, or the Listener closes.
func (l *Listener) notify(ctx context.Context, payload string) error {
	if err := ctx.Err(); err != nil {
		return err // sends nothing (select would pick at random)
	}
	o := &outgoing{payload: payload, done: make(chan error, 1)}
	select {
	case l.outbox <- o:
	case <-ctx.Done():
		return ctx.Err()
	case <-l.stopped:
		return ErrClosed
	}
	select {
	case err := <-o.done:
		return err
	case <-ctx.Done():
		// Not sent if the batcher has not taken it yet; maybe sent if it
		// has, as with a statement cancelled in flight.
		o.gone.Store(true)
		return ctx.Err()
	case <-l.stopped:
		// The batcher answers what it took before it stopped.
		select {
		case err := <-o.done:
			return err
		default:
			return ErrClosed
		}
	}
}

// batches sends the outbox's notifications until ctx is done, then fails
// those still queued with ErrClosed.
func (l *Listener) batches(ctx context.Context) {
	defer func() {
		close(l.stopped)
		for {
			select {
			case o := <-l.outbox:
				o.done <- ErrClosed
			default:
				return
			}
		}
	}()
	batch := make([]*outgoing, 0, maxBatch)
	payloads := make([]string, 0, maxBatch)
	for {
		select {
		case <-ctx.Done():
			return
		case o := <-l.outbox:
			batch = append(batch[:0], o)
		}
		size := len(batch[0].payload)
	more:
		for len(batch) < maxBatch && size < maxBatchBytes {
			select {
			case o := <-l.outbox:
				batch = append(batch, o)
				size += len(o.payload)
			default:
				break more
			}
		}
		payloads = payloads[:0]
		for _, o := range batch {
			if !o.gone.Load() {
				payloads = append(payloads, o.payload)
			}
		}
		var err error
		if len(payloads) > 0 {
			// A statement on its way finishes even if Close comes: its
			// callers learn whether it was sent.
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), batchTimeout)
			_, err = l.pool.Exec(sctx, notifyMany, l.cfg.channel, payloads)
			cancel()
			l.stats.batches.Add(1)
		}
		for i, o := range batch {
			o.done <- err
			batch[i] = nil
		}
	}
}
