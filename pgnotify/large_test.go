package pgnotify_test

import (
	"context"
	"strings"
	"testing"

	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
)

// A message over NOTIFY's 8000 bytes travels through lt_messages and
// arrives intact, from Go and from SQL; rows older than the time window
// are cleaned up.
func TestLargeMessages(t *testing.T) {
	is := is.New(t)
	db := newDB(t)
	ctx := waitCtx(t)
	_, err := db.Exec(ctx, `INSERT INTO lt_messages (id, created_at, payload) VALUES ('\x01', now() - interval '121 seconds', 'old'), ('\x02', now() - interval '119 seconds', 'recent')`)
	is.NoErr(err)
	a, b := newInstance(t, db, "a"), newInstance(t, db, "b")
	tab := lttest.Open(t, b.URL+"/page")
	group := sessionGroup(t, tab, b.URL)

	var sb strings.Builder
	for i := 0; sb.Len() < 20000; i++ {
		sb.WriteString("chunk ")
		sb.WriteString(strings.Repeat(string(rune('a'+i%26)), i%7+1))
		sb.WriteString(" é€ ")
	}
	big := sb.String() + "end"
	is.NoErr(a.H.TriggerSession(context.Background(), group, "set_msg", map[string]any{"msg": big}))
	ev := tab.WaitFor("end</p>")
	is.True(strings.Contains(ev.HTML, "msg="+big+"</p>")) // every byte arrived
	is.Equal(ev.Seq, uint64(1))

	var stored []string
	rows, err := db.Query(ctx, `SELECT left(payload, 2) FROM lt_messages ORDER BY created_at`)
	is.NoErr(err)
	for rows.Next() {
		var p string
		is.NoErr(rows.Scan(&p))
		stored = append(stored, p)
	}
	is.NoErr(rows.Err())
	is.Equal(stored, []string{"re", "2i"}) // the big message, sealed, through the table; the old row was deleted

	// From SQL: lt_notify stores it the same way.
	_, err = db.Exec(ctx, `SELECT lt_notify('set_msg', 'all', '', jsonb_build_object('msg', repeat('ab', 6000) || 'sql-end'))`)
	is.NoErr(err)
	ev = tab.WaitFor("sql-end</p>")
	is.True(strings.Contains(ev.HTML, "msg="+strings.Repeat("ab", 6000)+"sql-end</p>"))

	h := health(t, b.L)
	is.Equal(h.Malformed, int64(0))
	is.Equal(h.Dropped, int64(0))
	is.Equal(h.Delivered, int64(2))
}

// Just under and just over the limit, the two paths meet.
func TestMessageSizeBoundary(t *testing.T) {
	is := is.New(t)
	db := newDB(t)
	a := newListener(t, db, "a")
	b := newListener(t, db, "b")
	rec := newRecorder(t, b)
	// Sealed, the payload is 4/3 of the JSON plus about 70 bytes, and the
	// JSON about 60 bytes more than the data: sizes from 5800 to 6000
	// cross the 8000-byte limit.
	for n := 5800; n <= 6000; n += 10 {
		msg := strings.Repeat("x", n)
		is.NoErr(a.Publish(waitCtx(t), msgAll("set_msg", map[string]any{"msg": msg})))
		m := rec.next(t)
		is.Equal(m.Data["msg"], msg)
	}
}
