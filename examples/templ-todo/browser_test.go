package main

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/livesse/livesse/lt/ltbrowser"
	"github.com/matryer/is"
	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind: the handler's
// connections, the test server and chromedp's browser must all be shut
// down by the tests' cleanups.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// openTodo serves the app on loopback, loads it in a fresh browser and
// waits until the page's stream is online.
func openTodo(t *testing.T) context.Context {
	t.Helper()
	is := is.New(t)
	router, h, err := newRouter()
	is.NoErr(err)
	srv := ltbrowser.Serve(t, router, h)
	ctx := ltbrowser.New(t)
	is.NoErr(ltbrowser.Do(ctx, chromedp.Navigate(srv.URL+"/")))
	is.NoErr(ltbrowser.WaitText(ctx, "#empty", "Nothing to do."))
	is.NoErr(ltbrowser.WaitStatus(ctx, "online"))
	_, err = ltbrowser.Eval[chromedp.Void](ctx, `window.__ltTestMark = "same page"`)
	is.NoErr(err)
	return ctx
}

func add(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	is.New(t).NoErr(ltbrowser.Do(ctx, ltbrowser.FillAndClick("#add", map[string]string{"#name": name})))
}

// TestBrowserTodo adds, toggles and removes items in Chromium: every
// change arrives live, without a navigation, and the list keeps the
// element of an item while items are added, changed and removed around it.
func TestBrowserTodo(t *testing.T) {
	is := is.New(t)
	ctx := openTodo(t)

	add(t, ctx, "milk")
	is.NoErr(ltbrowser.WaitText(ctx, "#item-1 .name", "milk"))
	is.NoErr(ltbrowser.WaitText(ctx, "#left", "1 left"))
	_, err := ltbrowser.Eval[chromedp.Void](ctx, `document.querySelector("#item-1").__kept = true`)
	is.NoErr(err)

	add(t, ctx, `<b>eggs</b> & "more"`) // templ escapes it: text, not markup
	is.NoErr(ltbrowser.WaitText(ctx, "#item-2 .name", `<b>eggs</b> & "more"`))
	add(t, ctx, "bread")
	is.NoErr(ltbrowser.WaitText(ctx, "#item-3 .name", "bread"))
	is.NoErr(ltbrowser.WaitText(ctx, "#left", "3 left"))

	is.NoErr(ltbrowser.Do(ctx, chromedp.Click("#item-2 .toggle")))
	is.NoErr(ltbrowser.Wait(ctx, "item 2 done", `document.querySelector("#item-2").classList.contains("done")`,
		`document.querySelector("#items").outerHTML`))
	is.NoErr(ltbrowser.WaitText(ctx, "#left", "2 left"))
	is.NoErr(ltbrowser.WaitText(ctx, "#item-2 .toggle", "Undo"))

	is.NoErr(ltbrowser.Do(ctx, chromedp.Click("#item-2 .remove")))
	is.NoErr(ltbrowser.Wait(ctx, "item 2 gone", `document.querySelector("#item-2") === null`,
		`document.querySelector("#items").outerHTML`))

	is.NoErr(ltbrowser.Do(ctx, chromedp.Click("#item-1 .toggle")))
	is.NoErr(ltbrowser.WaitText(ctx, "#left", "1 left"))
	is.NoErr(ltbrowser.Do(ctx, chromedp.Click("#clear")))
	is.NoErr(ltbrowser.Wait(ctx, "item 1 cleared", `document.querySelector("#item-1") === null`,
		`document.querySelector("main").outerHTML`))

	names, err := ltbrowser.Eval[[]string](ctx, `[...document.querySelectorAll("#items .name")].map((e) => e.textContent)`)
	is.NoErr(err)
	is.Equal(names, []string{"bread"})
	kept, err := ltbrowser.Eval[bool](ctx, `window.__ltTestMark === "same page"`)
	is.NoErr(err)
	is.True(kept) // every change came live, without a navigation
}

// TestBrowserKeepsItemElements: an item's element stays the same node
// (what focus or a CSS transition needs) through an insert after it, a
// change of it and the removal of the item before it.
func TestBrowserKeepsItemElements(t *testing.T) {
	is := is.New(t)
	ctx := openTodo(t)
	for i, name := range []string{"one", "two", "three"} {
		add(t, ctx, name)
		is.NoErr(ltbrowser.WaitText(ctx, "#left", []string{"1 left", "2 left", "3 left"}[i]))
	}
	_, err := ltbrowser.Eval[chromedp.Void](ctx, `window.__two = document.querySelector("#item-2")`)
	is.NoErr(err)
	add(t, ctx, "four")
	is.NoErr(ltbrowser.WaitText(ctx, "#left", "4 left"))
	is.NoErr(ltbrowser.Do(ctx, chromedp.Click("#item-2 .toggle")))
	is.NoErr(ltbrowser.WaitText(ctx, "#left", "3 left"))
	is.NoErr(ltbrowser.Do(ctx, chromedp.Click("#item-1 .remove")))
	is.NoErr(ltbrowser.Wait(ctx, "item 1 gone", `document.querySelector("#item-1") === null`, `document.querySelector("#items").outerHTML`))
	same, err := ltbrowser.Eval[bool](ctx, `window.__two === document.querySelector("#item-2") && window.__two.isConnected`)
	is.NoErr(err)
	is.True(same)
}

// TestBrowserShowsActionError: a blank item is refused with the message
// the templ component reads with lt.ActionError(ctx), and the next
// successful action clears it.
func TestBrowserShowsActionError(t *testing.T) {
	is := is.New(t)
	ctx := openTodo(t)
	add(t, ctx, "   ")
	is.NoErr(ltbrowser.WaitText(ctx, "#error", "type what there is to do first"))
	add(t, ctx, "milk")
	is.NoErr(ltbrowser.WaitText(ctx, "#item-1 .name", "milk"))
	is.NoErr(ltbrowser.Wait(ctx, "the error to go", `document.querySelector("#error") === null`, `document.querySelector("main").outerHTML`))
}
