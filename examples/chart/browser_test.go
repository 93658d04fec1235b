package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/ltbrowser"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind: the ticker, the
// handler's connections, the test server and chromedp's browser must all
// be shut down by the tests' cleanups.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// serveApp serves a new app on loopback with samples already in its feed;
// with a period, it ticks until the returned stop is called (or the test
// ends), before the server closes.
func serveApp(t *testing.T, samples int, period time.Duration) (*App, string, func()) {
	t.Helper()
	a, err := newApp()
	is.New(t).NoErr(err)
	for range samples {
		a.Feed.Next()
	}
	srv := ltbrowser.Serve(t, a.Router, a.Live)
	stop := func() {}
	if period > 0 {
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() { a.Tick(ctx, period) })
		stop = func() { cancel(); wg.Wait() }
		t.Cleanup(stop) // runs before the server's cleanup
	}
	return a, srv.URL + "/", stop
}

// line is what a tab that loaded with samples from first on draws once
// it has every sample of recent: those from first on, the last Keep.
func line(recent []Sample, first int) []Sample {
	var l []Sample
	for _, s := range recent {
		if s.N >= first {
			l = append(l, s)
		}
	}
	return l[max(0, len(l)-Keep):]
}

// waitDrawn waits until the chart of the tab of ctx draws l: its hook
// reports l's last sample and length (data-drawn), then compares the
// points with the server's drawing of l.
func waitDrawn(ctx context.Context, l []Sample) error {
	want := fmt.Sprintf("%d %d", l[len(l)-1].N, len(l))
	if err := ltbrowser.Wait(ctx, "the chart to draw "+want,
		fmt.Sprintf(`document.querySelector("#chart").getAttribute("data-drawn") === %q`, want),
		`document.querySelector("#chart").getAttribute("data-drawn")`); err != nil {
		return err
	}
	points, err := ltbrowser.Eval[string](ctx, `document.querySelector("#chart polyline").getAttribute("points")`)
	if err != nil {
		return err
	}
	if points != Points(l) {
		return fmt.Errorf("the chart draws %s, want %s", points, Points(l))
	}
	return nil
}

// loadedWith returns the samples the page of ctx loaded with (its
// data-samples, which only the page's HTML sets).
func loadedWith(t *testing.T, ctx context.Context) (string, []Sample) {
	t.Helper()
	raw, err := ltbrowser.Eval[string](ctx, `document.querySelector("#chart").getAttribute("data-samples")`)
	is.New(t).NoErr(err)
	var l []Sample
	is.New(t).NoErr(json.Unmarshal([]byte(raw), &l))
	return raw, l
}

// navigateResponse runs actions that navigate the tab and returns the
// response of the document that loaded, within ltbrowser.Timeout.
func navigateResponse(ctx context.Context, actions ...chromedp.Action[chromedp.Void]) (*network.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, ltbrowser.Timeout)
	defer cancel()
	return chromedp.RunResponse(ctx, actions...)
}

// The chart under the page's strict CSP: the hook draws the samples the
// page loaded with, then each sample the server pushes, in order and
// once; the ignored subtree is never morphed (the element and what the
// script drew stay, though the server renders other samples there) while
// the live text around it follows each tick; nothing violates the CSP.
func TestBrowserChartUnderStrictCSP(t *testing.T) {
	is := is.New(t)
	a, u, stop := serveApp(t, 20, 50*time.Millisecond)
	ctx := ltbrowser.New(t)
	// Recorded from the start of every document, outside the page's CSP.
	is.NoErr(ltbrowser.BeforeScripts(ctx, `window.__csp = []; window.__samples = [];
		document.addEventListener("securitypolicyviolation", (e) => __csp.push(e.violatedDirective + " " + e.blockedURI));
		document.addEventListener("sample", (e) => __samples.push(e.detail));`))
	resp, err := navigateResponse(ctx, chromedp.Navigate(u))
	is.NoErr(err)
	is.Equal(resp.Headers["Content-Security-Policy"], CSP)
	is.NoErr(ltbrowser.WaitStatus(ctx, "online"))
	is.NoErr(ltbrowser.Wait(ctx, "the chart drawn", `document.querySelector("#chart").hasAttribute("data-drawn")`, `document.querySelector("#chart-box").innerHTML`))
	_, err = ltbrowser.Eval[bool](ctx, `document.querySelector("#chart").__mine = true`)
	is.NoErr(err)
	loaded, initial := loadedWith(t, ctx)
	is.True(len(initial) >= 20)

	// A few ticks, then the ticker stops; the page shows the last sample.
	is.NoErr(ltbrowser.Wait(ctx, "five samples pushed", `__samples.length >= 5`, `JSON.stringify(__samples)`))
	stop()
	recent := a.Feed.Recent()
	last := recent[len(recent)-1]
	// The line is every sample from the first the page loaded with, drawn
	// as the server draws them (those pushed before the stream started
	// were asked for by the hook).
	is.NoErr(waitDrawn(ctx, line(recent, initial[0].N)))
	is.NoErr(ltbrowser.WaitText(ctx, "#n", strconv.Itoa(last.N)))
	is.NoErr(ltbrowser.WaitText(ctx, "#value", fmt.Sprintf("%.1f", last.V)))

	// Each pushed sample came once, in order, as the feed made it.
	var pushed []Sample
	raw, err := ltbrowser.Eval[string](ctx, `JSON.stringify(__samples)`)
	is.NoErr(err)
	is.NoErr(json.Unmarshal([]byte(raw), &pushed))
	byN := map[int]Sample{}
	for _, s := range recent {
		byN[s.N] = s
	}
	for i, s := range pushed {
		is.Equal(s, byN[s.N]) // the feed's sample
		if i > 0 {
			is.Equal(s.N, pushed[i-1].N+1) // the next one, none lost or repeated
		}
	}
	is.Equal(pushed[len(pushed)-1], last)

	// The ignored subtree is the one the page loaded with: the same
	// element, its server-rendered attribute as loaded, although the
	// stream's render carried newer samples there.
	kept, err := ltbrowser.Eval[bool](ctx, `document.querySelector("#chart").__mine === true && document.querySelector("#chart").getAttribute("data-samples") === `+strconv.Quote(loaded))
	is.NoErr(err)
	is.True(kept)

	// Files only: no inline script, and nothing the CSP blocked.
	inline, err := ltbrowser.Eval[int](ctx, `[...document.scripts].filter((s) => !s.src).length`)
	is.NoErr(err)
	is.Equal(inline, 0)
	violations, err := ltbrowser.Eval[[]string](ctx, `__csp`)
	is.NoErr(err)
	is.Equal(len(violations), 0)
}

