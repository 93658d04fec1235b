package attack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/go-chi/chi/v5"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/ltbrowser"
	"github.com/matryer/is"
)

// postLog records the POSTs an app answered: their status and the
// headers the browser sent.
type postLog struct {
	mu  sync.Mutex
	all []postSeen
	ch  chan postSeen
}

type postSeen struct {
	Status       int
	Origin, Site string
	Body         string
}

func (p *postLog) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		s := postSeen{Status: rec.status, Origin: r.Header.Get("Origin"), Site: r.Header.Get("Sec-Fetch-Site"), Body: rec.body.String()}
		p.mu.Lock()
		p.all = append(p.all, s)
		p.mu.Unlock()
		p.ch <- s
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

// Unwrap lets lt reach the connection beneath (to flush and take it over).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body.Write(p)
	return r.ResponseWriter.Write(p)
}

// The counter page the browser tests use.
const clickPage = `<!doctype html><html><head><title>count</title></head><body>
<p id="n">n={{.N}}</p><p id="err">{{ltError}}</p>
<form method="post"><button name="bump" id="bump">+</button></form>
</body></html>`

// A page on another origin (another port of 127.0.0.1: same site, other
// origin) makes the victim's real browser POST to the app, with its
// cookies: an auto-submitted form, and a fetch with credentials naming
// the victim tab's connection. Both get 403 and change nothing.
func TestCrossSitePostFromBrowserRefused(t *testing.T) {
	is := is.New(t)
	g := newGauge()
	log := newLogBook()
	h, err := lt.New(lt.Must(lt.Parse("count", clickPage)), &countCtrl{g: g}, countState{}, lt.WithLogger(log.logger()))
	is.NoErr(err)
	posts := &postLog{ch: make(chan postSeen, 16)}
	r := chi.NewRouter()
	r.Handle("/", posts.wrap(h)) // the page alone: a /favicon.ico is not a page
	srv := ltbrowser.Serve(t, r, h)

	// The attacker's site: its pages attack srv.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		conn, _ := json.Marshal(r.URL.Query().Get("conn"))
		switch r.URL.Path {
		case "/form":
			fmt.Fprintf(w, `<!doctype html><form id="f" method="post" action="%s/"><input name="bump"><input name="_lt_conn" value=%s></form><script>document.getElementById("f").submit()</script>`, srv.URL, conn)
		case "/fetch":
			fmt.Fprintf(w, `<!doctype html><p id="done">no</p><script>
fetch(%q, {method: "POST", credentials: "include", mode: "no-cors", body: new URLSearchParams({_lt_action: "bump", _lt_conn: %s})})
  .then(() => { document.getElementById("done").textContent = "yes"; }, () => { document.getElementById("done").textContent = "yes"; });
</script>`, srv.URL+"/", conn)
		}
	}))
	t.Cleanup(evil.Close)

	ctx := ltbrowser.New(t)
	is.NoErr(ltbrowser.Do(ctx, chromedp.Navigate(srv.URL+"/")))
	is.NoErr(ltbrowser.WaitStatus(ctx, "online"))
	is.NoErr(ltbrowser.WaitText(ctx, "#n", "n=0"))
	conn, err := ltbrowser.Eval[string](ctx, `window.livesse.conn`)
	is.NoErr(err)
	group := lt.AnonymousIdentity(mustCookie(t, ctx, srv.URL)).SessionID

	attacker := ltbrowser.NewTab(t, ctx) // the same browser, so the same cookies
	const refused = "lt: cross-site request refused: origin: cross-site request refused: cross-origin request detected from Sec-Fetch-Site header"
	for _, path := range []string{"/form", "/fetch"} {
		is.NoErr(ltbrowser.Do(attacker, chromedp.Navigate(evil.URL+path+"?conn="+conn)))
		var p postSeen
		select {
		case p = <-posts.ch:
		case <-t.Context().Done():
			t.Fatalf("%s: the browser never posted", path)
		}
		is.Equal(p.Status, http.StatusForbidden)
		is.Equal(p.Site, "same-site") // another origin of the same site
		is.Equal(p.Origin, evil.URL)
		is.Equal(p.Body, refused+"\n")
	}
	// The form's navigation landed on the refusal.
	is.NoErr(ltbrowser.Do(attacker, chromedp.Navigate(evil.URL+"/form?conn="+conn)))
	is.NoErr(ltbrowser.Wait(attacker, "the refusal", `document.body && document.body.textContent.includes("cross-site request refused")`, `document.body.textContent`))
	is.Equal((<-posts.ch).Status, http.StatusForbidden)

	// Nothing changed: the victim's tab and its session's state are as
	// they were, and the victim's own click still works.
	is.Equal(g.mountsOf(group), 1)
	text, err := ltbrowser.Text(ctx, "#n")
	is.NoErr(err)
	is.Equal(text, "n=0")
	is.NoErr(ltbrowser.Do(ctx, chromedp.Click(chromedp.ID("bump"))))
	is.NoErr(ltbrowser.WaitText(ctx, "#n", "n=1"))
	is.Equal((<-posts.ch).Status, http.StatusOK)
}

