package e2e

import (
	"context"
	"net"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/ltbrowser"
	"github.com/matryer/is"
)

// cutListener keeps the connections it accepts, so that a test can cut
// them all from the server's side, as a network loss would (a taken-over
// stream is no longer httptest's to close).
type cutListener struct {
	net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func (l *cutListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.conns = append(l.conns, c)
		l.mu.Unlock()
	}
	return c, err
}

// cut closes every connection accepted so far.
func (l *cutListener) cut() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		c.Close()
	}
	l.conns = nil
}

// leavePage serves the forms page with the default reconnect grace (30 s)
// on a server whose connections the test can cut.
func leavePage(t *testing.T, ctrl *formsCtrl) (*lt.Handler, string, *cutListener) {
	t.Helper()
	h := lt.Must(lt.New(lt.Must(lt.Parse("forms", formsHTML)), ctrl, formsState{}))
	srv := httptest.NewUnstartedServer(h)
	l := &cutListener{Listener: srv.Listener}
	srv.Listener = l
	srv.Start()
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Errorf("closing the live handler: %v", err)
		}
		srv.Close()
	})
	return h, srv.URL, l
}

// awaitGone waits for an OnDisconnect report on gone, for at most
// ltbrowser.Timeout: far less than the 30 s grace.
func awaitGone(t *testing.T, gone chan struct{}, what string) {
	t.Helper()
	select {
	case <-gone:
	case <-time.After(ltbrowser.Timeout):
		t.Fatalf("%s: OnDisconnect did not run within %v (the grace is 30 s)", what, ltbrowser.Timeout)
	}
}

// Closing a tab ends its connection at once (the tab's beacon), not after
// the 30 s grace: a follower's, while the leader's shared stream goes on
// and its tab never goes offline, then the leader's.
func TestClosedTabEndsItsConnectionAtOnce(t *testing.T) {
	is := is.New(t)
	gone := make(chan struct{}, 8)
	h, base, _ := leavePage(t, &formsCtrl{gone: gone})
	browser := ltbrowser.New(t)
	leader, closeLeader := closableTab(t, browser)
	is.NoErr(ltbrowser.Do(leader, chromedp.Navigate(base+"/")))
	is.NoErr(ltbrowser.WaitStatus(leader, "online"))
	follower, closeFollower := closableTab(t, browser)
	is.NoErr(ltbrowser.Do(follower, chromedp.Navigate(base+"/")))
	is.NoErr(ltbrowser.WaitStatus(follower, "online"))
	lead, err := ltbrowser.Eval[bool](leader, `window.__statuses = []; new MutationObserver(() => __statuses.push(document.documentElement.dataset.ltStatus)).observe(document.documentElement, {attributes: true}); window.livesse.leader`)
	is.NoErr(err)
	is.True(lead)
	// Both on the stream (OnDisconnect pairs with a stream's attach).
	g := group(t, leader, base)
	is.NoErr(h.TriggerSession(context.Background(), g, "bump", nil))
	is.NoErr(ltbrowser.WaitText(leader, "#n", "1"))
	is.NoErr(ltbrowser.WaitText(follower, "#n", "1"))

	closeFollower()
	awaitGone(t, gone, "the follower closed")
	is.NoErr(h.TriggerSession(context.Background(), g, "bump", nil))
	is.NoErr(ltbrowser.WaitText(leader, "#n", "2"))
	statuses, err := ltbrowser.Eval[[]string](leader, `window.__statuses`)
	is.NoErr(err)
	for _, s := range statuses {
		if s == "offline" { // its stream never failed (it reconnects without the follower)
			t.Fatalf("the leader went offline as the follower left: %q", statuses)
		}
	}

	closeLeader()
	awaitGone(t, gone, "the leader closed")
}

// A stream cut by the network (its TCP connection closed by the server)
// keeps its connection through the grace: the tab reconnects to the same
// connection, and OnDisconnect does not run.
func TestCutStreamKeepsItsConnection(t *testing.T) {
	is := is.New(t)
	gone := make(chan struct{}, 8)
	h, base, l := leavePage(t, &formsCtrl{gone: gone})
	ctx := ltbrowser.New(t)
	is.NoErr(ltbrowser.Do(ctx, chromedp.Navigate(base+"/")))
	is.NoErr(ltbrowser.WaitStatus(ctx, "online"))
	conn, err := ltbrowser.Eval[string](ctx, `window.__offline = false; new MutationObserver(() => document.documentElement.dataset.ltStatus === "offline" && (__offline = true)).observe(document.documentElement, {attributes: true}); window.livesse.conn`)
	is.NoErr(err)

	l.cut()
	is.NoErr(ltbrowser.Wait(ctx, "the cut seen", `window.__offline`, `document.documentElement.dataset.ltStatus`))
	is.NoErr(ltbrowser.WaitStatus(ctx, "online"))
	is.NoErr(h.TriggerSession(context.Background(), group(t, ctx, base), "bump", nil))
	is.NoErr(ltbrowser.WaitText(ctx, "#n", "1"))
	after, err := ltbrowser.Eval[string](ctx, `window.livesse.conn`)
	is.NoErr(err)
	is.Equal(after, conn) // resumed: the same connection, never ended
	is.Equal(len(gone), 0)
}
