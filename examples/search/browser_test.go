package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/livesse/livesse/lt/ltbrowser"
	"github.com/matryer/is"
	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind: the handler's
// connections, the test server and chromedp's browser must all be shut
// down by the tests' cleanups.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The catalog is the same 10,000 items on every run.
func TestCatalogIsFixed(t *testing.T) {
	is := is.New(t)
	a, b := NewCatalog(10_000), NewCatalog(10_000)
	is.Equal(a.Len(), 10_000)
	is.Equal(a.items, b.items)
	found, total := a.Find("  RED otter ", Shown)
	is.Equal(total, 46)
	is.Equal(found[0], Item{ID: 205, Name: "Sunny Red Otter 0205"})
	is.Equal(len(found), Shown)
	found, total = a.Find("", Shown)
	is.Equal(len(found)+total, 0)
}

// openSearch serves the app (behind g, when not nil) on loopback, loads it
// in a fresh browser and waits until the page is live.
func openSearch(t *testing.T, g *ltbrowser.Gate) (context.Context, *Catalog) {
	t.Helper()
	is := is.New(t)
	catalog := NewCatalog(10_000)
	router, h, err := newRouter(catalog)
	is.NoErr(err)
	var handler http.Handler = router
	if g != nil {
		handler = g.Wrap(router)
	}
	srv := ltbrowser.Serve(t, handler, h)
	if g != nil {
		t.Cleanup(g.Open) // a held POST must not hold the server's Close
	}
	ctx := ltbrowser.New(t)
	is.NoErr(ltbrowser.Do(ctx, chromedp.Navigate(srv.URL+"/")))
	is.NoErr(ltbrowser.WaitStatus(ctx, "online"))
	is.NoErr(ltbrowser.WaitText(ctx, "label[for=q]", "Search 10000 items"))
	_, err = ltbrowser.Eval[chromedp.Void](ctx, `window.__ltTestMark = "same page"`)
	is.NoErr(err)
	return ctx, catalog
}

// names is what Find returns for query, as the page lists them.
func names(c *Catalog, query string) []string {
	found, _ := c.Find(query, Shown)
	var n []string
	for _, it := range found {
		n = append(n, it.Name)
	}
	return n
}

// waitResults waits until the page lists want, under the count of total
// matches.
func waitResults(ctx context.Context, want []string, total int) error {
	w, _ := json.Marshal(want)
	if err := ltbrowser.Wait(ctx, fmt.Sprintf("the results %s", w),
		fmt.Sprintf(`JSON.stringify([...document.querySelectorAll("#results li")].map((li) => li.textContent.trim())) === %q`, w),
		`JSON.stringify([...document.querySelectorAll("#results li")].map((li) => li.textContent.trim()))`); err != nil {
		return err
	}
	count := fmt.Sprintf("%d matches", total)
	if total == 1 {
		count = "1 match"
	}
	return ltbrowser.WaitText(ctx, "#count", count)
}

// selected returns the text of the highlighted results and the input's
// aria-activedescendant.
func selected(t *testing.T, ctx context.Context) (string, string) {
	t.Helper()
	r, err := ltbrowser.Eval[[]string](ctx, `[[...document.querySelectorAll('#results [aria-selected="true"]')].map((li) => li.textContent.trim()).join("|"),
		document.querySelector("#q").getAttribute("aria-activedescendant")]`)
	is.New(t).NoErr(err)
	return r[0], r[1]
}

func samePage(t *testing.T, ctx context.Context) bool {
	t.Helper()
	kept, err := ltbrowser.Eval[bool](ctx, `window.__ltTestMark === "same page" && document.activeElement.id === "q"`)
	is.New(t).NoErr(err)
	return kept
}

