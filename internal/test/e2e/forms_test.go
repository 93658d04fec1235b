package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/ltbrowser"
	"github.com/matryer/is"
)

type formsState struct {
	N     int
	Name  string
	Agree bool
	Note  string
	Pick  string
	Log   []string
}

// formsCtrl reports each connection that ends on gone (if set and not full).
type formsCtrl struct{ gone chan struct{} }

// Bump changes the page around the fields, not the fields.
func (*formsCtrl) Bump(s formsState, _ *lt.Context) (formsState, error) {
	s.N++
	return s, nil
}

// Fill renders new values into the fields.
func (*formsCtrl) Fill(s formsState, ctx *lt.Context) (formsState, error) {
	s.Name, s.Note, s.Pick = ctx.GetString("name"), ctx.GetString("note"), ctx.GetString("pick")
	return s, nil
}

// Send logs the text of the chat boxes.
func (*formsCtrl) Send(s formsState, ctx *lt.Context) (formsState, error) {
	s.Log = append(s.Log, ctx.GetString("text"))
	return s, nil
}

func (c *formsCtrl) OnDisconnect() {
	select {
	case c.gone <- struct{}{}: // a nil channel never takes it
	default:
	}
}

// The fields carry no value attribute where the state is empty, as a
// template usually writes them; the textarea has no id.
const formsHTML = `<!DOCTYPE html><html><head><title>forms</title></head><body>` +
	`<p id="n">{{.N}}</p>` +
	`<form id="fields" method="post">` +
	`<input id="name" name="name"{{with .Name}} value="{{.}}"{{end}}>` +
	`<input id="agree" type="checkbox" name="agree"{{if .Agree}} checked{{end}}>` +
	`<textarea name="note">{{.Note}}</textarea>` +
	`<select id="pick" name="pick"><option value="a"{{if eq .Pick "a"}} selected{{end}}>a</option>` +
	`<option value="b"{{if eq .Pick "b"}} selected{{end}}>b</option><option value="c"{{if eq .Pick "c"}} selected{{end}}>c</option></select>` +
	`</form>` +
	`<form id="chat" method="post" data-lt-reset><input id="msg" name="text" autocomplete="off"><button name="send">send</button></form>` +
	`<form id="plain" method="post"><input id="draft" name="text" autocomplete="off"><button name="send">send</button></form>` +
	`<ul id="log">{{range .Log}}<li>{{.}}</li>{{end}}</ul>` +
	`</body></html>`

// fields is what the fields of the page hold.
type fields struct {
	Name  string `json:"name"`
	Agree bool   `json:"agree"`
	Note  string `json:"note"`
	Pick  string `json:"pick"`
	Msg   string `json:"msg"`
	Draft string `json:"draft"`
}

const fieldsJS = `({name: document.querySelector("#name").value, agree: document.querySelector("#agree").checked,
	note: document.querySelector("[name=note]").value, pick: document.querySelector("#pick").value,
	msg: document.querySelector("#msg").value, draft: document.querySelector("#draft").value})`

// readFields returns what the fields of the page of ctx hold.
func readFields(ctx context.Context) (fields, error) {
	return ltbrowser.Eval[fields](ctx, fieldsJS)
}

// formsPage serves the forms page; held (if not nil) holds its event
// streams back until it is closed.
func formsPage(t *testing.T, ctrl *formsCtrl, held chan struct{}, opts ...lt.Option) (*lt.Handler, string) {
	t.Helper()
	h := lt.Must(lt.New(lt.Must(lt.Parse("forms", formsHTML)), ctrl, formsState{}, opts...))
	mux := http.NewServeMux()
	mux.Handle("/{$}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if held != nil && strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
			select {
			case <-held:
			case <-r.Context().Done():
				return
			}
		}
		h.ServeHTTP(w, r)
	}))
	mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `<!DOCTYPE html><html><head><title>elsewhere</title></head><body><p id="elsewhere">elsewhere</p></body></html>`)
	})
	srv := ltbrowser.Serve(t, mux, h)
	return h, srv.URL
}

// group returns the session of the browser of ctx on the server at base.
func group(t *testing.T, ctx context.Context, base string) string {
	t.Helper()
	sid, err := ltbrowser.Cookie(ctx, base+"/", "lt_session")
	if err != nil {
		t.Fatal(err)
	}
	return lt.AnonymousIdentity(sid).SessionID
}

