package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/ltbrowser"
	"github.com/matryer/is"
	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind: the handler's
// connections, the test server and chromedp's browser must all be shut
// down by the tests' cleanups.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// openCounter serves the counter app on loopback, loads it in a fresh
// browser and waits until the page's stream is online.
func openCounter(t *testing.T) (ctx context.Context, srv *httptest.Server, h *lt.Handler) {
	t.Helper()
	is := is.New(t)
	router, h, err := newRouter(false)
	is.NoErr(err)
	srv = ltbrowser.Serve(t, router, h)
	ctx = ltbrowser.New(t)
	is.NoErr(ltbrowser.Do(ctx, chromedp.Navigate(srv.URL+"/")))
	is.NoErr(ltbrowser.WaitText(ctx, "#count", "0"))
	is.NoErr(ltbrowser.WaitStatus(ctx, "online"))
	return ctx, srv, h
}

// markPage sets a variable on window that a reload or navigation would
// lose; pageKept tells whether it is still there.
func markPage(t *testing.T, ctx context.Context) {
	t.Helper()
	_, err := ltbrowser.Eval[chromedp.Void](ctx, `window.__ltTestMark = "same page"`)
	is.New(t).NoErr(err)
}

func pageKept(t *testing.T, ctx context.Context) bool {
	t.Helper()
	kept, err := ltbrowser.Eval[bool](ctx, `window.__ltTestMark === "same page"`)
	is.New(t).NoErr(err)
	return kept
}

func TestBrowserStatusOnline(t *testing.T) {
	is := is.New(t)
	ctx, _, _ := openCounter(t) // waits for data-lt-status="online"
	status, err := ltbrowser.Eval[string](ctx, `window.livesse.status`)
	is.NoErr(err)
	is.Equal(status, "online") // window.livesse.status agrees with <html data-lt-status>
	conn, err := ltbrowser.Eval[string](ctx, `window.livesse.conn`)
	is.NoErr(err)
	is.True(conn != "") // the client knows its connection
}

// clickResult is what the page measured for one JavaScript click on a
// button, up to the lt:update that showed its result.
type clickResult struct {
	MS           float64 `json:"ms"`           // click to the lt:update with the new count
	BusyAtClick  bool    `json:"busyAtClick"`  // aria-busy right after the click
	BusyAtUpdate bool    `json:"busyAtUpdate"` // aria-busy when the update landed
}

// clickAndMeasure clicks sel with JavaScript and resolves at the first
// lt:update after which #count reads want. The page times it with
// performance.now(), so neither the protocol round trips of the test nor
// Go's scheduling are in the figure.
func clickAndMeasure(ctx context.Context, sel, want string) (clickResult, error) {
	return ltbrowser.Eval[clickResult](ctx, `new Promise((resolve) => {
		const btn = document.querySelector(`+jsQuote(sel)+`);
		let t0 = 0, busyAtClick = false;
		const onUpdate = () => {
			if (document.querySelector("#count").textContent.trim() !== `+jsQuote(want)+`) return;
			const ms = performance.now() - t0;
			document.removeEventListener("lt:update", onUpdate);
			resolve({ ms, busyAtClick, busyAtUpdate: document.querySelector(`+jsQuote(sel)+`).getAttribute("aria-busy") === "true" });
		};
		document.addEventListener("lt:update", onUpdate);
		t0 = performance.now();
		btn.click();
		busyAtClick = btn.getAttribute("aria-busy") === "true" && btn.hasAttribute("data-lt-busy");
	})`)
}

// jsQuote quotes s as a JavaScript string literal.
func jsQuote(s string) string {
	b, _ := json.Marshal(s) // a string always encodes
	return string(b)
}

func TestBrowserClickUpdatesLive(t *testing.T) {
	is := is.New(t)
	ctx, _, _ := openCounter(t)
	markPage(t, ctx)

	// A real mouse click on the button.
	is.NoErr(ltbrowser.Do(ctx, chromedp.Click(chromedp.ID("inc"))))
	is.NoErr(ltbrowser.WaitText(ctx, "#count", "1"))
	is.True(pageKept(t, ctx)) // the click updated the page in place, without a navigation
	seq, err := ltbrowser.Eval[int](ctx, `window.livesse.seq`)
	is.NoErr(err)
	is.True(seq >= 1) // the count came as a live update

	// Click-to-update latency, measured in the page.
	const rounds = 20
	var ms []float64
	for i := range rounds {
		want := strconv.Itoa(2 + i)
		r, err := clickAndMeasure(ctx, "#inc", want)
		is.NoErr(err)
		t.Logf("click-to-update latency: %.1f ms", r.MS)
		ms = append(ms, r.MS)
	}
	is.NoErr(ltbrowser.WaitText(ctx, "#count", strconv.Itoa(1+rounds)))
	is.True(pageKept(t, ctx)) // still the same page after all the clicks
	slices.Sort(ms)
	t.Logf("click-to-update latency over %d clicks: min %.1f ms, median %.1f ms, max %.1f ms",
		rounds, ms[0], (ms[(rounds-1)/2]+ms[rounds/2])/2, ms[rounds-1])
}