// Every tab gets the samples: two tabs of one browser (one stream, shared)
// and another device draw the same line.
func TestBrowserChartInEveryTab(t *testing.T) {
	is := is.New(t)
	a, u, stop := serveApp(t, 5, 50*time.Millisecond)
	first := ltbrowser.New(t)
	tabs := []context.Context{first, ltbrowser.NewTab(t, first), ltbrowser.NewDevice(t, first)}
	for _, ctx := range tabs {
		is.NoErr(ltbrowser.Do(ctx, chromedp.Navigate(u)))
		is.NoErr(ltbrowser.WaitStatus(ctx, "online"))
	}
	firsts := make([]int, len(tabs))
	for i, ctx := range tabs {
		_, l := loadedWith(t, ctx)
		firsts[i] = l[0].N
	}
	n := len(a.Feed.Recent())
	for _, ctx := range tabs {
		is.NoErr(ltbrowser.Wait(ctx, "three more samples drawn",
			fmt.Sprintf(`parseInt(document.querySelector("#chart").getAttribute("data-drawn")) >= %d`, n+3),
			`document.querySelector("#chart").getAttribute("data-drawn")`))
	}
	stop()
	recent := a.Feed.Recent()
	for i, ctx := range tabs {
		is.NoErr(waitDrawn(ctx, line(recent, firsts[i])))
	}
}

// Samples the tab missed (here: made by the feed but never pushed, as
// while a tab has no stream) leave a gap that the hook fills: it runs the
// "history" action, whose "history" event brings them.
func TestBrowserChartFillsGaps(t *testing.T) {
	is := is.New(t)
	a, u, _ := serveApp(t, 10, 0)
	ctx := ltbrowser.New(t)
	is.NoErr(ltbrowser.Do(ctx, chromedp.Navigate(u)))
	is.NoErr(ltbrowser.WaitStatus(ctx, "online"))
	is.NoErr(waitDrawn(ctx, a.Feed.Recent()))
	for range 3 {
		a.Feed.Next() // never pushed
	}
	s := a.Feed.Next()
	is.NoErr(a.Live.TriggerAll(context.Background(), "tick", map[string]any{"n": s.N, "v": s.V}))
	is.NoErr(ltbrowser.WaitText(ctx, "#n", "14"))
	is.NoErr(waitDrawn(ctx, a.Feed.Recent())) // 1 to 14
}

// Without JavaScript the page shows the chart the server drew: the
// feed's recent samples.
func TestBrowserChartWithoutJavaScript(t *testing.T) {
	is := is.New(t)
	a, u, _ := serveApp(t, 30, 0)
	ctx := ltbrowser.New(t)
	is.NoErr(ltbrowser.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	})))
	resp, err := navigateResponse(ctx, chromedp.Navigate(u))
	is.NoErr(err)
	is.Equal(resp.Status, int64(http.StatusOK))
	rctx, cancel := context.WithTimeout(ctx, ltbrowser.Timeout)
	defer cancel()
	points, err := chromedp.Run(rctx, chromedp.AttributeValue(chromedp.CSS("#chart polyline"), "points"))
	is.NoErr(err)
	is.Equal(points.Value, Points(a.Feed.Recent()))
	drawn, err := chromedp.Run(rctx, chromedp.AttributeValue(chromedp.CSS("#chart"), "data-drawn"))
	is.NoErr(err)
	is.True(!drawn.Exists) // no script drew it
	n, err := chromedp.Run(rctx, chromedp.TextContent(chromedp.ID("n")))
	is.NoErr(err)
	is.Equal(n, "30")
}

// Only the server ticks: a browser posting "tick" is refused.
func TestTickIsServerOnly(t *testing.T) {
	is := is.New(t)
	_, u, _ := serveApp(t, 1, 0)
	tab := lttest.Open(t, u)
	r := tab.Act("tick", map[string][]string{"n": {"99"}, "v": {"1"}})
	is.Equal(r.Status, http.StatusUnprocessableEntity)
	is.True(strings.Contains(tab.HTML(), `<span id="n">1</span>`))
}

// Run ticks every open tab until its context is done, then stops the
// ticker and shuts down: the tab's stream ends, Run returns nil, and
// (TestMain) no goroutine is left.
func TestRunStopsOnShutdown(t *testing.T) {
	is := is.New(t)
	a, err := newApp()
	is.NoErr(err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	is.NoErr(err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, ln, 20*time.Millisecond) }()

	tab := lttest.Open(t, "http://"+ln.Addr().String()+"/")
	tab.WaitFor(`<span id="n">3</span>`) // ticks reach the tab
	cancel()
	select {
	case err := <-done:
		is.NoErr(err)
	case <-time.After(2 * lt.ShutdownGrace):
		t.Fatal("Run did not return after its context was done")
	}
	tab.WaitClosed()
}
