package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/ltbrowser"
	"github.com/matryer/is"
	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind: the pages'
// connections, the test server and chromedp's browser must all be shut
// down by the tests' cleanups.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// streams counts the event streams the server holds open: the requests
// for text/event-stream in flight, which last as long as their stream
// with lt.WithStreamsInHandler.
type streams struct {
	mu        sync.Mutex
	open, max int
	opened    int
	paths     []string // of the streams opened, in order
}

func (s *streams) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
			next.ServeHTTP(w, r)
			return
		}
		s.mu.Lock()
		s.open++
		s.opened++
		s.paths = append(s.paths, r.URL.Path)
		s.max = max(s.max, s.open)
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			s.open--
			s.mu.Unlock()
		}()
		next.ServeHTTP(w, r)
	})
}

func (s *streams) counts() (open, max, opened int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.open, s.max, s.opened
}

// waitOpen waits until the server holds want streams (a stream the client
// closed ends on the server once it notices), within ltbrowser.Timeout.
func (s *streams) waitOpen(t *testing.T, what string, want int) {
	t.Helper()
	deadline := time.Now().Add(ltbrowser.Timeout)
	for {
		open, _, _ := s.counts()
		if open == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d streams open, want %d", what, open, want)
		}
		time.Sleep(10 * time.Millisecond) // polling the count: no event tells
	}
}

// site is the app served to a browser tab.
type site struct {
	ctx  context.Context
	app  *App
	base string // the list's URL
	srv  *httptest.Server
}

// serve serves the app, routed by route(app) (and wrapped by wrap, when
// not nil), on loopback; base is the list's path. The pages and the
// server are closed when the test ends, the pages first.
func serve(t *testing.T, route func(*App) http.Handler, base string, wrap func(http.Handler) http.Handler, opts ...lt.Option) *site {
	t.Helper()
	is := is.New(t)
	app, err := NewApp(NewStore(3000), opts...)
	is.NoErr(err)
	h := route(app)
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		if err := app.Close(); err != nil {
			t.Errorf("closing the pages: %v", err)
		}
		srv.Close()
	})
	return &site{ctx: ltbrowser.New(t), app: app, base: srv.URL + base, srv: srv}
}

// open loads the list at query in the tab, waits until it is live and
// marks the document, so that samePage can tell it was not reloaded.
func (s *site) open(t *testing.T, query string) {
	t.Helper()
	is := is.New(t)
	is.NoErr(ltbrowser.Do(s.ctx, chromedp.Navigate(s.base+query)))
	is.NoErr(ltbrowser.WaitStatus(s.ctx, "online"))
	_, err := ltbrowser.Eval[chromedp.Void](s.ctx, `window.__ltTestMark = "same page"`)
	is.NoErr(err)
}

func (s *site) samePage(t *testing.T) bool {
	t.Helper()
	kept, err := ltbrowser.Eval[bool](s.ctx, `window.__ltTestMark === "same page"`)
	is.New(t).NoErr(err)
	return kept
}

func (s *site) eval(t *testing.T, js string) string {
	t.Helper()
	v, err := ltbrowser.Eval[string](s.ctx, js)
	is.New(t).NoErr(err)
	return v
}

func (s *site) click(t *testing.T, sel string) {
	t.Helper()
	is.New(t).NoErr(ltbrowser.Do(s.ctx, chromedp.Click(chromedp.CSS(sel))))
}

// back and forward move through the history as the browser's buttons do
// (the same document's entries included, which chromedp's NavigateBack,
// waiting for a load, does not cover).
func (s *site) back(t *testing.T) {
	t.Helper()
	_, err := ltbrowser.Eval[chromedp.Void](s.ctx, `history.back()`)
	is.New(t).NoErr(err)
}

func (s *site) forward(t *testing.T) {
	t.Helper()
	_, err := ltbrowser.Eval[chromedp.Void](s.ctx, `history.forward()`)
	is.New(t).NoErr(err)
}