func TestBrowserBusyWhileActing(t *testing.T) {
	is := is.New(t)
	ctx, _, _ := openCounter(t)
	// The client marks the button synchronously in its submit handler,
	// and the response is applied (lt:update) before the mark is removed,
	// so both checks are deterministic.
	r, err := clickAndMeasure(ctx, "#inc", "1")
	is.NoErr(err)
	is.True(r.BusyAtClick)  // aria-busy="true" and data-lt-busy are set as the request starts
	is.True(r.BusyAtUpdate) // and survive the morph of the update
	is.NoErr(ltbrowser.Wait(ctx, "#inc to lose aria-busy",
		`!document.querySelector("#inc").hasAttribute("aria-busy") && !document.querySelector("#inc").hasAttribute("data-lt-busy")`,
		`document.querySelector("#inc").outerHTML`))
}

func TestBrowserActionErrorShown(t *testing.T) {
	is := is.New(t)
	ctx, _, _ := openCounter(t)
	markPage(t, ctx)
	_, err := ltbrowser.Eval[chromedp.Void](ctx, `window.__ltErrors = [];
		document.addEventListener("lt:error", (e) => window.__ltErrors.push(e.detail))`)
	is.NoErr(err)
	present, err := ltbrowser.Eval[bool](ctx, `document.querySelector("#error") !== null`)
	is.NoErr(err)
	is.True(!present) // no error before the action

	is.NoErr(ltbrowser.Do(ctx, chromedp.Click(chromedp.ID("dec"))))
	is.NoErr(ltbrowser.WaitTextContains(ctx, "#error", "cannot go below zero"))
	is.NoErr(ltbrowser.Do(ctx, chromedp.WaitVisible(chromedp.ID("error"))))
	count, err := ltbrowser.Text(ctx, "#count")
	is.NoErr(err)
	is.Equal(count, "0")      // the refused action changed nothing
	is.True(pageKept(t, ctx)) // the error was shown live, without a navigation

	type errDetail struct {
		Status  int    `json:"status"`
		Message string `json:"message"`
	}
	is.NoErr(ltbrowser.Wait(ctx, "an lt:error event", `window.__ltErrors.length > 0`, `JSON.stringify(window.__ltErrors)`))
	details, err := ltbrowser.Eval[[]errDetail](ctx, `window.__ltErrors`)
	is.NoErr(err)
	is.Equal(len(details), 1)                                             // one lt:error for one refused action
	is.Equal(details[0].Status, http.StatusUnprocessableEntity)           // the action error's status
	is.True(strings.Contains(details[0].Message, "cannot go below zero")) // and its message
}

func TestBrowserTypingSurvivesServerUpdate(t *testing.T) {
	is := is.New(t)
	ctx, srv, h := openCounter(t)
	// Get the count to 1 so that a server-side reset changes the page.
	is.NoErr(ltbrowser.Do(ctx, chromedp.Click(chromedp.ID("inc"))))
	is.NoErr(ltbrowser.WaitText(ctx, "#count", "1"))

	// Type into the step field; it keeps focus from here on.
	is.NoErr(ltbrowser.Do(ctx,
		chromedp.SetValue(chromedp.ID("step"), ""),
		ltbrowser.SendKeys(chromedp.ID("step"), "3"),
	))
	focus, err := ltbrowser.Eval[string](ctx, `document.activeElement.id + "=" + document.activeElement.value`)
	is.NoErr(err)
	is.Equal(focus, "step=3") // typed into the focused field

	// The server resets the count of this browser's session; the page is
	// re-rendered around the field, whose server-side value is 1.
	sid, err := ltbrowser.Cookie(ctx, srv.URL+"/", "lt_session")
	is.NoErr(err)
	seq, err := ltbrowser.Eval[int](ctx, `window.livesse.seq`)
	is.NoErr(err)
	is.NoErr(h.TriggerSession(context.Background(), lt.AnonymousIdentity(sid).SessionID, "reset", nil))
	is.NoErr(ltbrowser.WaitText(ctx, "#count", "0"))
	after, err := ltbrowser.Eval[int](ctx, `window.livesse.seq`)
	is.NoErr(err)
	is.True(after > seq) // the reset came as a live update

	focus, err = ltbrowser.Eval[string](ctx, `document.activeElement.id + "=" + document.activeElement.value`)
	is.NoErr(err)
	is.Equal(focus, "step=3") // focus and the typed value survived the update
	rendered, err := ltbrowser.Eval[string](ctx, `document.querySelector("#step").getAttribute("value")`)
	is.NoErr(err)
	is.Equal(rendered, "1") // while the server rendered its own value around it
}

