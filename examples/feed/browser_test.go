package main

import (
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/livesse/livesse/lt/ltbrowser"
	"github.com/matryer/is"
)

// openFeed serves the app on loopback and loads path in a fresh browser,
// live.
func openFeed(t *testing.T, path string) context.Context {
	t.Helper()
	is := is.New(t)
	router, h, err := newRouter()
	is.NoErr(err)
	srv := ltbrowser.Serve(t, router, h)
	ctx := ltbrowser.New(t)
	is.NoErr(ltbrowser.Do(ctx, chromedp.Navigate(srv.URL+path)))
	is.NoErr(ltbrowser.WaitStatus(ctx, "online"))
	return ctx
}

// rowsJS is the ids of the rows the page shows, as row numbers.
const rowsJS = `[...document.querySelectorAll("#feed > li")].map((li) => +li.id.slice(4))`

// scrollTo brings the list's last row into view and waits until the page
// shows n rows.
func scrollTo(ctx context.Context, n int) error {
	if err := ltbrowser.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector("#feed").lastElementChild.scrollIntoView()`)); err != nil {
		return err
	}
	return ltbrowser.Wait(ctx, fmt.Sprintf("%d rows", n),
		fmt.Sprintf(`document.querySelectorAll("#feed > li").length >= %d`, n),
		`document.querySelectorAll("#feed > li").length + " rows"`)
}

// Scrolling loads page after page, each once, in order: the rows the page
// shows are 1 to n without a gap or a repeat, and the updates of the page
// in between (the More link's target) left them in place.
func TestBrowserScrollLoadsPagesInOrder(t *testing.T) {
	is := is.New(t)
	ctx := openFeed(t, "/")
	first, err := ltbrowser.Eval[[]int](ctx, rowsJS)
	is.NoErr(err)
	is.Equal(len(first), PageSize)
	// A mark on the first row: the same node all along.
	is.NoErr(ltbrowser.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector("#row-1").__mark = 1`)))

	const pages = 40
	for p := 2; p <= pages; p++ {
		is.NoErr(scrollTo(ctx, p*PageSize))
	}
	rows, err := ltbrowser.Eval[[]int](ctx, rowsJS)
	is.NoErr(err)
	is.True(len(rows) >= pages*PageSize)
	for i, id := range rows {
		if id != i+1 {
			t.Fatalf("row %d of the page is #%d, want #%d (rows %v)", i, id, i+1, rows)
		}
	}
	// One page per request, one request at a time: none ran ahead.
	is.True(len(rows) <= (pages+1)*PageSize)
	is.NoErr(ltbrowser.Wait(ctx, "the More link to follow the list",
		`document.querySelector("#more").getAttribute("href") === "?from=" + (document.querySelectorAll("#feed > li").length + 1)`,
		`document.querySelector("#more").getAttribute("href")`))
	kept, err := ltbrowser.Eval[bool](ctx, `document.querySelector("#row-1").__mark === 1`)
	is.NoErr(err)
	is.True(kept)
}

// At the end of the feed the list asks for nothing more, and says so.
func TestBrowserScrollToTheEnd(t *testing.T) {
	is := is.New(t)
	ctx := openFeed(t, fmt.Sprintf("/?from=%d", Rows-2*PageSize+1))
	is.NoErr(scrollTo(ctx, 2*PageSize))
	is.NoErr(ltbrowser.WaitText(ctx, "#end", "The end."))
	rows, err := ltbrowser.Eval[[]int](ctx, rowsJS)
	is.NoErr(err)
	is.Equal(len(rows), 2*PageSize)
	is.Equal(rows[len(rows)-1], Rows)
	attr, err := ltbrowser.Eval[bool](ctx, `document.querySelector("#feed").hasAttribute("data-lt-viewport-bottom")`)
	is.NoErr(err)
	is.True(!attr)
}

// serveOn serves a fresh app on ln until the test ends or stop is called.
func serveOn(t *testing.T, ln net.Listener) (stop func()) {
	t.Helper()
	router, h, err := newRouter()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(router)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			h.Close() // ends the live streams first: the server waits for none
			srv.Close()
		}
	}
	t.Cleanup(stop)
	return stop
}

// A tab whose connection is gone (here the server restarted) gets a new
// connection, whose Mount and Params start the list over: the page shows
// the first page again, not the rows it had with a position that no
// longer matches them, and scrolling goes on from there in order.
func TestBrowserNewConnectionStartsTheListOver(t *testing.T) {
	is := is.New(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	is.NoErr(err)
	addr := ln.Addr().String()
	stop := serveOn(t, ln)
	ctx := ltbrowser.New(t)
	is.NoErr(ltbrowser.Do(ctx, chromedp.Navigate("http://"+addr+"/")))
	is.NoErr(ltbrowser.WaitStatus(ctx, "online"))
	for p := 2; p <= 3; p++ {
		is.NoErr(scrollTo(ctx, p*PageSize))
	}
	conn, err := ltbrowser.Eval[string](ctx, `livesse.conn`)
	is.NoErr(err)

	stop()
	ln, err = net.Listen("tcp", addr)
	is.NoErr(err)
	serveOn(t, ln)
	is.NoErr(ltbrowser.Wait(ctx, "a new connection", `livesse.conn !== `+fmt.Sprintf("%q", conn), `livesse.conn`))
	is.NoErr(ltbrowser.Wait(ctx, "the first page again",
		rowsJS+`.join() === Array.from({length: 20}, (_, i) => i + 1).join()`, rowsJS+`.join()`))
	is.NoErr(scrollTo(ctx, 2*PageSize))
	rows, err := ltbrowser.Eval[[]int](ctx, rowsJS)
	is.NoErr(err)
	for i, id := range rows {
		is.Equal(id, i+1)
	}
}
