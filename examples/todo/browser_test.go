package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
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

// openTodo serves the app on loopback, loads it in a fresh browser and
// waits until the page is live.
func openTodo(t *testing.T) context.Context {
	t.Helper()
	is := is.New(t)
	router, h, err := newRouter()
	is.NoErr(err)
	srv := ltbrowser.Serve(t, router, h)
	ctx := ltbrowser.New(t)
	is.NoErr(ltbrowser.Do(ctx, chromedp.Navigate(srv.URL+"/")))
	is.NoErr(ltbrowser.WaitStatus(ctx, "online"))
	_, err = ltbrowser.Eval[chromedp.Void](ctx, `window.__ltTestMark = "same page"`)
	is.NoErr(err)
	return ctx
}

func samePage(t *testing.T, ctx context.Context) {
	t.Helper()
	kept, err := ltbrowser.Eval[bool](ctx, `window.__ltTestMark === "same page"`)
	is.New(t).NoErr(err)
	if !kept {
		t.Fatal("the page was reloaded: an action was not live")
	}
}

// add types title into the new-todo field and presses Enter, then waits
// for item id to show it.
func add(t *testing.T, ctx context.Context, id int, title string) {
	t.Helper()
	is := is.New(t)
	is.NoErr(ltbrowser.Do(ctx, ltbrowser.SendKeys(chromedp.ID("new-title"), title+kb.Enter)))
	is.NoErr(ltbrowser.WaitText(ctx, fmt.Sprintf("#todo-%d .title", id), title))
}

func click(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	is.New(t).NoErr(ltbrowser.Do(ctx, chromedp.Click(chromedp.CSS(sel))))
}

// titles lists the titles the list shows.
func titles(t *testing.T, ctx context.Context) []string {
	t.Helper()
	s, err := ltbrowser.Eval[[]string](ctx, `[...document.querySelectorAll("#todo-list .title")].map((e) => e.textContent)`)
	is.New(t).NoErr(err)
	return s
}

func waitTitles(ctx context.Context, want ...string) error {
	w := `["` + strings.Join(want, `","`) + `"]`
	if len(want) == 0 {
		w = "[]"
	}
	return ltbrowser.Wait(ctx, "the list "+w,
		`JSON.stringify([...document.querySelectorAll("#todo-list .title")].map((e) => e.textContent)) === `+"`"+w+"`",
		`JSON.stringify([...document.querySelectorAll("#todo-list .title")].map((e) => e.textContent))`)
}