// waitURL waits until the tab's path and query are want.
func (s *site) waitURL(t *testing.T, want string) {
	t.Helper()
	is.New(t).NoErr(ltbrowser.Wait(s.ctx, "the URL "+want,
		fmt.Sprintf(`location.pathname + location.search === %q`, want), `location.pathname + location.search`))
}

// rangeOf is what the list says it shows for q.
func rangeOf(store *Store, q Query) string {
	items, total, _ := store.List(q)
	if total == 0 {
		return "No items match."
	}
	from := (q.Page-1)*PerPage + 1
	return fmt.Sprintf("%d–%d of %d", from, from+len(items)-1, total)
}

// firstName is the name of the first item the list shows for q.
func firstName(store *Store, q Query) string {
	items, _, _ := store.List(q)
	return items[0].Name
}

// waitList waits until the list shows q's page.
func (s *site) waitList(t *testing.T, q Query) {
	t.Helper()
	is := is.New(t)
	is.NoErr(ltbrowser.WaitText(s.ctx, "#range", rangeOf(s.app.Store, q)))
	is.NoErr(ltbrowser.WaitText(s.ctx, "#items tr:first-child td:nth-child(2)", firstName(s.app.Store, q)))
}

// The list under chi's r.Route: its pages, sorts and filter change the
// URL and run Params on the same connection, with no reload; typing in
// the filter replaces the URL (no entry per letter); Back and Forward
// step through the entries; a reload shows the URL's state.
func TestBrowserPatchUnderChiRoute(t *testing.T) {
	is := is.New(t)
	s := serve(t, (*App).Chi, "/catalog/", nil)
	s.open(t, "")
	conn := s.eval(t, `livesse.conn`)
	s.waitList(t, Query{Sort: "id", Page: 1})

	s.click(t, "#next")
	s.waitURL(t, "/catalog/?page=2")
	s.waitList(t, Query{Sort: "id", Page: 2})
	s.click(t, "#sort-price")
	s.waitURL(t, "/catalog/?sort=price")
	s.waitList(t, Query{Sort: "price", Page: 1})
	entries := s.eval(t, `String(history.length)`)

	is.NoErr(ltbrowser.Do(s.ctx, ltbrowser.SendKeys(chromedp.ID("q"), "red")))
	s.waitURL(t, "/catalog/?q=red&sort=price")
	s.waitList(t, Query{Q: "red", Sort: "price", Page: 1})
	is.Equal(s.eval(t, `String(history.length)`), entries) // replaced, not pushed
	s.click(t, "#next")
	s.waitURL(t, "/catalog/?page=2&q=red&sort=price")
	s.waitList(t, Query{Q: "red", Sort: "price", Page: 2})
	is.True(s.samePage(t))
	is.Equal(s.eval(t, `livesse.conn`), conn) // the same connection throughout

	s.back(t)
	s.waitURL(t, "/catalog/?q=red&sort=price")
	s.waitList(t, Query{Q: "red", Sort: "price", Page: 1})
	s.back(t)
	s.waitURL(t, "/catalog/?page=2")
	s.waitList(t, Query{Sort: "id", Page: 2})
	s.forward(t)
	s.waitURL(t, "/catalog/?q=red&sort=price")
	s.waitList(t, Query{Q: "red", Sort: "price", Page: 1})
	is.True(s.samePage(t))
	is.Equal(s.eval(t, `livesse.conn`), conn)
	is.Equal(s.eval(t, `document.querySelector("#q").value`), "red")

	// Enter in the filter submits its GET form, live: a new entry.
	is.NoErr(ltbrowser.Do(s.ctx, ltbrowser.SendKeys(chromedp.ID("q"), " lamp\r")))
	s.waitURL(t, "/catalog/?q=red+lamp&sort=price")
	s.waitList(t, Query{Q: "red lamp", Sort: "price", Page: 1})
	is.True(s.samePage(t))

	// A reload shows what the URL says.
	is.NoErr(ltbrowser.Do(s.ctx, chromedp.Reload()))
	is.NoErr(ltbrowser.WaitStatus(s.ctx, "online"))
	s.waitList(t, Query{Q: "red lamp", Sort: "price", Page: 1})
	is.True(!s.samePage(t))
}

