package lt

import (
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/matryer/is"
)

// A regression test, moved from internal/test/specsnippets/timer, where it
// relied on the race detector and failed only sometimes: when a
// connection's reconnect grace ran out, its timer's goroutine took it out
// of the Handler under h.mu but ended it (conn.close, whose OnDisconnect
// job does h.wg.Add) after letting go of the lock. A Close that came in
// between found no connection, waited on a WaitGroup not yet added to and
// returned before that OnDisconnect ran (and -race reported the Add from
// zero against the Wait, when it could restore the timer goroutine's
// stack). lt now ends a connection under h.mu. Here the interleavings are
// made, not hoped for: the test holds h.mu, or blocks OnDisconnect, and
// awaits each goroutine where it must be before letting go, so that
// each case fails every time on the defect and passes every time without
// it.

type graceState struct{}

// graceCtrl counts OnConnect and OnDisconnect; OnDisconnect signals
// entering and, when gate is not nil, runs until gate is closed.
type graceCtrl struct {
	connected    chan struct{}
	disconnected chan struct{}
	gate         chan struct{}
	ran          *atomic.Int32
}

func (c *graceCtrl) OnConnect(s graceState, _ *Context) (graceState, error) {
	c.connected <- struct{}{}
	return s, nil
}

func (c *graceCtrl) OnDisconnect() {
	c.disconnected <- struct{}{}
	if c.gate != nil {
		<-c.gate
	}
	c.ran.Add(1)
}

// graceConn makes a Handler whose connections never end by their grace on
// their own (it is an hour), and a connection on it whose stream opened
// (its OnConnect ran) and went away, so that its grace period runs.
func graceConn(t *testing.T, ctrl *graceCtrl) (*Handler, *conn) {
	t.Helper()
	h, err := New(Must(Parse("p", `<p>grace</p>`)), ctrl, graceState{}, WithReconnectGrace(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	c := h.open(t, AnonymousIdentity("a"))
	s := &stream{changed: make(chan struct{}, 1)}
	a, err := c.attach(s, 0, true, "")
	if err != nil {
		t.Fatal(err)
	}
	await(t, ctrl.connected, "OnConnect")
	c.detach(a)
	return h, c
}

// expireNow has c's grace run out at once, as its timer does.
func expireNow(c *conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expireAfter(0)
}

func await(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: not within 10s", what)
	}
}

// awaitGoroutine awaits a goroutine whose stack holds every one of frames,
// or done (what it would be doing is over), and reports which came.
func awaitGoroutine(t *testing.T, done <-chan struct{}, frames ...string) (found bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	poll := time.NewTicker(time.Millisecond)
	defer poll.Stop()
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		for len(buf) == n {
			buf = make([]byte, 2*len(buf))
			n = runtime.Stack(buf, true)
		}
	goroutines:
		for _, g := range strings.Split(string(buf[:n]), "\n\n") {
			for _, f := range frames {
				if !strings.Contains(g, f) {
					continue goroutines
				}
			}
			return true
		}
		select {
		case <-done:
			return false
		case <-poll.C:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no goroutine in %q within 10s", frames)
		}
	}
}

func TestCloseAwaitsTheDisconnectOfAnExpiredConnection(t *testing.T) {
	t.Run("the grace ran out before Close", func(t *testing.T) {
		is := is.New(t)
		ctrl := &graceCtrl{connected: make(chan struct{}, 1), disconnected: make(chan struct{}, 1), gate: make(chan struct{}), ran: new(atomic.Int32)}
		h, c := graceConn(t, ctrl)
		expireNow(c)
		await(t, ctrl.disconnected, "OnDisconnect after the grace") // and it is still running
		is.True(!h.live(c))

		closed := make(chan struct{})
		go func() {
			defer close(closed)
			_ = h.Close()
		}()
		// Close must be waiting for that OnDisconnect, not done.
		if !awaitGoroutine(t, closed, "lt.(*Handler).Close(", "sync.(*WaitGroup).Wait(") {
			t.Fatal("Close returned while an expired connection's OnDisconnect was running")
		}
		close(ctrl.gate)
		await(t, closed, "Close")
		is.Equal(ctrl.ran.Load(), int32(1))
	})

	t.Run("the grace runs out as Close starts", func(t *testing.T) {
		is := is.New(t)
		ctrl := &graceCtrl{connected: make(chan struct{}, 1), disconnected: make(chan struct{}, 1), ran: new(atomic.Int32)}
		h, c := graceConn(t, ctrl)
		// The timer's goroutine is stopped halfway through ending the
		// connection: past its check, at c's lock, which the test holds.
		h.mu.Lock()
		expireNow(c)
		awaitGoroutine(t, nil, "lt.(*Handler).closeConn(", "sync.(*Mutex).Lock(")
		c.mu.Lock()
		h.mu.Unlock()
		awaitGoroutine(t, nil, "lt.(*conn).close(", "sync.(*Mutex).Lock(")
		// Close now: it must not find the Handler empty and return before
		// the connection has ended and run its OnDisconnect.
		closed := make(chan struct{})
		go func() {
			defer close(closed)
			_ = h.Close()
		}()
		closeWaits := awaitGoroutine(t, closed, "lt.(*Handler).Close(", "sync.(*Mutex).Lock(")
		c.mu.Unlock()
		if !closeWaits {
			t.Fatal("Close returned while an expired connection was still ending")
		}
		await(t, closed, "Close")
		is.Equal(ctrl.ran.Load(), int32(1)) // its OnDisconnect ran, before Close returned
		await(t, ctrl.disconnected, "OnDisconnect")
		is.True(!h.live(c))
	})
}