// Adding with Enter, toggling (the clicked button, which keeps the focus,
// shows its new label), editing in place (Enter saves, Escape cancels),
// deleting: all live, without a navigation.
func TestBrowserTodo(t *testing.T) {
	is := is.New(t)
	ctx := openTodo(t)

	add(t, ctx, 1, "milk")
	// The field empties for the next one once the POST is answered (the
	// stream may show the item before).
	is.NoErr(ltbrowser.Wait(ctx, "the new-todo field emptied", `document.querySelector("#new-title").value === ""`,
		`document.querySelector("#new-title").value`))
	is.NoErr(ltbrowser.WaitText(ctx, "#left", "1 item left"))
	add(t, ctx, 2, "eggs")
	is.NoErr(ltbrowser.WaitText(ctx, "#left", "2 items left"))

	// Done/Undo: the label changes on the button just clicked, which still
	// has the focus.
	toggle := `document.querySelector("#todo-1 .toggle")`
	click(t, ctx, "#todo-1 .toggle")
	is.NoErr(ltbrowser.WaitText(ctx, "#todo-1 .toggle", "Undo"))
	focused, err := ltbrowser.Eval[bool](ctx, `document.activeElement === `+toggle+` && `+toggle+`.getAttribute("aria-pressed") === "true" && document.querySelector("#todo-1").className === "completed"`)
	is.NoErr(err)
	is.True(focused)
	is.NoErr(ltbrowser.WaitText(ctx, "#left", "1 item left"))
	click(t, ctx, "#todo-1 .toggle")
	is.NoErr(ltbrowser.WaitText(ctx, "#todo-1 .toggle", "Done"))
	focused, err = ltbrowser.Eval[bool](ctx, `document.activeElement === `+toggle+` && `+toggle+`.getAttribute("aria-pressed") === "false"`)
	is.NoErr(err)
	is.True(focused)

	// Edit: the field appears with the caret in it (the page's hook);
	// Enter saves.
	edit := `document.querySelector("#todo-2 .edit")`
	click(t, ctx, "#todo-2 .edit-button")
	is.NoErr(ltbrowser.Wait(ctx, "the edit field focused", `document.activeElement === `+edit, `document.activeElement.outerHTML`))
	is.NoErr(ltbrowser.Do(ctx, chromedp.KeyEvent(" and bread"+kb.Enter)))
	is.NoErr(ltbrowser.WaitText(ctx, "#todo-2 .title", "eggs and bread"))
	gone, err := ltbrowser.Eval[bool](ctx, edit+` === null`)
	is.NoErr(err)
	is.True(gone)

	// Escape cancels what was typed.
	click(t, ctx, "#todo-2 .edit-button")
	is.NoErr(ltbrowser.Wait(ctx, "the edit field focused", `document.activeElement === `+edit, `document.activeElement.outerHTML`))
	is.NoErr(ltbrowser.Do(ctx, chromedp.KeyEvent(" and jam")))
	is.NoErr(ltbrowser.Wait(ctx, "the text typed", edit+`.value === "eggs and bread and jam"`, edit+`.value`))
	is.NoErr(ltbrowser.Do(ctx, chromedp.KeyEvent(kb.Escape)))
	is.NoErr(ltbrowser.WaitText(ctx, "#todo-2 .title", "eggs and bread"))
	is.Equal(titles(t, ctx), []string{"milk", "eggs and bread"})

	// Saving an empty title deletes the item, as the × button does.
	click(t, ctx, "#todo-1 .edit-button")
	is.NoErr(ltbrowser.Wait(ctx, "the edit field focused", `document.activeElement === document.querySelector("#todo-1 .edit")`, `document.activeElement.outerHTML`))
	_, err = ltbrowser.Eval[chromedp.Void](ctx, `document.querySelector("#todo-1 .edit").select()`)
	is.NoErr(err)
	is.NoErr(ltbrowser.Do(ctx, chromedp.KeyEvent(kb.Backspace+kb.Enter)))
	// The item being edited shows no title, so the titles were already
	// these: the deletion is done once the item is gone (clicking before,
	// the click could land on a list the deletion is morphing).
	is.NoErr(ltbrowser.Wait(ctx, "the item deleted", `document.querySelector("#todo-1") === null`, `document.querySelector("#todo-list").outerHTML`))
	is.NoErr(waitTitles(ctx, "eggs and bread"))
	click(t, ctx, "#todo-2 .delete")
	is.NoErr(ltbrowser.Wait(ctx, "the list gone", `document.querySelector("#todo-list") === null`, `document.body.innerHTML`))
	samePage(t, ctx)
}