func mustCookie(t *testing.T, ctx context.Context, u string) string {
	t.Helper()
	v, err := ltbrowser.Cookie(ctx, u, "lt_session")
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// In Chromium, hostile values in every template context, set through
// the page's own form and applied as live updates by the real client,
// then in a reloaded page, never run script: no dialog opens, no element
// gains an event handler attribute, no script element appears, and the
// text reads as the value.
func TestHostileValuesInBrowser(t *testing.T) {
	is := is.New(t)
	srv, _ := xssApp(t)
	ctx := ltbrowser.New(t)
	var dialogs atomic.Int32
	is.NoErr(chromedp.Listen(ctx, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			dialogs.Add(1)
			go func() { // dismiss it, so that the page goes on and the test can fail
				_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
			}()
		}
	}))
	is.NoErr(ltbrowser.Do(ctx, chromedp.Navigate(srv.URL+"/")))
	is.NoErr(ltbrowser.WaitStatus(ctx, "online"))
	scripts, err := ltbrowser.Eval[int](ctx, `document.scripts.length`)
	is.NoErr(err)

	const handlers = `document.querySelectorAll("[onerror],[onmouseover],[onload],[onclick]").length`
	for _, v := range hostile {
		js, _ := json.Marshal(v)
		is.NoErr(ltbrowser.Do(ctx, ltbrowser.FillAndClick("#set", map[string]string{"#v": v})))
		is.NoErr(ltbrowser.Wait(ctx, "the value as text", `document.querySelector("#t").textContent === `+string(js), `document.querySelector("#t").textContent`))
		is.NoErr(ltbrowser.Do(ctx, ltbrowser.FillAndClick("#fail", map[string]string{"#v": v})))
		is.NoErr(ltbrowser.Wait(ctx, "the error as text", `document.querySelector("#e").textContent === `+string(js), `document.querySelector("#e").textContent`))
		n, err := ltbrowser.Eval[int](ctx, handlers)
		is.NoErr(err)
		is.Equal(n, 0)
		title, err := ltbrowser.Eval[string](ctx, `document.querySelector("#a").title`)
		is.NoErr(err)
		is.Equal(title, v)
		n, err = ltbrowser.Eval[int](ctx, `document.scripts.length`)
		is.NoErr(err)
		is.Equal(n, scripts)
		href, err := ltbrowser.Eval[string](ctx, `document.querySelector("#u").getAttribute("href")`)
		is.NoErr(err)
		is.True(!strings.HasPrefix(strings.ToLower(strings.TrimSpace(href)), "javascript:"))

		// The same state rendered as a whole page: the script sees the
		// value as a string.
		is.NoErr(ltbrowser.Do(ctx, chromedp.Reload()))
		is.NoErr(ltbrowser.WaitStatus(ctx, "online"))
		got, err := ltbrowser.Eval[string](ctx, `window.ltV`)
		is.NoErr(err)
		is.Equal(got, v)
		n, err = ltbrowser.Eval[int](ctx, handlers)
		is.NoErr(err)
		is.Equal(n, 0)
		is.Equal(dialogs.Load(), int32(0))
	}
	is.Equal(dialogs.Load(), int32(0))

	// A dialog would have been seen: the listener works.
	_, err = ltbrowser.Eval[chromedp.Void](ctx, `setTimeout(() => alert("control"), 0)`)
	is.NoErr(err)
	waitUntil(t, "the control dialog", func() bool { return dialogs.Load() == 1 })
}

// A page of another origin of the same site (another port, another
// subdomain) makes the victim's real browser open event streams with the
// victim's session cookie (EventSource with credentials, which
// SameSite=Lax lets through). Each is refused (403) before it makes a
// connection in the victim's session: no Mount runs for it, and nothing
// counts against, or evicts, the victim's own connections.
func TestCrossOriginStreamsRefusedInBrowser(t *testing.T) {
	is := is.New(t)
	g := newGauge()
	log := newLogBook()
	h, err := lt.New(lt.Must(lt.Parse("count", clickPage)), &countCtrl{g: g}, countState{}, lt.WithLogger(log.logger()))
	is.NoErr(err)
	// Streams requested by another origin, once lt has answered them.
	foreign := make(chan int, 64)
	r := chi.NewRouter()
	r.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		if r.Header.Get("Accept") == "text/event-stream" && r.Header.Get("Origin") != "" {
			foreign <- rec.status
		}
	}))
	srv := ltbrowser.Serve(t, r, h)
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><script>for (let i = 0; i < 10; i++) new EventSource(%q, {withCredentials: true});</script>`, srv.URL+"/")
	}))
	t.Cleanup(evil.Close)

	ctx := ltbrowser.New(t)
	is.NoErr(ltbrowser.Do(ctx, chromedp.Navigate(srv.URL+"/")))
	is.NoErr(ltbrowser.WaitStatus(ctx, "online"))
	group := lt.AnonymousIdentity(mustCookie(t, ctx, srv.URL)).SessionID
	is.Equal(g.mountsOf(group), 1)

	attacker := ltbrowser.NewTab(t, ctx)
	is.NoErr(ltbrowser.Do(attacker, chromedp.Navigate(evil.URL+"/")))
	for range 10 {
		select {
		case status := <-foreign:
			is.Equal(status, http.StatusForbidden)
		case <-t.Context().Done():
			t.Fatal("the attacker's streams never reached the app")
		}
	}
	is.Equal(g.mountsOf(group), 1) // no Mount ran for the attacker's streams
	is.Equal(len(log.find(func(r record) bool { return r.Msg == "lt: request refused" && r.Attrs["status"] == "403" })), 10)
	// The victim's page is still live.
	is.NoErr(ltbrowser.Do(ctx, chromedp.Click(chromedp.ID("bump"))))
	is.NoErr(ltbrowser.WaitText(ctx, "#n", "n=1"))
}
