package pgnotify_test

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/pgnotify"
	"github.com/matryer/is"
)

// A message for one instance (Message.To) reaches that instance only; a
// large one is deleted once read. One for an instance that is not live is
// refused with lt.ErrNoInstance before anything is stored or sent.
func TestPublishTo(t *testing.T) {
	is := is.New(t)
	db := newDB(t)
	ctx := waitCtx(t)
	// No beacons, so that the test sees every notification sent: a hears
	// of b and c from their messages.
	a := newListener(t, db, "a", pgnotify.WithoutBeacons())
	b := newListener(t, db, "b", pgnotify.WithoutBeacons())
	c := newListener(t, db, "c", pgnotify.WithoutBeacons())
	onA, onB, onC := newRecorder(t, a), newRecorder(t, b), newRecorder(t, c)
	is.NoErr(b.Publish(ctx, msgAll("hello from b", nil)))
	is.NoErr(c.Publish(ctx, msgAll("hello from c", nil)))
	is.NoErr(a.AwaitPeer(ctx, "b"))
	is.NoErr(a.AwaitPeer(ctx, "c"))
	is.Equal(onA.next(t).Action, "hello from b")
	is.Equal(onA.next(t).Action, "hello from c")
	is.Equal(onB.next(t).Action, "hello from c")
	is.Equal(onC.next(t).Action, "hello from b")
	is.Equal(health(t, a).Peers, []string{"b", "c"})

	big := strings.Repeat("x", 20000)
	for _, data := range []map[string]any{{"n": 1.0}, {"big": big}} {
		is.NoErr(a.Publish(ctx, pgnotify.Msg{Page: "page", Kind: lt.ToAll, Action: "for b", Data: data, To: "b"}.M(t)))
		got := onB.next(t)
		is.Equal(got.To, "b")
		is.Equal(got.Data, data)
	}
	var rows int
	is.NoErr(db.QueryRow(ctx, "SELECT count(*) FROM lt_messages").Scan(&rows))
	is.Equal(rows, 0) // b deleted the large one as it read it
	is.NoErr(a.Publish(ctx, msgAll("for all", nil)))
	is.Equal(onC.next(t).Action, "for all") // c got nothing before it
	is.Equal(onB.next(t).Action, "for all")

	// No live instance "ghost": refused, nothing stored, nothing sent.
	raw, err := db.Acquire(ctx)
	is.NoErr(err)
	defer raw.Release()
	_, err = raw.Exec(ctx, "LISTEN livesse")
	is.NoErr(err)
	_, err = db.Exec(ctx, `SELECT lt_notify('before', 'all')`)
	is.NoErr(err)
	for _, data := range []map[string]any{nil, {"big": big}} {
		m := pgnotify.Msg{Page: "page", Kind: "conn", Target: "ghost.abc", Action: "for the ghost", Data: data, To: "ghost"}.M(t)
		err := a.Publish(ctx, m)
		is.True(errors.Is(err, lt.ErrNoInstance))
		is.True(strings.Contains(err.Error(), `"ghost"`))
	}
	_, err = db.Exec(ctx, `SELECT lt_notify('after', 'all')`)
	is.NoErr(err)
	var seen []string
	for len(seen) < 2 {
		n, err := raw.Conn().WaitForNotification(ctx)
		is.NoErr(err)
		seen = append(seen, n.Payload)
	}
	is.True(strings.Contains(seen[0], `"before"`))
	is.True(strings.Contains(seen[1], `"after"`)) // nothing between them
	is.NoErr(db.QueryRow(ctx, "SELECT count(*) FROM lt_messages").Scan(&rows))
	is.Equal(rows, 0)

	// Its own id is always live; a message for it alone goes nowhere.
	is.NoErr(a.Publish(ctx, pgnotify.Msg{Page: "page", Kind: lt.ToAll, Action: "for a", To: "a"}.M(t)))
	_, err = db.Exec(ctx, `SELECT lt_notify('last', 'all')`)
	is.NoErr(err)
	n, err := raw.Conn().WaitForNotification(ctx)
	is.NoErr(err)
	is.True(strings.Contains(n.Payload, `"last"`))
}

// An instance that closes says bye: the others refuse messages for it at
// once. One that falls silent is not live after three beacon intervals.
func TestPresence(t *testing.T) {
	is := is.New(t)
	db := newDB(t)
	ctx := waitCtx(t)
	beacons := make(chan string, 100)
	var ahead atomic.Int64 // a's clock runs ahead by this much
	now := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	a := newListener(t, db, "a", pgnotify.WithClock(now), pgnotify.WithBeaconHook(func(from, kind string) { beacons <- from + " " + kind }))
	// b beacons every hour: only its hello and its answers.
	b := newListener(t, db, "b", pgnotify.WithPingInterval(time.Hour))
	c := newListener(t, db, "c")
	awaitPeers(t, a, b, c)
	to := func(id string) error {
		return a.Publish(ctx, pgnotify.Msg{Page: "page", Kind: lt.ToAll, Action: "x", To: id}.M(t))
	}
	is.NoErr(to("b"))
	is.NoErr(to("c"))

	is.NoErr(c.Close())
	for {
		select {
		case bc := <-beacons:
			if bc != "c bye" {
				continue
			}
		case <-time.After(wait):
			t.Fatal("no bye from c")
		}
		break
	}
	is.True(errors.Is(to("c"), lt.ErrNoInstance))
	is.Equal(health(t, a).Peers, []string{"b"})

	// Three of b's intervals later, by a's clock, b is not live.
	ahead.Store(int64(3*time.Hour - time.Minute))
	is.NoErr(to("b"))
	ahead.Store(int64(3*time.Hour + time.Minute))
	is.True(errors.Is(to("b"), lt.ErrNoInstance))
	is.Equal(health(t, a).Peers, []string{})
}
