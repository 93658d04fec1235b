package pgnotify

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// stats are the Listener's counters, read by Health.
type stats struct {
	connected  atomic.Bool
	lastPing   atomic.Int64 // unix nanoseconds
	reconnects atomic.Int64
	received   atomic.Int64
	delivered  atomic.Int64
	dropped    atomic.Int64
	malformed  atomic.Int64
	resyncs    atomic.Int64
	published  atomic.Int64
	batches    atomic.Int64

	unauthenticated atomic.Int64
	stale           atomic.Int64
	replayed        atomic.Int64
}

// Health is a snapshot of a Listener's state, for a readiness endpoint and
// for metrics. Counters count since New.
type Health struct {
	Instance  string `json:"instance"`
	Channel   string `json:"channel"`
	Connected bool   `json:"connected"` // the LISTEN connection is up
	// LastPing is when the LISTEN connection last proved alive (it
	// connected, or a ping succeeded).
	LastPing     time.Time     `json:"last_ping"`
	PingInterval time.Duration `json:"ping_interval"`
	Reconnects   int64         `json:"reconnects"`
	// Received counts notifications read: messages, beacons and refused
	// payloads.
	Received  int64 `json:"received"`
	Delivered int64 `json:"delivered"` // messages handed to subscribers
	// Dropped counts messages lost on this side: read while the hand-off
	// queue was full, or whose stored body could not be read. Each led to
	// a resync.
	Dropped int64 `json:"dropped"`
	// Unauthenticated counts notifications refused because they were not
	// made with the secret (WithSecret): anything another database role
	// NOTIFYs on the channel, version-1 payloads, a message under an
	// unknown key, a stored message that is not the one its notification
	// names.
	Unauthenticated int64 `json:"unauthenticated"`
	// Stale counts authentic notifications refused because their time is
	// outside MessageWindow of this instance's clock (a replay of an old
	// capture, clocks that disagree, a transaction that committed late).
	Stale int64 `json:"stale"`
	// Replayed counts authentic notifications refused because this
	// instance had received them before.
	Replayed int64 `json:"replayed"`
	// Malformed counts authentic notifications refused as bad input: an
	// unknown version, a bad field, a message from SQL that is not a
	// server action.
	Malformed int64 `json:"malformed"`
	Resyncs   int64 `json:"resyncs"` // times every subscriber was told to resync
	// Published counts the messages this instance sent (Publish and
	// PublishTx), and Batches the statements that sent Publish's
	// notifications: under load one statement sends many (see Publish).
	Published int64 `json:"published"`
	Batches   int64 `json:"batches"`
	// QueueUsage is pg_notification_queue_usage(), the fraction of the
	// server's notification queue in use (0 to 1): it grows when some
	// listener, anywhere, stops reading. -1 if it could not be read.
	QueueUsage float64 `json:"queue_usage"`
	// LargeMessages is the number of rows in lt_messages (messages over
	// NOTIFY's 8000 bytes; a row is deleted when the one instance it is
	// for has read it, or by the next large message once it is older than
	// MessageWindow), and LargeBytes the bytes of their payloads
	// (octet_length, which PostgreSQL reads without fetching the payload).
	// The table is shared by every instance, so each reports the same
	// figures. Both are -1 if they could not be
	// read, and -1 without an error if the table does not exist (Setup
	// was never run). Health counts at most MaxCountedLarge rows: a table
	// that holds more reads as MaxCountedLarge rows and their bytes.
	LargeMessages int64 `json:"large_messages"`
	LargeBytes    int64 `json:"large_bytes"`
	// Peers are the other instances heard from lately (beacons), which
	// Publish can send a message with Message.To to.
	Peers []string `json:"peers"`
}

// MaxCountedLarge bounds the rows of lt_messages that Health counts, and
// so the time it takes (a few milliseconds at most).
const MaxCountedLarge = 100_000

// Health reports the Listener's state. It asks the database (through the
// pool, in two short queries) for the notification queue's usage and the
// size of lt_messages; if either fails, its fields are -1 and the error is
// returned with the rest of the report. ctx bounds the queries.
func (l *Listener) Health(ctx context.Context) (Health, error) {
	s := &l.stats
	h := Health{
		Instance: l.cfg.instance, Channel: l.cfg.channel,
		Connected: s.connected.Load(), LastPing: time.Unix(0, s.lastPing.Load()),
		PingInterval: l.cfg.pingInterval,
		Reconnects:   s.reconnects.Load(), Received: s.received.Load(), Delivered: s.delivered.Load(),
		Dropped: s.dropped.Load(), Malformed: s.malformed.Load(), Resyncs: s.resyncs.Load(),
		Published: s.published.Load(), Batches: s.batches.Load(),
		Unauthenticated: s.unauthenticated.Load(), Stale: s.stale.Load(), Replayed: s.replayed.Load(),
		QueueUsage: -1, LargeMessages: -1, LargeBytes: -1, Peers: l.livePeers(),
	}
	if l.closed.Load() {
		h.Connected = false
		return h, ErrClosed
	}
	if err := l.pool.QueryRow(ctx, "SELECT pg_notification_queue_usage()").Scan(&h.QueueUsage); err != nil {
		h.QueueUsage = -1
		return h, fmt.Errorf("pgnotify: reading the notification queue usage: %w", err)
	}
	if err := l.pool.QueryRow(ctx, countLarge, MaxCountedLarge).Scan(&h.LargeMessages, &h.LargeBytes); err != nil {
		h.LargeMessages, h.LargeBytes = -1, -1
		if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) && pe.Code == "42P01" { // undefined_table
			return h, nil
		}
		return h, fmt.Errorf("pgnotify: reading the size of lt_messages: %w", err)
	}
	return h, nil
}

// countLarge counts the rows of lt_messages, at most $1 of them, and the
// bytes of their payloads.
const countLarge = `SELECT count(*), coalesce(sum(octet_length(payload)), 0)::bigint
FROM (SELECT payload FROM lt_messages LIMIT $1) m`

// Ready tells whether the instance can serve live pages correctly: the
// LISTEN connection is up, proved alive within three ping intervals, and
// the server's notification queue is less than half full. The error says
// what is wrong.
func (h Health) Ready() error {
	var errs []error
	if !h.Connected {
		errs = append(errs, errors.New("listen connection down"))
	} else if age := time.Since(h.LastPing); age > 3*h.PingInterval {
		errs = append(errs, fmt.Errorf("listen connection silent for %v", age.Round(time.Millisecond)))
	}
	if h.QueueUsage < 0 {
		errs = append(errs, errors.New("notification queue usage unknown"))
	} else if h.QueueUsage >= 0.5 {
		errs = append(errs, fmt.Errorf("notification queue %.0f%% full", 100*h.QueueUsage))
	}
	return errors.Join(errs...)
}