func TestBrowserWithoutJavaScript(t *testing.T) {
	is := is.New(t)
	router, h, err := newRouter(false)
	is.NoErr(err)
	srv := ltbrowser.Serve(t, router, h)
	ctx := ltbrowser.New(t)
	// Scripts are off in this tab before it loads the page, as in a
	// browser with JavaScript disabled.
	is.NoErr(ltbrowser.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	})))
	page := srv.URL + "/"

	resp, err := navigateResponse(ctx, chromedp.Navigate(page))
	is.NoErr(err)
	is.Equal(resp.Status, int64(http.StatusOK))
	is.Equal(text(t, ctx, "#count"), "0")
	status, err := ltbrowser.Eval[*string](ctx, `document.documentElement.getAttribute("data-lt-status")`)
	is.NoErr(err)
	is.True(status == nil) // the client script did not run

	// Each button is a plain form post: 303 to the page, which the browser
	// then GETs.
	redirects := watchRedirects(t, ctx)
	resp, err = navigateResponse(ctx, chromedp.Click(chromedp.ID("inc")))
	is.NoErr(err)
	is.Equal(resp.Status, int64(http.StatusOK)) // the page after the redirect
	is.Equal(resp.URL, page)
	is.Equal(redirects.next(), http.StatusSeeOther) // the post was answered with 303
	is.Equal(text(t, ctx, "#count"), "1")

	resp, err = navigateResponse(ctx, chromedp.Click(chromedp.ID("dec")))
	is.NoErr(err)
	is.Equal(resp.Status, int64(http.StatusOK))
	is.Equal(redirects.next(), http.StatusSeeOther)
	is.Equal(text(t, ctx, "#count"), "0")

	resp, err = navigateResponse(ctx, chromedp.Click(chromedp.ID("dec")))
	is.NoErr(err)
	is.Equal(resp.Status, int64(http.StatusUnprocessableEntity)) // the refused post renders the page with the error
	is.True(strings.Contains(text(t, ctx, "#error"), "cannot go below zero"))
	is.Equal(text(t, ctx, "#count"), "0")
}

// navigateResponse runs actions that navigate the tab and returns the
// response of the document that loaded, within ltbrowser.Timeout.
func navigateResponse(ctx context.Context, actions ...chromedp.Action[chromedp.Void]) (*network.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, ltbrowser.Timeout)
	defer cancel()
	return chromedp.RunResponse(ctx, actions...)
}

// text reads an element's text through the DOM domain, which works with
// the page's scripts disabled.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, ltbrowser.Timeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(sel)))
	is.New(t).NoErr(err)
	return strings.TrimSpace(s)
}

// redirectWatch reports the redirect statuses the tab's documents got.
type redirectWatch struct {
	t  *testing.T
	ch chan int
}

// watchRedirects records the status of each redirect the browser follows
// while loading a document in the tab of ctx.
func watchRedirects(t *testing.T, ctx context.Context) *redirectWatch {
	t.Helper()
	w := &redirectWatch{t: t, ch: make(chan int, 16)}
	err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok && e.Type == network.ResourceTypeDocument && e.RedirectResponse != nil {
			select {
			case w.ch <- int(e.RedirectResponse.Status):
			default:
			}
		}
	})
	is.New(t).NoErr(err)
	return w
}

// next returns the status of the next redirect; the navigation that
// followed it has loaded, so it has been seen.
func (w *redirectWatch) next() int {
	w.t.Helper()
	select {
	case s := <-w.ch:
		return s
	default:
		w.t.Fatal("no redirect was followed")
		return 0
	}
}