// rowOf is the selector of the list's link to item id.
func rowOf(id int) string { return fmt.Sprintf(`#items tr[data-key="%d"] a`, id) }

// Under http.ServeMux's patterns: an item's link loads its page live
// (its title, its body, a connection of its own, no reload); its form
// edits it live; its next link moves to the next item with Params;
// Back returns to the item, then to the list at the scroll position it
// was left at, showing the edit; Forward goes to the item again.
func TestBrowserNavigateUnderServeMux(t *testing.T) {
	is := is.New(t)
	s := serve(t, (*App).Mux, "/catalog/", nil)
	is.NoErr(ltbrowser.Do(s.ctx, chromedp.EmulateViewport(800, 300)))
	s.open(t, "?page=3")
	q := Query{Sort: "id", Page: 3}
	s.waitList(t, q)
	listConn := s.eval(t, `livesse.conn`)

	// Scrolled down to the last row, whose item is opened.
	items, _, _ := s.app.Store.List(q)
	last := items[len(items)-1]
	y := s.eval(t, `(document.querySelector(`+strconv.Quote(rowOf(last.ID))+`).scrollIntoView(), String(Math.round(scrollY)))`)
	is.True(y != "0")
	s.click(t, rowOf(last.ID))
	s.waitURL(t, fmt.Sprintf("/catalog/items/%d", last.ID))
	is.NoErr(ltbrowser.WaitText(s.ctx, "#name", last.Name))
	is.NoErr(ltbrowser.WaitStatus(s.ctx, "online"))
	is.Equal(s.eval(t, `document.title`), fmt.Sprintf("Item %d · Catalog", last.ID))
	is.True(s.samePage(t))
	itemConn := s.eval(t, `livesse.conn`)
	is.True(itemConn != listConn)

	// The form edits the item, live.
	is.NoErr(ltbrowser.Do(s.ctx, ltbrowser.FillAndClick("#save", map[string]string{"#f-name": "Renamed Lamp", "#f-price": "12.5"})))
	is.NoErr(ltbrowser.WaitText(s.ctx, "#saved", "Saved."))
	is.NoErr(ltbrowser.WaitText(s.ctx, "#name", "Renamed Lamp"))
	is.NoErr(ltbrowser.WaitText(s.ctx, "#price", "12.50 €"))
	is.True(s.samePage(t))

	// Next: the same page, another item, the same connection.
	next, _ := s.app.Store.Get(last.ID + 1)
	s.click(t, "#next")
	s.waitURL(t, fmt.Sprintf("/catalog/items/%d", next.ID))
	is.NoErr(ltbrowser.WaitText(s.ctx, "#name", next.Name))
	is.Equal(s.eval(t, `livesse.conn`), itemConn)

	s.back(t)
	s.waitURL(t, fmt.Sprintf("/catalog/items/%d", last.ID))
	is.NoErr(ltbrowser.WaitText(s.ctx, "#name", "Renamed Lamp"))
	s.back(t)
	s.waitURL(t, "/catalog/?page=3")
	is.NoErr(ltbrowser.WaitText(s.ctx, rowOf(last.ID), "Renamed Lamp"))
	is.NoErr(ltbrowser.Wait(s.ctx, "the list scrolled back to "+y, `String(Math.round(scrollY)) === `+strconv.Quote(y), `scrollY`))
	is.Equal(s.eval(t, `document.title`), "Catalog")
	is.NoErr(ltbrowser.WaitStatus(s.ctx, "online"))
	s.forward(t)
	s.waitURL(t, fmt.Sprintf("/catalog/items/%d", last.ID))
	is.NoErr(ltbrowser.WaitText(s.ctx, "#name", "Renamed Lamp"))
	is.NoErr(ltbrowser.WaitStatus(s.ctx, "online"))
	is.True(s.samePage(t))
}

