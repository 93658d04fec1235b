package pgnotify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/livesse/livesse/lt/lttest"
	"github.com/livesse/livesse/pgnotify"
	"github.com/matryer/is"
)

// When the listen connection dies, notifications sent meanwhile are lost;
// after the reconnect every tab is mounted and rendered afresh, so none
// shows stale data.
func TestReconnectResyncs(t *testing.T) {
	is := is.New(t)
	db := newDB(t)
	lost, release := make(chan struct{}, 1), make(chan struct{})
	hook := pgnotify.WithReconnectHook(func(ctx context.Context) {
		lost <- struct{}{}
		select {
		case <-release:
		case <-ctx.Done():
		}
	})
	a := newInstance(t, db, "a")
	b := newInstance(t, db, "b", hook, pgnotify.WithBackoff(time.Millisecond, 10*time.Millisecond))
	tab := lttest.Open(t, b.URL+"/page")
	is.True(strings.Contains(tab.HTML(), "db=v1"))
	ctx := waitCtx(t)

	var killed bool
	is.NoErr(db.QueryRow(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'livesse listen b'`).Scan(&killed))
	is.True(killed)
	select {
	case <-lost:
	case <-time.After(wait):
		t.Fatal("the listener did not notice its connection died")
	}
	h := health(t, b.L)
	is.True(!h.Connected)
	is.True(h.Ready() != nil) // not ready while down

	// While b is not listening: the data changes and a tells everyone.
	_, err := db.Exec(ctx, `UPDATE kv SET v = 'v2'`)
	is.NoErr(err)
	is.NoErr(a.H.TriggerAll(context.Background(), "set_msg", map[string]any{"msg": "sent while b was away"}))
	close(release)

	ev := tab.Next() // the resync: a full render, with the new data
	is.Equal(ev.Type, "render")
	is.True(strings.Contains(ev.HTML, "db=v2"))
	is.True(!strings.Contains(ev.HTML, "sent while b was away")) // that one was lost, as NOTIFY loses it

	h = health(t, b.L)
	is.True(h.Connected)
	is.Equal(h.Reconnects, int64(1))
	is.Equal(h.Resyncs, int64(1))
	is.NoErr(h.Ready())

	// And b listens again.
	is.NoErr(a.H.TriggerAll(context.Background(), "set_msg", map[string]any{"msg": "after"}))
	tab.WaitFor("msg=after")
}

// A listener whose connection stays down keeps retrying, and Close stops
// it.
func TestCloseWhileReconnecting(t *testing.T) {
	is := is.New(t)
	db := newDB(t)
	lost := make(chan struct{}, 1)
	l := newListener(t, db, "b", pgnotify.WithReconnectHook(func(ctx context.Context) {
		lost <- struct{}{}
		<-ctx.Done() // never reconnects
	}))
	var killed bool
	is.NoErr(db.QueryRow(waitCtx(t), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'livesse listen b'`).Scan(&killed))
	is.True(killed)
	<-lost
	is.NoErr(l.Close())
	is.Equal(l.Publish(waitCtx(t), msgAll("x", nil)), pgnotify.ErrClosed)
	_, err := l.Health(waitCtx(t))
	is.Equal(err, pgnotify.ErrClosed)
}
