package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/ltbrowser"
	"github.com/matryer/is"
)

type eventsState struct {
	Target, Used, Seen, Key string
	N                       int
	Log                     []int
}

type eventsCtrl struct{}

// Check reports what the field's event carried.
func (*eventsCtrl) Check(s eventsState, ctx *lt.Context) (eventsState, error) {
	s.Target, s.Seen = ctx.Target(), ctx.GetString("name")
	s.Used = fmt.Sprint(ctx.Used("name"), ctx.Used("email"))
	return s, nil
}

func (*eventsCtrl) Save(s eventsState, ctx *lt.Context) (eventsState, error) {
	s.Key = "save:" + ctx.GetString("k")
	return s, nil
}

func (*eventsCtrl) Cancel(s eventsState, _ *lt.Context) (eventsState, error) {
	s.Key = "cancel"
	return s, nil
}

// Tick is a server action: it grows the list and pushes an event.
func (*eventsCtrl) Tick(s eventsState, ctx *lt.Context) (eventsState, error) {
	s.N++
	s.Log = append(s.Log, s.N)
	return s, ctx.PushEvent("tick", s.N)
}

// The page has an inline script, which the CSP blocks: the one violation
// the test expects, proving that violations are seen.
const eventsHTML = `<!DOCTYPE html><html><head><title>events</title><link rel="stylesheet" href="/events.css"></head><body>` +
	`<form id="f" method="post" data-lt-input="check" data-lt-debounce="50">` +
	`<input id="name" name="name" autocomplete="off"><input id="email" name="email" autocomplete="off">` +
	`<input id="k" name="k" autocomplete="off" data-lt-input="" data-lt-keydown="Enter:save Escape:cancel"></form>` +
	`<p id="target">{{.Target}}</p><p id="used">{{.Used}}</p><p id="seen">{{.Seen}}</p><p id="key">{{.Key}}</p>` +
	`<p id="n">{{.N}}</p><div id="ignored" data-lt-ignore>{{.N}}</div><div id="hooked" data-lt-hook="probe"></div>` +
	`<ul id="log" data-lt-stick>{{range .Log}}<li>{{.}}</li>{{end}}</ul>` +
	`<script>window.__inline = true</script><script src="/hook.js" defer></script>` +
	`</body></html>`

// hookJS is the page's own script: a hook, and a listener of the server's
// events.
const hookJS = `window.__ticks = []; window.__hook = [];
document.addEventListener("tick", (e) => __ticks.push(e.detail));
livesse.hook("probe", {
	mounted() { __hook.push("mounted " + this.el.id); },
	onEvent(name, detail) { __hook.push(name + " " + detail); },
});`

// Field events (debounced input with _lt_target and _lt_used, keys),
// server-pushed events, hooks, livesse.action, an ignored subtree and a
// list stuck to its bottom, on a page served with a strict
// Content-Security-Policy (no inline scripts, no eval): the client works
// and violates nothing.
func TestEventsUnderStrictCSP(t *testing.T) {
	is := is.New(t)
	h := lt.Must(lt.New(lt.Must(lt.Parse("events", eventsHTML)), &eventsCtrl{}, eventsState{}))
	mux := http.NewServeMux()
	mux.HandleFunc("/hook.js", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, hookJS)
	})
	mux.HandleFunc("/events.css", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/css")
		fmt.Fprint(w, "#log { height: 40px; overflow: auto; margin: 0 } #log li { height: 20px }")
	})
	mux.Handle("/{$}", h)
	csp := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'")
		mux.ServeHTTP(w, r)
	})
	base := ltbrowser.Serve(t, csp, h).URL
	ctx := ltbrowser.New(t)
	// Recorded from the start of every document, outside the page's CSP.
	is.NoErr(ltbrowser.BeforeScripts(ctx, `window.__csp = [];
		document.addEventListener("securitypolicyviolation", (e) => __csp.push(e.violatedDirective + " " + e.blockedURI));`))
	is.NoErr(ltbrowser.Do(ctx, chromedp.Navigate(base+"/")))
	is.NoErr(ltbrowser.WaitStatus(ctx, "online"))
	is.NoErr(ltbrowser.Wait(ctx, "the hook mounted", `window.__hook && __hook[0] === "mounted hooked"`, `JSON.stringify(window.__hook)`))

	// Typing: one debounced POST with what was typed, the field, and the
	// fields used.
	is.NoErr(ltbrowser.Do(ctx, ltbrowser.SendKeys("#name", "bob")))
	is.NoErr(ltbrowser.WaitText(ctx, "#seen", "bob"))
	is.NoErr(ltbrowser.WaitText(ctx, "#target", "name"))
	is.NoErr(ltbrowser.WaitText(ctx, "#used", "true false"))

	// Keys: Enter and Escape send their actions, and Enter does not submit
	// the form.
	is.NoErr(ltbrowser.Do(ctx, ltbrowser.SendKeys("#k", "x"+kb.Enter)))
	is.NoErr(ltbrowser.WaitText(ctx, "#key", "save:x"))
	is.NoErr(ltbrowser.Do(ctx, ltbrowser.SendKeys("#k", kb.Escape)))
	is.NoErr(ltbrowser.WaitText(ctx, "#key", "cancel"))

	// Server actions: the page follows, but for the ignored subtree; the
	// pushed events reach the document and the hook; the list stays at its
	// bottom as it grows past its height.
	g := group(t, ctx, base)
	for range 4 {
		is.NoErr(h.TriggerSession(context.Background(), g, "tick", nil))
	}
	is.NoErr(ltbrowser.WaitText(ctx, "#n", "4"))
	is.NoErr(ltbrowser.Wait(ctx, "the pushed events", `__ticks.join() === "1,2,3,4"`, `__ticks.join()`))
	hook, err := ltbrowser.Eval[[]string](ctx, `__hook`)
	is.NoErr(err)
	is.Equal(hook, []string{"mounted hooked", "tick 1", "tick 2", "tick 3", "tick 4"})
	ignored, err := ltbrowser.Text(ctx, "#ignored")
	is.NoErr(err)
	is.Equal(ignored, "0")
	atBottom, err := ltbrowser.Eval[bool](ctx, `(l => l.scrollTop > 0 && l.scrollHeight - l.scrollTop - l.clientHeight < 2)(document.querySelector("#log"))`)
	is.NoErr(err)
	is.True(atBottom)

	// A script runs an action with data.
	s, err := ltbrowser.Eval[int](ctx, `livesse.action("save", {k: "api"}).then((m) => m.s)`)
	is.NoErr(err)
	is.True(s > 0)
	is.NoErr(ltbrowser.WaitText(ctx, "#key", "save:api"))

	// The only violation is the page's inline script.
	violations, err := ltbrowser.Eval[[]string](ctx, `__csp`)
	is.NoErr(err)
	is.Equal(len(violations), 1)
	is.True(strings.HasPrefix(violations[0], "script-src"))
	is.True(strings.HasSuffix(violations[0], "inline"))
	inline, err := ltbrowser.Eval[bool](ctx, `window.__inline === true`)
	is.NoErr(err)
	is.True(!inline)
}