// An action moves the tab to another page (Jump: ctx.PushURL to an
// item): the client pushes the URL, asks the item's URL for Params (410:
// it is another page's) and loads that page live in the same entry; a
// number that is not an item shows a field error and moves nothing.
func TestBrowserPushURLToAnotherPage(t *testing.T) {
	is := is.New(t)
	s := serve(t, (*App).Mux, "/catalog/", nil)
	s.open(t, "?page=2")
	entries := s.eval(t, `String(history.length)`)
	conn := s.eval(t, `livesse.conn`)

	is.NoErr(ltbrowser.Do(s.ctx, ltbrowser.FillAndClick(`#jump button`, map[string]string{"#jump-id": "99999"})))
	is.NoErr(ltbrowser.WaitTextContains(s.ctx, "#jump .error", "No such item"))
	s.waitURL(t, "/catalog/?page=2")

	it, _ := s.app.Store.Get(1234)
	is.NoErr(ltbrowser.Do(s.ctx, ltbrowser.FillAndClick(`#jump button`, map[string]string{"#jump-id": "1234"})))
	s.waitURL(t, "/catalog/items/1234")
	is.NoErr(ltbrowser.Wait(s.ctx, "the item's page", `document.title === "Item 1234 · Catalog"`, `document.title`))
	is.NoErr(ltbrowser.WaitText(s.ctx, "#name", it.Name))
	is.NoErr(ltbrowser.WaitStatus(s.ctx, "online"))
	is.True(s.samePage(t))
	is.True(s.eval(t, `livesse.conn`) != conn)
	n, err := strconv.Atoi(entries)
	is.NoErr(err)
	is.Equal(s.eval(t, `String(history.length)`), strconv.Itoa(n+1)) // one entry: pushed, then loaded in place

	s.back(t)
	s.waitURL(t, "/catalog/?page=2")
	is.NoErr(ltbrowser.WaitText(s.ctx, "#range", rangeOf(s.app.Store, Query{Sort: "id", Page: 2})))
}

// Under http.StripPrefix: every URL keeps the prefix, the redirects to
// the list included, and patch, navigate, edit and back work as at the
// root.
func TestBrowserUnderStripPrefix(t *testing.T) {
	is := is.New(t)
	route := func(a *App) http.Handler {
		mux := http.NewServeMux()
		mux.Handle("/shop/", http.StripPrefix("/shop", a.Chi()))
		return mux
	}
	s := serve(t, route, "/shop/", nil)
	s.open(t, "") // redirected to the list
	s.waitURL(t, "/shop/catalog/")
	s.click(t, "#next")
	s.waitURL(t, "/shop/catalog/?page=2")
	s.waitList(t, Query{Sort: "id", Page: 2})
	it, _ := s.app.Store.Get(21)
	s.click(t, rowOf(21))
	s.waitURL(t, "/shop/catalog/items/21")
	is.NoErr(ltbrowser.WaitText(s.ctx, "#name", it.Name))
	is.NoErr(ltbrowser.WaitStatus(s.ctx, "online"))
	is.NoErr(ltbrowser.Do(s.ctx, ltbrowser.FillAndClick("#save", map[string]string{"#f-name": "Prefixed Jug"})))
	is.NoErr(ltbrowser.WaitText(s.ctx, "#saved", "Saved."))
	s.waitURL(t, "/shop/catalog/items/21")
	s.click(t, "#list")
	s.waitURL(t, "/shop/catalog/")
	is.NoErr(ltbrowser.WaitText(s.ctx, rowOf(1), firstName(s.app.Store, Query{Sort: "id", Page: 1})))
	s.back(t)
	s.waitURL(t, "/shop/catalog/items/21")
	is.NoErr(ltbrowser.WaitText(s.ctx, "#name", "Prefixed Jug"))
	s.back(t)
	s.waitURL(t, "/shop/catalog/?page=2")
	is.NoErr(ltbrowser.WaitText(s.ctx, rowOf(21), "Prefixed Jug"))
	is.NoErr(ltbrowser.WaitStatus(s.ctx, "online"))
	is.True(s.samePage(t))
}

