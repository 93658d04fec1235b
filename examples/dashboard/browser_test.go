package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/ltbrowser"
	"github.com/matryer/is"
	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind: every ticker
// must end with its connection (the handler closes them all at cleanup).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// openDashboard loads the dashboard in the tab of ctx and waits until its
// stream is online and its first render is on the page. The messages the
// client applies (lt:update) are counted in window.__updates by a script
// that runs before the page's own: counted from an Evaluate after the
// stream is online, the render, which may come later, would pass for a
// live update.
func openDashboard(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	is := is.New(t)
	is.NoErr(ltbrowser.BeforeScripts(ctx, `window.__updates = 0; document.addEventListener("lt:update", () => window.__updates++)`))
	is.NoErr(ltbrowser.Do(ctx, chromedp.Navigate(url)))
	is.NoErr(ltbrowser.WaitStatus(ctx, "online"))
	// The page came from a GET, without a tree: the first message the
	// client applies is the stream's render.
	is.NoErr(waitUpdates(ctx, 1))
}

// mark is where the page of a tab is.
type mark struct {
	Conn    string `json:"conn"`    // its connection
	Seq     int    `json:"seq"`     // the last update it applied
	Updated string `json:"updated"` // when the figures it shows were read
}

// markPage reads the mark of the page of ctx and restarts the count of
// the updates it applies, in one evaluation: no update can come between
// the two.
func markPage(t *testing.T, ctx context.Context) mark {
	t.Helper()
	m, err := ltbrowser.Eval[mark](ctx, `(window.__updates = 0, {
		conn: window.livesse.conn,
		seq: window.livesse.seq,
		updated: document.querySelector("#updated").textContent.trim(),
	})`)
	is.New(t).NoErr(err)
	return m
}

func updates(t *testing.T, ctx context.Context) int {
	t.Helper()
	n, err := ltbrowser.Eval[int](ctx, `window.__updates`)
	is.New(t).NoErr(err)
	return n
}

func waitUpdates(ctx context.Context, min int) error {
	return ltbrowser.Wait(ctx, fmt.Sprintf("%d live updates", min),
		fmt.Sprintf("window.__updates >= %d", min), `window.__updates + " updates"`)
}

// startDashboard serves the dashboard and opens it in a first tab. The
// period is a field of the controller prototype: 50 ms here, so that a
// test sees many refreshes quickly; a short reconnect grace ends a closed
// tab's connection soon after it goes.
func startDashboard(t *testing.T) (d *Dashboard, h *lt.Handler, pageURL string, first context.Context) {
	t.Helper()
	d = &Dashboard{Period: 50 * time.Millisecond}
	router, h, err := newRouter(d, lt.WithReconnectGrace(100*time.Millisecond))
	is.New(t).NoErr(err)
	pageURL = ltbrowser.Serve(t, router, h).URL + "/"
	first = ltbrowser.New(t)
	openDashboard(t, first, pageURL)
	return d, h, pageURL, first
}

func TestBrowserRefreshesUntilTheConnectionEnds(t *testing.T) {
	is := is.New(t)
	d, h, pageURL, first := startDashboard(t)
	before := markPage(t, first)
	// The test does nothing: the server pushes refreshes on its own.
	is.NoErr(waitUpdates(first, 3))
	after := markPage(t, first)
	is.True(after.Updated != before.Updated) // the figures were read again
	is.Equal(after.Conn, before.Conn)        // as live updates of the same page,
	is.True(after.Seq >= before.Seq+3)       // each one a seq further
	is.NoErr(ltbrowser.WaitText(first, "#viewers", "1"))

	// A second tab starts its own ticker.
	second, closeSecond := newTab(t, first)
	openDashboard(t, second, pageURL)
	is.NoErr(ltbrowser.WaitText(first, "#viewers", "2"))
	is.NoErr(ltbrowser.WaitText(second, "#viewers", "2"))
	is.NoErr(waitUpdates(second, 2))

	// The second tab is closed. The first, which leads the stream the two
	// tabs share, reconnects it without the second's connection, which
	// ends after the reconnect grace: its ticker stops, and the first tab,
	// which keeps refreshing, shows one ticker again.
	//
	// The count is awaited, not read once the page shows "1": on a busy
	// machine the leader's reconnect (here, or when the second tab joined)
	// can take longer than this test's short grace, and the first tab then
	// gets a fresh connection, whose ticker starts as the old one stops.
	// Either way exactly one ticker runs in the end.
	closeSecond()
	is.NoErr(ltbrowser.WaitText(first, "#viewers", "1"))
	is.NoErr(waitFor(func() bool { return d.Viewers.Load() == 1 })) // only the first tab's ticker runs
	n := updates(t, first)
	is.NoErr(waitUpdates(first, n+2)) // and it still refreshes

	// Closing the handler (server shutdown) ends the last connection, and
	// with it the last ticker.
	is.NoErr(h.Close())
	is.NoErr(waitFor(func() bool { return d.Viewers.Load() == 0 }))
}

// A follower tab that goes away without running its pagehide handler (a
// tab closed while its renderer is busy, a crash, a discarded tab) still
// leaves the shared stream: the leader, queued for the follower's own
// lock, gets it when the tab is gone. Its connection then ends after the
// grace and its ticker stops, instead of living on, carried by the
// leader's stream, for as long as the leader does.
func TestFollowerClosedWithoutPagehideLeaves(t *testing.T) {
	is := is.New(t)
	d, _, pageURL, first := startDashboard(t)
	is.NoErr(ltbrowser.WaitText(first, "#viewers", "1"))

	second, closeSecond := newTab(t, first)
	// Runs first, in the capturing phase: the client never hears of the
	// page going away.
	is.NoErr(ltbrowser.BeforeScripts(second, `addEventListener("pagehide", e => e.stopImmediatePropagation(), true)`))
	openDashboard(t, second, pageURL)
	leads, err := ltbrowser.Eval[bool](second, `window.livesse.leader`)
	is.NoErr(err)
	is.True(!leads) // it follows the first tab's stream
	is.NoErr(ltbrowser.WaitText(first, "#viewers", "2"))

	closeSecond()
	is.NoErr(ltbrowser.WaitText(first, "#viewers", "1"))
	is.NoErr(waitFor(func() bool { return d.Viewers.Load() == 1 }))
}

// newTab opens a tab in the browser of browserCtx, like
// ltbrowser.NewTab, and returns it with a function that closes it, as a
// user closes a tab. (Navigating away is not the same: Chromium may keep
// the page, and its event stream, in the back/forward cache.)
func newTab(t *testing.T, browserCtx context.Context) (context.Context, func()) {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browserCtx)
	t.Cleanup(cancel)
	// The first Do attaches the tab to ctx for its whole life, so it must
	// not run under a timeout; a watchdog bounds it instead.
	stuck := time.AfterFunc(30*time.Second, cancel)
	err := chromedp.Do(ctx)
	if !stuck.Stop() || err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	return ctx, cancel
}

// waitFor polls cond until it holds, for at most ltbrowser.Timeout.
func waitFor(cond func() bool) error {
	deadline := time.Now().Add(ltbrowser.Timeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("condition not met within %v", ltbrowser.Timeout)
		}
		<-tick.C
	}
	return nil
}
