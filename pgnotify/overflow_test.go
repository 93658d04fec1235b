package pgnotify_test

import (
	"testing"
	"time"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/pgnotify"
	"github.com/matryer/is"
)

// blocker is a Subscriber whose Deliver blocks until released, as a stuck
// consumer would.
type blocker struct {
	t       testing.TB
	entered chan string
	release chan struct{}
	resyncs chan struct{}
}

func (b *blocker) Deliver(m lt.Message) {
	b.entered <- pgnotify.View(b.t, m).Action
	<-b.release
}

func (b *blocker) Resync() { b.resyncs <- struct{}{} }

// When delivery falls behind, the reader keeps reading: it drops what does
// not fit in its queue, and every subscriber resyncs.
func TestOverflowResyncs(t *testing.T) {
	is := is.New(t)
	db := newDB(t)
	reads := make(chan struct{}, 100)
	// No beacons: the test counts every notification b reads.
	a := newListener(t, db, "a", pgnotify.WithoutBeacons())
	b := newListener(t, db, "b", pgnotify.WithoutBeacons(), pgnotify.WithQueueSize(1), pgnotify.WithReceiveHook(func() { reads <- struct{}{} }))
	blk := &blocker{t: t, entered: make(chan string, 10), release: make(chan struct{}), resyncs: make(chan struct{}, 10)}
	t.Cleanup(b.Subscribe(blk))
	ctx := waitCtx(t)
	read := func() {
		t.Helper()
		select {
		case <-reads:
		case <-time.After(wait):
			t.Fatal("notification not read")
		}
	}

	is.NoErr(a.Publish(ctx, msgAll("first", nil)))
	read()
	is.Equal(<-blk.entered, "first") // delivery is now stuck
	for _, action := range []string{"queued", "dropped1", "dropped2"} {
		is.NoErr(a.Publish(ctx, msgAll(action, nil)))
		read() // the reader went on reading
	}
	h := health(t, b)
	is.Equal(h.Received, int64(4))
	is.Equal(h.Dropped, int64(2))
	close(blk.release)

	// Both the queued message and a resync follow, in either order.
	var got []string
	resynced := false
	for len(got) < 1 || !resynced {
		select {
		case a := <-blk.entered:
			got = append(got, a)
		case <-blk.resyncs:
			resynced = true
		case <-time.After(wait):
			t.Fatalf("got %v, resynced %v", got, resynced)
		}
	}
	is.Equal(got, []string{"queued"})
	is.Equal(health(t, b).Resyncs, int64(1))

	// Nothing else was delivered: the next message is the one sent now.
	is.NoErr(a.Publish(ctx, msgAll("last", nil)))
	is.Equal(<-blk.entered, "last")
}