// With JavaScript disabled every link and form is a plain one: the
// pager and sort links load the URL's state, the filter form GETs its
// query, an item's link its page, whose form posts the edit and lands on
// the item (303); the jump form's action, which pushes an item's URL,
// lands there (303). (Back is the browser's own then, and may come from its
// back/forward cache, which chromedp's DOM queries do not follow.)
func TestBrowserWithoutJavaScript(t *testing.T) {
	is := is.New(t)
	s := serve(t, (*App).Chi, "/catalog/", nil)
	is.NoErr(ltbrowser.Do(s.ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	})))
	text := func(sel string) string {
		t.Helper()
		v, err := ltbrowser.DOMText(s.ctx, sel)
		is.NoErr(err)
		return v
	}
	load := func(url string, a chromedp.Action[chromedp.Void]) {
		t.Helper()
		resp, err := ltbrowser.NavigateResponse(s.ctx, a)
		if err != nil {
			t.Fatalf("loading %s: %v", url, err)
		}
		is.Equal(resp.Status, int64(http.StatusOK))
		is.Equal(resp.URL, s.srv.URL+url)
	}
	load("/catalog/", chromedp.Navigate(s.base))
	load("/catalog/?page=2", chromedp.Click(chromedp.CSS("#next")))
	is.Equal(text("#range"), rangeOf(s.app.Store, Query{Sort: "id", Page: 2}))
	load("/catalog/?sort=price", chromedp.Click(chromedp.CSS("#sort-price")))
	load("/catalog/?sort=-price", chromedp.Click(chromedp.CSS("#sort-price"))) // the other way
	is.NoErr(ltbrowser.Do(s.ctx, chromedp.SetValue(chromedp.ID("q"), "teal")))
	load("/catalog/?q=teal&sort=-price", chromedp.Click(chromedp.CSS("#filter button")))
	q := Query{Q: "teal", Sort: "-price", Page: 1}
	is.Equal(text("#range"), rangeOf(s.app.Store, q))
	top, _, _ := s.app.Store.List(q)
	load(fmt.Sprintf("/catalog/items/%d", top[0].ID), chromedp.Click(chromedp.CSS(rowOf(top[0].ID))))
	is.Equal(text("#name"), top[0].Name)
	is.NoErr(ltbrowser.Do(s.ctx, chromedp.SetValue(chromedp.ID("f-name"), "Plain Teal Vase")))
	load(fmt.Sprintf("/catalog/items/%d", top[0].ID), chromedp.Click(chromedp.CSS("#save")))
	is.Equal(text("#name"), "Plain Teal Vase")
	load("/catalog/", chromedp.Click(chromedp.CSS("#list")))
	is.Equal(text("#range"), rangeOf(s.app.Store, Query{Sort: "id", Page: 1}))
	is.NoErr(ltbrowser.Do(s.ctx, chromedp.SetValue(chromedp.ID("jump-id"), "42")))
	load("/catalog/items/42", chromedp.Click(chromedp.CSS("#jump button"))) // the 303 to PushURL's URL
	it, _ := s.app.Store.Get(42)
	is.Equal(text("#name"), it.Name)
	status, err := chromedp.Run(s.ctx, chromedp.AttributeValue(chromedp.CSS("html"), "data-lt-status"))
	is.NoErr(err)
	is.True(!status.Exists) // no client ran
}