// Typing searches the 10,000 items live: the first ten matches and their
// count show, and narrow as the user types on; the field keeps its focus
// and what was typed.
func TestBrowserSearchAsYouType(t *testing.T) {
	is := is.New(t)
	ctx, c := openSearch(t, nil)

	is.NoErr(ltbrowser.Do(ctx, ltbrowser.SendKeys(chromedp.ID("q"), "otter")))
	is.NoErr(waitResults(ctx, names(c, "otter"), 485))
	is.NoErr(ltbrowser.Do(ctx, ltbrowser.SendKeys(chromedp.ID("q"), kb.Home+"red ")))
	is.NoErr(waitResults(ctx, names(c, "red otter"), 46))
	v, err := ltbrowser.Eval[string](ctx, `document.querySelector("#q").value`)
	is.NoErr(err)
	is.Equal(v, "red otter")
	is.True(samePage(t, ctx))

	// Nothing found, then nothing asked.
	is.NoErr(ltbrowser.Do(ctx, ltbrowser.SendKeys(chromedp.ID("q"), kb.End+"zzz")))
	is.NoErr(ltbrowser.WaitText(ctx, "#count", "0 matches"))
	is.NoErr(ltbrowser.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector("#q").select()`), ltbrowser.SendKeys(chromedp.ID("q"), kb.Backspace)))
	is.NoErr(ltbrowser.WaitText(ctx, "#count", "Type to search."))
	n, err := ltbrowser.Eval[int](ctx, `document.querySelectorAll("#results li").length`)
	is.NoErr(err)
	is.Equal(n, 0)
}

// While a search is pending, the form is busy and shows its indicator
// (the page's CSS on the client's aria-busy); once the answer is on the
// page, the indicator goes. The server holds the search's answer until
// the test has looked.
func TestBrowserSearchShowsLoading(t *testing.T) {
	is := is.New(t)
	g := ltbrowser.NewGate()
	ctx, c := openSearch(t, g)
	visible := `getComputedStyle(document.querySelector("#searching")).visibility`
	v, err := ltbrowser.Eval[string](ctx, visible)
	is.NoErr(err)
	is.Equal(v, "hidden")

	g.HoldNext(func(f url.Values) bool { return f.Get("_lt_action") == "search" && f.Get("q") == "lucky" })
	is.NoErr(ltbrowser.Do(ctx, ltbrowser.SendKeys(chromedp.ID("q"), "lucky")))
	is.NoErr(g.AwaitHeld())
	is.NoErr(ltbrowser.Wait(ctx, "the indicator", visible+` === "visible"`, visible))
	busy, err := ltbrowser.Eval[string](ctx, `document.querySelector("#search").getAttribute("aria-busy")`)
	is.NoErr(err)
	is.Equal(busy, "true")

	g.Open()
	is.NoErr(waitResults(ctx, names(c, "lucky"), 498))
	is.NoErr(ltbrowser.Wait(ctx, "the indicator hidden", visible+` === "hidden"`, visible))
}

// The arrow keys move the highlight through the results, Escape drops it,
// Enter picks the highlighted result (or the first): attributes only, and
// Enter does not submit the form. Each key waits for the page to show
// what the last one did, as a person would.
func TestBrowserKeyboardNavigation(t *testing.T) {
	is := is.New(t)
	ctx, c := openSearch(t, nil)
	want := names(c, "red otter")
	found, _ := c.Find("red otter", Shown)

	is.NoErr(ltbrowser.Do(ctx, ltbrowser.SendKeys(chromedp.ID("q"), "red otter")))
	is.NoErr(waitResults(ctx, want, 46))
	key := func(k string, sel int) {
		t.Helper()
		is.NoErr(ltbrowser.Do(ctx, chromedp.KeyEvent(k)))
		wantText, wantID := "", ""
		if sel > 0 {
			wantText, wantID = want[sel-1], fmt.Sprintf("r-%d", found[sel-1].ID)
		}
		is.NoErr(ltbrowser.Wait(ctx, fmt.Sprintf("result %d highlighted", sel),
			fmt.Sprintf(`document.querySelector("#q").getAttribute("aria-activedescendant") === %q`, wantID),
			`document.querySelector("#results").outerHTML`))
		text, id := selected(t, ctx)
		is.Equal(text, wantText)
		is.Equal(id, wantID)
	}
	key(kb.ArrowDown, 1)
	key(kb.ArrowDown, 2)
	key(kb.ArrowDown, 3)
	key(kb.ArrowUp, 2)
	key(kb.Escape, 0)
	key(kb.ArrowDown, 1)
	key(kb.ArrowDown, 2)

	is.NoErr(ltbrowser.Do(ctx, chromedp.KeyEvent(kb.Enter)))
	is.NoErr(ltbrowser.WaitText(ctx, "#picked strong", want[1]))
	is.True(samePage(t, ctx)) // Enter picked, live; it did not submit the form
	v, err := ltbrowser.Eval[string](ctx, `document.querySelector("#q").value`)
	is.NoErr(err)
	is.Equal(v, "red otter")

	// Typed on, the highlight goes; Enter picks the first of the new results.
	is.NoErr(ltbrowser.Do(ctx, ltbrowser.SendKeys(chromedp.ID("q"), " 04")))
	found, total := c.Find("red otter 04", Shown)
	is.NoErr(waitResults(ctx, names(c, "red otter 04"), total))
	text, _ := selected(t, ctx)
	is.Equal(text, "")
	is.NoErr(ltbrowser.Do(ctx, chromedp.KeyEvent(kb.Enter)))
	is.NoErr(ltbrowser.WaitText(ctx, "#picked strong", found[0].Name))
	is.True(samePage(t, ctx))
}

// With JavaScript disabled, the search is a plain form: Enter posts the
// query (303 to the page, which shows the results), and a result's
// button picks it.
func TestBrowserSearchWithoutJavaScript(t *testing.T) {
	is := is.New(t)
	c := NewCatalog(10_000)
	router, h, err := newRouter(c)
	is.NoErr(err)
	srv := ltbrowser.Serve(t, router, h)
	ctx := ltbrowser.New(t)
	is.NoErr(ltbrowser.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	})))
	resp, err := ltbrowser.NavigateResponse(ctx, chromedp.Navigate(srv.URL+"/"))
	is.NoErr(err)
	is.Equal(resp.Status, int64(http.StatusOK))
	is.Equal(text(t, ctx, "#count"), "Type to search.")

	resp, err = ltbrowser.NavigateResponse(ctx, ltbrowser.SendKeys(chromedp.ID("q"), "teal owl 1"+kb.Enter))
	is.NoErr(err)
	is.Equal(resp.Status, int64(http.StatusOK)) // the page, after the post's 303
	is.Equal(resp.URL, srv.URL+"/")
	is.Equal(text(t, ctx, "#count"), "2 matches")
	is.Equal(text(t, ctx, "#r-1644"), "Calm Teal Owl 1644")
	is.Equal(text(t, ctx, "#r-1980"), "Jolly Teal Owl 1980")

	resp, err = ltbrowser.NavigateResponse(ctx, chromedp.Click(chromedp.CSS(`#r-1980 button`)))
	is.NoErr(err)
	is.Equal(resp.Status, int64(http.StatusOK))
	is.Equal(text(t, ctx, "#picked strong"), "Jolly Teal Owl 1980")
	is.Equal(text(t, ctx, "#count"), "2 matches")
	status, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("html"), "data-lt-status"))
	is.NoErr(err)
	is.True(!status.Exists) // no client ran
}

// text reads an element's text through the DOM domain, which works with
// the page's scripts disabled.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := ltbrowser.DOMText(ctx, sel)
	is.New(t).NoErr(err)
	return s
}
