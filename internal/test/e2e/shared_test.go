package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/ltbrowser"
	"github.com/matryer/is"
)

type sharedState struct {
	N       int
	Clicked bool
}

type sharedCtrl struct{}

// Bump shows n: the same value in every tab, whatever each showed before.
func (*sharedCtrl) Bump(s sharedState, ctx *lt.Context) (sharedState, error) {
	s.N = ctx.GetInt("n")
	return s, nil
}

// Click marks the one tab whose button was clicked.
func (*sharedCtrl) Click(s sharedState, _ *lt.Context) (sharedState, error) {
	s.Clicked = true
	return s, nil
}

const sharedHTML = `<!DOCTYPE html><html><head><title>shared</title></head><body>` +
	`<p id="n">{{.N}}</p><p id="clicked">{{if .Clicked}}yes{{else}}no{{end}}</p>` +
	`<button id="click" name="click">click</button></body></html>`

// streamCounter keeps the most event streams open at once (the handler's
// count when a stream request arrives, plus that one) and the number of
// connections the latest stream named.
type streamCounter struct {
	h           *lt.Handler
	peak, conns atomic.Int64
}

func (c *streamCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		c.conns.Store(int64(len(r.URL.Query()["_lt_conn"])))
		n := int64(c.h.Streams() + 1)
		for p := c.peak.Load(); n > p && !c.peak.CompareAndSwap(p, n); p = c.peak.Load() {
		}
	}
	c.h.ServeHTTP(w, r)
}

// Twenty tabs of one browser on one page, served over HTTP/1.1 (6
// connections per origin at most), share one event stream: all of them are
// online and updated, a POST of the last one goes through, and when the tab
// holding the stream is closed another one takes it over and every other
// tab still gets the updates.
func TestTabsShareOneStream(t *testing.T) {
	const tabs = 20
	is := is.New(t)
	h := lt.Must(lt.New(lt.Must(lt.Parse("shared", sharedHTML)), &sharedCtrl{}, sharedState{}))
	counter := &streamCounter{h: h}
	srv := ltbrowser.Serve(t, counter, h)
	is.True(srv.TLS == nil && strings.HasPrefix(srv.URL, "http://")) // plain HTTP/1.1
	page := srv.URL + "/"

	// The browser's first tab stays blank: closing it would end the browser.
	browser := ltbrowser.New(t)
	first, closeFirst := closableTab(t, browser)
	ctxs := []context.Context{first}
	for len(ctxs) < tabs {
		ctxs = append(ctxs, ltbrowser.NewTab(t, browser))
	}
	for i, ctx := range ctxs {
		is.NoErr(ltbrowser.Do(ctx, chromedp.Navigate(page)))
		if err := ltbrowser.WaitStatus(ctx, "online"); err != nil {
			t.Fatalf("tab %d: %v", i+1, err)
		}
	}
	// The first tab holds the stream; the others are relayed its events.
	leaders := func(ctxs []context.Context) []int {
		t.Helper()
		var out []int
		for i, ctx := range ctxs {
			lead, err := ltbrowser.Eval[bool](ctx, `window.livesse.leader`)
			is.NoErr(err)
			if lead {
				out = append(out, i+1)
			}
		}
		return out
	}
	is.Equal(leaders(ctxs), []int{1})

	waitAll := func(ctxs []context.Context, sel, want string) {
		t.Helper()
		for i, ctx := range ctxs {
			if err := ltbrowser.WaitText(ctx, sel, want); err != nil {
				t.Fatalf("tab %d of %d: %v", i+1, len(ctxs), err)
			}
		}
	}
	is.NoErr(h.TriggerAll(context.Background(), "bump", map[string]any{"n": 1}))
	waitAll(ctxs, "#n", "1")

	// A POST of the last tab goes out beside the shared stream and updates
	// that tab only.
	last := ctxs[tabs-1]
	is.NoErr(ltbrowser.Do(last, chromedp.Click(`#click`)))
	is.NoErr(ltbrowser.WaitText(last, "#clicked", "yes"))
	is.NoErr(ltbrowser.WaitText(ctxs[tabs-2], "#clicked", "no"))

	is.NoErr(waitStreams(counter, 1))
	is.Equal(counter.conns.Load(), int64(tabs)) // the one stream serves every tab
	t.Logf("%d tabs: 1 stream open, at most %d at once (the leader reconnects as tabs join)", tabs, counter.peak.Load())
	is.True(counter.peak.Load() < 6) // never a stream per tab: fewer than HTTP/1.1 allows per origin

	// The leader goes: the next tab takes the stream over, for the 19 left.
	closeFirst()
	rest := ctxs[1:]
	is.NoErr(h.TriggerAll(context.Background(), "bump", map[string]any{"n": 2}))
	waitAll(rest, "#n", "2")
	for i, ctx := range rest {
		if err := ltbrowser.WaitStatus(ctx, "online"); err != nil {
			t.Fatalf("tab %d: %v", i+2, err)
		}
	}
	is.Equal(len(leaders(rest)), 1)
	is.NoErr(waitStreams(counter, 1))
	is.Equal(counter.conns.Load(), int64(tabs-1))
	// The clicked tab kept its own state through the hand-over.
	is.NoErr(ltbrowser.WaitText(last, "#clicked", "yes"))
	t.Logf("after the hand-over: 1 stream, at most %d at once", counter.peak.Load())
}

// waitStreams waits until the server has exactly n event streams open.
func waitStreams(c *streamCounter, n int) error {
	deadline := time.Now().Add(ltbrowser.Timeout)
	for c.h.Streams() != n {
		if time.Now().After(deadline) {
			return fmt.Errorf("%d event streams open, want %d", c.h.Streams(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

// closableTab opens a tab like ltbrowser.NewTab and returns it with a
// function that closes it, as a user closes a tab.
func closableTab(t *testing.T, browserCtx context.Context) (context.Context, func()) {
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