// While a tab moves between the live pages (list, item, next item, back,
// forward, the list again), the browser holds one event stream at a
// time: each live navigation closes the stream of the page it leaves
// before the new page's opens, and a patch keeps its stream. Counted on
// the server: the text/event-stream requests in flight.
func TestBrowserOneStreamWhileNavigating(t *testing.T) {
	is := is.New(t)
	var n streams
	s := serve(t, (*App).Chi, "/catalog/", n.wrap, lt.WithStreamsInHandler())
	s.open(t, "")
	settled := func(what string) {
		t.Helper()
		is.NoErr(ltbrowser.WaitStatus(s.ctx, "online"))
		n.waitOpen(t, what, 1)
	}
	settled("the list")
	s.click(t, "#next")
	s.waitURL(t, "/catalog/?page=2")
	s.waitList(t, Query{Sort: "id", Page: 2})
	settled("a patch")
	_, _, opened := n.counts()
	is.Equal(opened, 1) // a patch opens no stream

	// Each step waits for the page it leads to: its title (set with the
	// body, as the connection is taken up) and content.
	item := func(id int) func() error {
		it, _ := s.app.Store.Get(id)
		return func() error {
			if err := ltbrowser.Wait(s.ctx, fmt.Sprint("item ", id), fmt.Sprintf(`document.title === "Item %d · Catalog"`, id), `document.title`); err != nil {
				return err
			}
			return ltbrowser.WaitText(s.ctx, "#name", it.Name)
		}
	}
	list := func(q Query) func() error {
		return func() error {
			if err := ltbrowser.Wait(s.ctx, "the list", `document.title === "Catalog"`, `document.title`); err != nil {
				return err
			}
			return ltbrowser.WaitText(s.ctx, "#range", rangeOf(s.app.Store, q))
		}
	}
	for i, step := range []struct {
		what  string
		do    func()
		url   string
		shows func() error
	}{
		{"an item", func() { s.click(t, rowOf(21)) }, "/catalog/items/21", item(21)},
		{"the next item (a patch)", func() { s.click(t, "#next") }, "/catalog/items/22", item(22)}, // its title too
		{"back to the list", func() { s.click(t, "#list") }, "/catalog/", list(Query{Sort: "id", Page: 1})},
		{"Back", func() { s.back(t) }, "/catalog/items/22", item(22)},
		{"Back again", func() { s.back(t) }, "/catalog/items/21", item(21)},
		{"Back to page 2", func() { s.back(t) }, "/catalog/?page=2", list(Query{Sort: "id", Page: 2})},
		{"Forward", func() { s.forward(t) }, "/catalog/items/21", item(21)},
	} {
		step.do()
		s.waitURL(t, step.url)
		is.NoErr(step.shows())
		settled(fmt.Sprint(i, " ", step.what))
	}
	is.True(s.samePage(t))
	open, most, opened := n.counts()
	n.mu.Lock()
	t.Logf("streams: %d open, at most %d at once, %d opened in all: %v", open, most, opened, n.paths)
	n.mu.Unlock()
	is.Equal(most, 1)
	// The list, an item, the list, then one per live load: Back to item
	// 22 and to item 21 (each an entry of a page no longer shown), page 2
	// and Forward; the patch to item 22 opened none.
	is.Equal(opened, 7)
}

// Two tabs of a browser on the list share one stream. One of them moving
// to an item holds the item page's stream (a stream carries the
// connections of one page), and coming back to the list it joins the
// other tab's stream again.
func TestBrowserTabsShareAStreamAfterNavigating(t *testing.T) {
	is := is.New(t)
	var n streams
	s := serve(t, (*App).Chi, "/catalog/", n.wrap, lt.WithStreamsInHandler())
	s.open(t, "")
	other := ltbrowser.NewTab(t, s.ctx)
	is.NoErr(ltbrowser.Do(other, chromedp.Navigate(s.base)))
	is.NoErr(ltbrowser.WaitStatus(other, "online"))
	n.waitOpen(t, "two tabs on the list", 1)

	it, _ := s.app.Store.Get(1)
	is.NoErr(ltbrowser.Do(other, chromedp.Click(chromedp.CSS(rowOf(1)))))
	is.NoErr(ltbrowser.WaitText(other, "#name", it.Name))
	is.NoErr(ltbrowser.WaitStatus(other, "online"))
	n.waitOpen(t, "one tab on the list, one on an item", 2)

	is.NoErr(ltbrowser.Do(other, chromedp.Click(chromedp.CSS("#list"))))
	is.NoErr(ltbrowser.WaitText(other, "#range", rangeOf(s.app.Store, Query{Sort: "id", Page: 1})))
	is.NoErr(ltbrowser.WaitStatus(other, "online"))
	n.waitOpen(t, "both tabs on the list again", 1)
	leads, err := ltbrowser.Eval[[]bool](other, `[livesse.leader]`)
	is.NoErr(err)
	is.Equal(leads, []bool{false}) // it follows the first tab again
}