// A value the user typed (or a checkbox ticked, an option chosen) stays
// through updates that render the page around the field, also when typed
// before the stream connected and its first render came; the server's new
// value for a field replaces the user's.
func TestFieldsKeepWhatTheUserEntered(t *testing.T) {
	is := is.New(t)
	held := make(chan struct{})
	h, base := formsPage(t, &formsCtrl{}, held)
	ctx := ltbrowser.New(t)
	is.NoErr(ltbrowser.Do(ctx, chromedp.Navigate(base+"/")))
	is.NoErr(ltbrowser.WaitStatus(ctx, "connecting"))

	// Typed before the stream is there: its first render morphs the page.
	is.NoErr(ltbrowser.Do(ctx,
		ltbrowser.SendKeys(chromedp.ID("name"), "typed early"),
		chromedp.Click(chromedp.ID("agree")),
		ltbrowser.SendKeys(chromedp.CSS(`[name=note]`), "a note"),
		chromedp.SetValue(chromedp.ID("pick"), "b"),
	))
	// None focused: ignoreActiveValue would keep the focused one anyway.
	_, err := ltbrowser.Eval[chromedp.Void](ctx, `document.activeElement.blur();
		window.__updates = 0; document.addEventListener("lt:update", () => window.__updates++)`)
	is.NoErr(err)
	close(held)
	is.NoErr(ltbrowser.WaitStatus(ctx, "online"))
	is.NoErr(ltbrowser.Wait(ctx, "the first render", `window.__updates >= 1`, `window.__updates`))
	got, err := readFields(ctx)
	is.NoErr(err)
	is.Equal(got, fields{Name: "typed early", Agree: true, Note: "a note", Pick: "b"})

	// An update around the fields, none of them focused.
	_, err = ltbrowser.Eval[chromedp.Void](ctx, `document.activeElement.blur()`)
	is.NoErr(err)
	g := group(t, ctx, base)
	is.NoErr(h.TriggerSession(context.Background(), g, "bump", nil))
	is.NoErr(ltbrowser.WaitText(ctx, "#n", "1"))
	got, err = readFields(ctx)
	is.NoErr(err)
	is.Equal(got, fields{Name: "typed early", Agree: true, Note: "a note", Pick: "b"})

	// The server renders new values: they replace the user's.
	is.NoErr(h.TriggerSession(context.Background(), g, "fill", map[string]any{"name": "from server", "note": "server note", "pick": "c"}))
	is.NoErr(ltbrowser.Wait(ctx, "the server's values", `document.querySelector("#name").value === "from server"`, fieldsJS+`.name`))
	got, err = readFields(ctx)
	is.NoErr(err)
	is.Equal(got, fields{Name: "from server", Agree: true, Note: "server note", Pick: "c"})

	// Those are now what the fields hold: later updates keep them.
	is.NoErr(h.TriggerSession(context.Background(), g, "bump", nil))
	is.NoErr(ltbrowser.WaitText(ctx, "#n", "2"))
	got, err = readFields(ctx)
	is.NoErr(err)
	is.Equal(got, fields{Name: "from server", Agree: true, Note: "server note", Pick: "c"})
}

// Enter (or the button) in the chat box of a form with data-lt-reset sends
// the text and empties the box once the update shows; without data-lt-reset
// the text stays, also once the box has lost focus.
func TestResetFormEmptiesAfterSend(t *testing.T) {
	is := is.New(t)
	h, base := formsPage(t, &formsCtrl{}, nil)
	ctx := ltbrowser.New(t)
	is.NoErr(ltbrowser.Do(ctx, chromedp.Navigate(base+"/")))
	is.NoErr(ltbrowser.WaitStatus(ctx, "online"))

	is.NoErr(ltbrowser.Do(ctx, ltbrowser.SendKeys(chromedp.ID("msg"), "hello"+kb.Enter)))
	is.NoErr(ltbrowser.WaitText(ctx, "#log", "hello"))
	is.NoErr(ltbrowser.Wait(ctx, "an empty chat box", `document.querySelector("#msg").value === ""`, `document.querySelector("#msg").value`))
	focused, err := ltbrowser.Eval[string](ctx, `document.activeElement.id`)
	is.NoErr(err)
	is.Equal(focused, "msg") // still there to type the next one
	// Sent with the button: the box has lost focus, and is emptied too.
	is.NoErr(ltbrowser.Do(ctx,
		ltbrowser.SendKeys(chromedp.ID("msg"), "again"),
		chromedp.Click(chromedp.CSS("#chat button")),
	))
	is.NoErr(ltbrowser.WaitText(ctx, "#log", "helloagain"))
	is.NoErr(ltbrowser.Wait(ctx, "an empty chat box", `document.querySelector("#msg").value === ""`, `document.querySelector("#msg").value`))

	is.NoErr(ltbrowser.Do(ctx, ltbrowser.SendKeys(chromedp.ID("draft"), "kept"+kb.Enter)))
	is.NoErr(ltbrowser.WaitText(ctx, "#log", "helloagainkept"))
	got, err := readFields(ctx)
	is.NoErr(err)
	is.Equal(got.Draft, "kept")
	_, err = ltbrowser.Eval[chromedp.Void](ctx, `document.activeElement.blur()`)
	is.NoErr(err)
	is.NoErr(h.TriggerSession(context.Background(), group(t, ctx, base), "bump", nil))
	is.NoErr(ltbrowser.WaitText(ctx, "#n", "1"))
	got, err = readFields(ctx)
	is.NoErr(err)
	is.Equal(got.Draft, "kept")
	is.Equal(got.Msg, "")
}