// The filters show all, the active or the completed items, and the list
// follows changes under a filter; "mark all" and "clear completed" act on
// every item.
func TestBrowserTodoFilters(t *testing.T) {
	is := is.New(t)
	ctx := openTodo(t)
	add(t, ctx, 1, "milk")
	add(t, ctx, 2, "eggs")
	add(t, ctx, 3, "bread")
	click(t, ctx, "#todo-2 .toggle")
	is.NoErr(ltbrowser.WaitText(ctx, "#left", "2 items left"))

	click(t, ctx, "#filter-active")
	is.NoErr(waitTitles(ctx, "milk", "bread"))
	pressed, err := ltbrowser.Eval[string](ctx, `[...document.querySelectorAll("#controls [aria-pressed=true]")].map((b) => b.id).join()`)
	is.NoErr(err)
	is.Equal(pressed, "filter-active")
	click(t, ctx, "#todo-3 .toggle") // done: it leaves the active list
	is.NoErr(waitTitles(ctx, "milk"))

	click(t, ctx, "#filter-completed")
	is.NoErr(waitTitles(ctx, "eggs", "bread"))
	is.NoErr(ltbrowser.WaitText(ctx, "#clear-completed", "Clear completed (2)"))
	click(t, ctx, "#clear-completed")
	is.NoErr(waitTitles(ctx))
	is.NoErr(ltbrowser.Do(ctx, chromedp.WaitNotPresent(chromedp.ID("clear-completed"))))

	click(t, ctx, "#filter-all")
	is.NoErr(waitTitles(ctx, "milk"))
	click(t, ctx, "#toggle-all")
	is.NoErr(ltbrowser.WaitText(ctx, "#left", "0 items left"))
	is.NoErr(ltbrowser.WaitText(ctx, "#toggle-all", "Mark all not done"))
	click(t, ctx, "#toggle-all")
	is.NoErr(ltbrowser.WaitText(ctx, "#left", "1 item left"))
	samePage(t, ctx)
}

// With JavaScript disabled, every action is a plain form post answered
// with 303: add with Enter, toggle, edit (Enter saves with the form's
// first button), filter, delete.
func TestBrowserTodoWithoutJavaScript(t *testing.T) {
	is := is.New(t)
	router, h, err := newRouter()
	is.NoErr(err)
	srv := ltbrowser.Serve(t, router, h)
	ctx := ltbrowser.New(t)
	is.NoErr(ltbrowser.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	})))
	page := srv.URL + "/"
	redirects := make(chan int64, 16)
	is.NoErr(chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok && e.Type == network.ResourceTypeDocument && e.RedirectResponse != nil {
			select {
			case redirects <- e.RedirectResponse.Status:
			default:
			}
		}
	}))
	post := func(what string, a chromedp.Action[chromedp.Void]) {
		t.Helper()
		resp, err := navigateResponse(ctx, a)
		is.NoErr(err)
		is.Equal(resp.Status, int64(http.StatusOK)) // the page after the redirect
		is.Equal(resp.URL, page)
		select {
		case s := <-redirects:
			is.Equal(s, int64(http.StatusSeeOther))
		default:
			t.Fatalf("%s: the post was not redirected", what)
		}
	}
	resp, err := navigateResponse(ctx, chromedp.Navigate(page))
	is.NoErr(err)
	is.Equal(resp.Status, int64(http.StatusOK))

	post("add milk", ltbrowser.SendKeys(chromedp.ID("new-title"), "milk"+kb.Enter))
	post("add eggs", ltbrowser.SendKeys(chromedp.ID("new-title"), "eggs"+kb.Enter))
	is.Equal(text(t, ctx, "#todo-2 .title"), "eggs")
	is.Equal(text(t, ctx, "#left"), "2 items left")

	post("toggle", chromedp.Click(chromedp.CSS("#todo-1 .toggle")))
	is.Equal(text(t, ctx, "#todo-1 .toggle"), "Undo")
	is.Equal(text(t, ctx, "#left"), "1 item left")

	post("edit", chromedp.Click(chromedp.CSS("#todo-2 .edit-button")))
	post("save", ltbrowser.SendKeys(chromedp.CSS("#todo-2 .edit"), kb.End+" and bread"+kb.Enter))
	is.Equal(text(t, ctx, "#todo-2 .title"), "eggs and bread")

	post("filter", chromedp.Click(chromedp.ID("filter-completed")))
	is.Equal(text(t, ctx, "#todo-list .title"), "milk")
	is.True(!strings.Contains(text(t, ctx, "#todo-list"), "eggs")) // the active one is not shown
	post("delete", chromedp.Click(chromedp.CSS("#todo-1 .delete")))
	post("filter", chromedp.Click(chromedp.ID("filter-all")))
	is.Equal(text(t, ctx, "#todo-list .title"), "eggs and bread")
	is.Equal(text(t, ctx, "#left"), "1 item left")
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
