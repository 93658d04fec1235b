package attack

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
)

type queueCtrl struct {
	started chan struct{} // Block is running
	release chan struct{} // Block returns
	session chan lt.Session
}

func (c *queueCtrl) OnConnect(s countState, ctx *lt.Context) (countState, error) {
	select {
	case c.session <- ctx.Session():
	default:
	}
	return s, nil
}

// Block holds the connection's worker, as a method stuck on a database
// would.
func (c *queueCtrl) Block(s countState, ctx *lt.Context) (countState, error) {
	c.started <- struct{}{}
	<-c.release
	return s, nil
}

func (c *queueCtrl) Bump(s countState, ctx *lt.Context) (countState, error) {
	s.N++
	return s, nil
}

// A runaway producer against a tab whose worker is stuck: of 5,000 server
// actions, those that returned nil all run, those that returned
// ErrQueueFull none, and the connection then ends; the tab, reconnected,
// mounts afresh from the session's state, showing exactly the accepted
// ones. Nothing is dropped silently.
func TestServerActionsNeverSilentlyDropped(t *testing.T) {
	is := is.New(t)
	ctrl := &queueCtrl{started: make(chan struct{}), release: make(chan struct{}), session: make(chan lt.Session, 1)}
	log := newLogBook()
	h, err := lt.New(lt.Must(lt.Parse("queue", countPage)), ctrl, countState{}, lt.WithLogger(log.logger()))
	is.NoErr(err)
	srv := httptest.NewServer(h)
	t.Cleanup(func() { _ = h.Close(); srv.Close() })
	released := false
	defer func() {
		if !released {
			close(ctrl.release)
		}
	}()

	tab := lttest.Open(t, srv.URL+"/")
	group := groupOf(t, tab.Jar(), srv.URL)
	session := <-ctrl.session
	is.NoErr(session.TriggerAction("block", nil))
	<-ctrl.started // the worker is stuck from here on

	const calls = 5000
	accepted, refused, firstRefused := 0, 0, -1
	for i := range calls {
		var err error
		if i%2 == 0 {
			err = session.TriggerAction("bump", nil)
		} else {
			err = h.TriggerSession(context.Background(), group, "bump", nil)
		}
		switch {
		case err == nil:
			accepted++
			if firstRefused >= 0 {
				t.Fatalf("call %d was accepted after call %d was refused", i, firstRefused)
			}
		case errors.Is(err, lt.ErrQueueFull):
			refused++
			if firstRefused < 0 {
				firstRefused = i
			}
		default:
			t.Fatalf("call %d: %v", i, err)
		}
	}
	is.Equal(accepted, 1024) // the queue's bound
	is.Equal(refused, calls-1024)
	is.Equal(firstRefused, 1024)
	log.await(t, "of the full queue", func(r record) bool {
		return r.Level == slog.LevelWarn && r.Msg == "lt: connection work queue full; it ends once the queued work is done, and its tab mounts afresh"
	})

	close(ctrl.release)
	released = true
	// The connection runs what it accepted, then ends.
	tab.WaitClosed()

	// Reconnecting, the tab gets a new connection that starts from the
	// group's saved state: every accepted action, no refused one.
	old := tab.Conn()
	tab.Connect()
	ev := tab.Next()
	is.Equal(ev.Type, "render")
	is.True(ev.Conn != old)
	is.True(contains(ev.HTML, "n=1024"))
	fresh := lttest.Open(t, srv.URL+"/", lttest.WithJar(tab.Jar()))
	is.True(contains(fresh.HTML(), "n=1024"))

	// The new connection takes work again.
	is.NoErr(h.TriggerSession(context.Background(), group, "bump", nil))
	tab.WaitFor("n=1025")
	fresh.WaitFor("n=1025")
}