// A page left by navigation closes its event stream, even if the browser
// keeps it in its back/forward cache: its connection ends on the server.
// Back from the cache, it is live again.
func TestLeftPageClosesItsStream(t *testing.T) {
	is := is.New(t)
	gone := make(chan struct{}, 8)
	h, base := formsPage(t, &formsCtrl{gone: gone}, nil, lt.WithReconnectGrace(100*time.Millisecond))
	ctx := ltbrowser.New(t)
	is.NoErr(ltbrowser.Do(ctx, chromedp.Navigate(base+"/")))
	is.NoErr(ltbrowser.WaitStatus(ctx, "online"))
	_, err := ltbrowser.Eval[chromedp.Void](ctx, `window.__mark = true`)
	is.NoErr(err)
	g := group(t, ctx, base)

	leaveAndComeBack(t, ctx, base, gone)
	is.NoErr(h.TriggerSession(context.Background(), g, "bump", nil))
	is.NoErr(waitInPage(ctx, "the update", `document.querySelector("#n")?.textContent === "1"`))
}

// A leader tab left by navigation hands the shared stream over to the
// other tab at once, though the browser keeps it in its cache; back, it
// follows that tab.
func TestLeftLeaderHandsTheStreamOver(t *testing.T) {
	is := is.New(t)
	gone := make(chan struct{}, 8)
	h, base := formsPage(t, &formsCtrl{gone: gone}, nil, lt.WithReconnectGrace(100*time.Millisecond))
	first := ltbrowser.New(t)
	is.NoErr(ltbrowser.Do(first, chromedp.Navigate(base+"/")))
	is.NoErr(ltbrowser.WaitStatus(first, "online"))
	_, err := ltbrowser.Eval[chromedp.Void](first, `window.__mark = true`)
	is.NoErr(err)
	second := ltbrowser.NewTab(t, first)
	is.NoErr(ltbrowser.Do(second, chromedp.Navigate(base+"/")))
	is.NoErr(ltbrowser.WaitStatus(second, "online"))
	lead, err := ltbrowser.Eval[bool](first, `window.livesse.leader`)
	is.NoErr(err)
	is.True(lead)
	g := group(t, first, base)

	leaveAndComeBack(t, first, base, gone, func() {
		is.NoErr(ltbrowser.Wait(second, "the other tab to lead", `window.livesse.leader`, `window.livesse.leader`))
		is.NoErr(h.TriggerSession(context.Background(), g, "bump", nil))
		is.NoErr(ltbrowser.WaitText(second, "#n", "1"))
	})
	lead, err = ltbrowser.Eval[bool](first, `window.livesse.leader`)
	is.NoErr(err)
	is.True(!lead) // it follows the tab that took over
	is.NoErr(h.TriggerSession(context.Background(), g, "bump", nil))
	is.NoErr(ltbrowser.WaitText(second, "#n", "2"))
	is.NoErr(waitInPage(first, "the update", `document.querySelector("#n")?.textContent === "2"`))
}

// leaveAndComeBack navigates the tab of ctx from the page at base to
// another page of the server, waits until the server has ended the page's
// connection (a report on gone), runs away (while the page is away), and
// goes back to the page, until it is online again.
func leaveAndComeBack(t *testing.T, ctx context.Context, base string, gone chan struct{}, away ...func()) {
	t.Helper()
	is := is.New(t)
	is.Equal(len(gone), 0)
	is.NoErr(ltbrowser.Do(ctx, chromedp.Navigate(base+"/elsewhere")))
	is.NoErr(ltbrowser.WaitText(ctx, "#elsewhere", "elsewhere"))
	select {
	case <-gone:
	case <-time.After(ltbrowser.Timeout):
		t.Fatalf("the connection of the page left did not end within %v", ltbrowser.Timeout)
	}
	for _, f := range away {
		f()
	}
	// Back (chromedp.NavigateBack waits for a load event, which a page
	// restored from the cache does not fire).
	_, err := ltbrowser.Eval[chromedp.Void](ctx, `setTimeout(() => history.back(), 0)`)
	is.NoErr(err)
	is.NoErr(waitInPage(ctx, "the page back online", `document.documentElement.dataset.ltStatus === "online"`))
	cached, err := ltbrowser.Eval[bool](ctx, `window.__mark === true`)
	is.NoErr(err)
	t.Logf("back from the back/forward cache: %v", cached)
}

// waitInPage waits until the JavaScript expression cond is truthy in the
// page of ctx, polling in the page, for at most ltbrowser.Timeout; it
// starts over when the page navigates. (ltbrowser.Wait's polling does not
// see a page restored from the back/forward cache.)
func waitInPage(ctx context.Context, what, cond string) error {
	deadline := time.Now().Add(ltbrowser.Timeout)
	js := `new Promise((done) => { const f = () => (` + cond + `) ? done(true) : setTimeout(f, 5); f(); })`
	for {
		_, err := ltbrowser.Eval[bool](ctx, js)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
	}
}
