package pgnotify_test

import (
	"context"
	"strings"
	"testing"

	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
)

// A message over NOTIFY's 8000 bytes travels through lt_messages and
// arrives intact, from Go and from SQL; old rows are cleaned up.
func TestLargeMessages(t *testing.T) {
	is := is.New(t)
	db := newDB(t)
	ctx := waitCtx(t)
	_, err := db.Exec(ctx, `INSERT INTO lt_messages (created_at, payload) VALUES (now() - interval '11 minutes', '{}')`)
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
	is.NoErr(a.H.TriggerGroup(context.Background(), group, "set_msg", map[string]any{"msg": big}))
	ev := tab.WaitFor("end</p>")
	is.True(strings.Contains(ev.HTML, "msg="+big+"</p>")) // every byte arrived
	is.Equal(ev.Seq, uint64(1))

	var stored, old int
	is.NoErr(db.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE created_at < now() - interval '10 minutes') FROM lt_messages`).Scan(&stored, &old))
	is.Equal(stored, 1) // the big message, through the table
	is.Equal(old, 0)    // the stale row was deleted

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
	// The envelope around the data is under 100 bytes: sizes from 7850 to
	// 8050 cross the 8000-byte limit.
	for n := 7850; n <= 8050; n += 25 {
		msg := strings.Repeat("x", n)
		is.NoErr(a.Publish(waitCtx(t), msgAll("set_msg", map[string]any{"msg": msg})))
		m := rec.next(t)
		is.Equal(m.Data["msg"], msg)
	}
}
