package pgnotify_test

import (
	"strings"
	"testing"

	"github.com/livesse/livesse/internal/test/pgtest"
	"github.com/livesse/livesse/pgnotify"
	"github.com/matryer/is"
)

// Health counts the rows of lt_messages and their payloads' bytes (the
// bytes as written, however PostgreSQL stores them), and a message too
// large for a notification adds its row.
func TestHealthLargeMessages(t *testing.T) {
	is := is.New(t)
	db := newDB(t)
	ctx := waitCtx(t)
	a, b := newListener(t, db, "a"), newListener(t, db, "b")
	h := health(t, b)
	is.Equal(h.LargeMessages, int64(0)) // Setup made the table, empty
	is.Equal(h.LargeBytes, int64(0))

	// 20,000 bytes that compress well: stored compressed (TOAST), counted
	// as written.
	_, err := db.Exec(ctx, `INSERT INTO lt_messages (id, payload) VALUES ('\x01', 'abc'), ('\x02', repeat('x', 20000))`)
	is.NoErr(err)
	h = health(t, b)
	is.Equal(h.LargeMessages, int64(2))
	is.Equal(h.LargeBytes, int64(20003))

	rec := newRecorder(t, b)
	big := strings.Repeat("y", 9000)
	is.NoErr(a.Publish(ctx, msgAll("set_msg", map[string]any{"msg": big})))
	is.Equal(rec.next(t).Data["msg"], big)
	var stored int64
	is.NoErr(db.QueryRow(ctx, `SELECT octet_length(payload) FROM lt_messages WHERE id NOT IN ('\x01', '\x02')`).Scan(&stored))
	is.True(stored > 9000) // sealed, the message is larger than its data
	h = health(t, b)
	is.Equal(h.LargeMessages, int64(3)) // a message to every instance stays until it expires
	is.Equal(h.LargeBytes, 20003+stored)
	ha := health(t, a)
	is.Equal(ha.LargeMessages, h.LargeMessages) // one table for every instance
	is.Equal(ha.LargeBytes, h.LargeBytes)
}

// Without Setup there is no lt_messages: its figures are -1, and Health
// is not failed for it (a readiness probe stays ready).
func TestHealthWithoutTable(t *testing.T) {
	is := is.New(t)
	l := newListener(t, pgtest.Pool(t), "a")
	h, err := l.Health(waitCtx(t))
	is.NoErr(err)
	is.Equal(h.LargeMessages, int64(-1))
	is.Equal(h.LargeBytes, int64(-1))
	is.True(h.QueueUsage >= 0) // the rest of the report is read
	is.NoErr(h.Ready())

	is.NoErr(l.Close())
	h, err = l.Health(waitCtx(t))
	is.Equal(err, pgnotify.ErrClosed)
	is.Equal(h.LargeMessages, int64(-1)) // nothing read from a closed Listener
}
