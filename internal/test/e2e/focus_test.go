package e2e

import (
	"context"
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/ltbrowser"
	"github.com/matryer/is"
)

type focusState struct {
	Done  bool
	Class string
	Q     string
	R     string
}

type focusCtrl struct{}

// Toggle flips the button's label and attributes.
func (*focusCtrl) Toggle(s focusState, _ *lt.Context) (focusState, error) {
	s.Done = !s.Done
	return s, nil
}

// Mark renders new classes and values into the fields.
func (*focusCtrl) Mark(s focusState, ctx *lt.Context) (focusState, error) {
	s.Class, s.Q, s.R = ctx.GetString("class"), ctx.GetString("q"), ctx.GetString("r")
	return s, nil
}

const focusHTML = `<!DOCTYPE html><html><head><title>focus</title></head><body>` +
	`<button id="toggle" name="toggle" class="{{if .Done}}done{{else}}todo{{end}}" aria-pressed="{{.Done}}">{{if .Done}}Undo{{else}}Done{{end}}</button>` +
	`<form method="post"><button id="in-form" name="toggle" value="{{.Done}}">{{if .Done}}Unfollow{{else}}Follow{{end}}</button></form>` +
	`<input id="q" name="q" class="{{.Class}}"{{with .Q}} value="{{.}}"{{end}}>` +
	`<input id="r" name="r" class="{{.Class}}"{{with .R}} value="{{.}}"{{end}}>` +
	`</body></html>`

func focusPage(t *testing.T) (*lt.Handler, string) {
	t.Helper()
	h := lt.Must(lt.New(lt.Must(lt.Parse("focus", focusHTML)), &focusCtrl{}, focusState{}))
	mux := http.NewServeMux()
	mux.Handle("/{$}", h)
	return h, ltbrowser.Serve(t, mux, h).URL
}

// A clicked button (focused by the click) shows what the server renders
// for it: its label, class and attributes, in a form or not.
func TestClickedButtonShowsItsNewLabel(t *testing.T) {
	is := is.New(t)
	_, base := focusPage(t)
	ctx := ltbrowser.New(t)
	is.NoErr(ltbrowser.Do(ctx, chromedp.Navigate(base+"/")))
	is.NoErr(ltbrowser.WaitStatus(ctx, "online"))

	is.NoErr(ltbrowser.Do(ctx, chromedp.Click("#toggle")))
	focused, err := ltbrowser.Eval[string](ctx, `document.activeElement.id`)
	is.NoErr(err)
	is.Equal(focused, "toggle") // the click focused it
	is.NoErr(ltbrowser.WaitText(ctx, "#toggle", "Undo"))
	got, err := ltbrowser.Eval[[]string](ctx, `(b => [b.className, b.getAttribute("aria-pressed")])(document.querySelector("#toggle"))`)
	is.NoErr(err)
	is.Equal(got, []string{"done", "true"})
	is.NoErr(ltbrowser.Do(ctx, chromedp.Click("#toggle")))
	is.NoErr(ltbrowser.WaitText(ctx, "#toggle", "Done"))

	is.NoErr(ltbrowser.Do(ctx, chromedp.Click("#in-form")))
	is.NoErr(ltbrowser.WaitText(ctx, "#in-form", "Unfollow"))
	value, err := ltbrowser.Eval[string](ctx, `document.querySelector("#in-form").value`)
	is.NoErr(err)
	is.Equal(value, "true")
}

// The focused field the user typed into keeps its text, caret and
// selection through an update that renders another value, and takes the
// server's class; a focused field the user has not typed into takes the
// server's value as well.
func TestFocusedFieldKeepsTypingTakesAttributes(t *testing.T) {
	is := is.New(t)
	h, base := focusPage(t)
	ctx := ltbrowser.New(t)
	is.NoErr(ltbrowser.Do(ctx, chromedp.Navigate(base+"/")))
	is.NoErr(ltbrowser.WaitStatus(ctx, "online"))
	g := group(t, ctx, base)

	is.NoErr(ltbrowser.Do(ctx, ltbrowser.SendKeys("#q", "typing")))
	_, err := ltbrowser.Eval[chromedp.Void](ctx, `document.querySelector("#q").setSelectionRange(2, 4)`)
	is.NoErr(err)
	is.NoErr(h.TriggerSession(context.Background(), g, "mark", map[string]any{"class": "bad", "q": "from server", "r": "r1"}))
	is.NoErr(ltbrowser.Wait(ctx, "the server's class", `document.querySelector("#q").className === "bad"`, `document.querySelector("#q").className`))
	type field struct {
		Value, Focused string
		Start, End     int
	}
	const read = `(q => ({Value: q.value, Focused: document.activeElement.id, Start: q.selectionStart, End: q.selectionEnd}))(document.querySelector("#q"))`
	got, err := ltbrowser.Eval[field](ctx, read)
	is.NoErr(err)
	is.Equal(got, field{Value: "typing", Focused: "q", Start: 2, End: 4})
	r, err := ltbrowser.Eval[string](ctx, `document.querySelector("#r").value`)
	is.NoErr(err)
	is.Equal(r, "r1")

	// Focused, not typed into: the server's value too.
	_, err = ltbrowser.Eval[chromedp.Void](ctx, `document.querySelector("#r").focus()`)
	is.NoErr(err)
	is.NoErr(h.TriggerSession(context.Background(), g, "mark", map[string]any{"class": "ok", "q": "from server", "r": "r2"}))
	is.NoErr(ltbrowser.Wait(ctx, "the server's value in the focused field", `document.querySelector("#r").value === "r2"`, `document.querySelector("#r").value`))
	cls, err := ltbrowser.Eval[string](ctx, `document.querySelector("#r").className + " " + document.activeElement.id`)
	is.NoErr(err)
	is.Equal(cls, "ok r")
}
