package lt_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
)

type evState struct{ N int }

type evCtrl struct{}

func (*evCtrl) Ping(s evState, ctx *lt.Context) (evState, error) {
	return s, ctx.PushEvent("pinged", map[string]int{"n": ctx.GetInt("n")})
}

func (*evCtrl) Bump(s evState, ctx *lt.Context) (evState, error) {
	s.N++
	return s, ctx.PushEvent("bumped", s.N)
}

func (*evCtrl) Save(s evState, ctx *lt.Context) (evState, error) {
	s.N++
	ctx.Flash("success", "Saved <b>")
	return s, nil
}

func (*evCtrl) Reject(s evState, ctx *lt.Context) (evState, error) {
	ctx.Flash("error", "Not saved")
	return s, lt.UserError("no")
}

// Note is a server action that flashes on every tab it runs on.
func (*evCtrl) Note(s evState, ctx *lt.Context) (evState, error) {
	ctx.Flash("info", "from the server")
	return s, nil
}

// Tick is a server action that changes the page and pushes an event.
func (*evCtrl) Tick(s evState, ctx *lt.Context) (evState, error) {
	s.N++
	return s, ctx.PushEvent("tick", map[string]any{"n": s.N})
}

func (*evCtrl) BadEvents(s evState, ctx *lt.Context) (evState, error) {
	var errs []string
	for _, err := range []error{
		ctx.PushEvent("", 1),
		ctx.PushEvent(strings.Repeat("x", 129), 1),
		ctx.PushEvent("bad\xff", 1),
		ctx.PushEvent("chan", make(chan int)),
		ctx.PushEvent("nan", math.NaN()),
		ctx.PushEvent("big", strings.Repeat("x", 40<<10)),
	} {
		if err == nil {
			return s, fmt.Errorf("a bad event was pushed")
		}
		errs = append(errs, err.Error())
	}
	return s, ctx.PushEvent("ok", len(errs))
}

const evHTML = `<!DOCTYPE html><html><head><title>e</title></head><body><p id="n">n={{.N}}</p>` +
	`<div id="flash">{{range ltFlash}}<p class="flash-{{.Kind}}">{{.Message}}</p>{{end}}</div><p>err={{ltError}}</p>` +
	`<form method="post"><button name="save">Save</button></form></body></html>`

func newEvServer(t *testing.T, opts ...lt.Option) (string, *lt.Handler) {
	t.Helper()
	h, err := lt.New(lt.Must(lt.Parse("ev", evHTML)), &evCtrl{}, evState{}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	r.Handle("/ev", h)
	srv := httptest.NewServer(r)
	t.Cleanup(func() {
		srv.Close()
		h.Close()
	})
	return srv.URL + "/ev", h
}

// eventsOf is the "e" field of an update's JSON, "" when it has none.
func eventsOf(t *testing.T, raw []byte) string {
	t.Helper()
	var m struct{ E json.RawMessage }
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("update is not JSON: %v: %s", err, raw)
	}
	return string(m.E)
}

func TestPushEventReachesOnlyTheActingTab(t *testing.T) {
	is := is.New(t)
	u, h := newEvServer(t)
	a := lttest.Open(t, u)
	b := lttest.Open(t, u, lttest.WithJar(a.Jar())) // the same session group

	// An event without a change of the page takes a sequence number of
	// its own, with an empty diff, so that the client applies it.
	seq := a.Seq()
	r := a.Act("ping", url.Values{"n": {"7"}})
	is.Equal(r.Status, http.StatusOK)
	is.Equal(eventsOf(t, r.Raw()), `[["pinged",{"n":7}]]`)
	is.Equal(r.Kind, "d")
	is.Equal(r.Seq, seq+1)
	ev := a.Next() // the same update on the tab's stream
	is.Equal(ev.Seq, seq+1)
	is.Equal(eventsOf(t, ev.Raw()), `[["pinged",{"n":7}]]`)

	r = a.Act("bump", nil)
	is.Equal(eventsOf(t, r.Raw()), `[["bumped",1]]`)
	is.True(strings.Contains(a.HTML(), "n=1"))
	is.Equal(eventsOf(t, a.WaitFor("n=1").Raw()), `[["bumped",1]]`)

	// An action with no event sends none.
	r = a.Act("save", nil)
	is.Equal(eventsOf(t, r.Raw()), "")

	// The other tab never got the acting tab's events: its next event is
	// the server action's, which runs on every tab with its own events.
	is.NoErr(h.TriggerAll(context.Background(), "tick", nil))
	ev = b.Next()
	is.Equal(eventsOf(t, ev.Raw()), `[["tick",{"n":1}]]`)
	is.True(strings.Contains(b.HTML(), "n=1"))
	is.Equal(eventsOf(t, a.WaitFor("n=3").Raw()), `[["tick",{"n":3}]]`)
}

// A server action on many tabs shares its renders and diffs; each tab's
// update still carries its own events.
func TestPushEventFromServerActionsOnManyTabs(t *testing.T) {
	is := is.New(t)
	u, h := newEvServer(t)
	tabs := make([]*lttest.Tab, 5)
	for i := range tabs {
		tabs[i] = lttest.Open(t, u)
	}
	for round := 1; round <= 3; round++ {
		is.NoErr(h.TriggerAll(context.Background(), "tick", nil))
		for _, tab := range tabs {
			ev := tab.WaitFor(fmt.Sprintf("n=%d", round))
			is.Equal(eventsOf(t, ev.Raw()), fmt.Sprintf(`[["tick",{"n":%d}]]`, round))
		}
	}
}

func TestPushEventRefusesBadEvents(t *testing.T) {
	is := is.New(t)
	u, _ := newEvServer(t)
	a := lttest.Open(t, u)
	r := a.Act("bad_events", nil)
	is.Equal(r.Status, http.StatusOK)
	is.Equal(eventsOf(t, r.Raw()), `[["ok",6]]`) // none of the bad ones went out
}

func TestFlashShownOnceOnTheActingTab(t *testing.T) {
	is := is.New(t)
	u, h := newEvServer(t)
	a := lttest.Open(t, u)
	b := lttest.Open(t, u, lttest.WithJar(a.Jar()))

	a.Act("save", nil)
	is.True(strings.Contains(a.HTML(), `<p class="flash-success">Saved &lt;b&gt;</p>`))
	a.Act("ping", nil) // the tab's next render
	is.True(!strings.Contains(a.HTML(), "flash-"))

	r := a.Act("reject", nil)
	is.Equal(r.Status, http.StatusUnprocessableEntity)
	is.True(strings.Contains(a.HTML(), `<p class="flash-error">Not saved</p>`))
	is.True(strings.Contains(a.HTML(), "err=no"))

	// A server action's flash shows on every tab it runs on. The other
	// tab shows no flash of the first one's actions before it.
	is.NoErr(h.TriggerAll(context.Background(), "note", nil))
	ev := b.Next()
	is.True(strings.Contains(ev.HTML, `<div id="flash"><p class="flash-info">from the server</p></div>`))
	a.WaitFor("from the server")
	is.True(!strings.Contains(a.HTML(), "flash-error"))

	// A reload shows none.
	is.True(!strings.Contains(lttest.Get(t, u, lttest.WithJar(a.Jar())).HTML(), "flash-"))
}

// Without JavaScript, the flash travels to the page the POST redirects
// to, once, and only for the session that posted.
func TestFlashSurvivesTheRedirectOfAPlainPost(t *testing.T) {
	is := is.New(t)
	u, _ := newEvServer(t, lt.WithSecret([]byte("0123456789abcdef0123456789abcdef")))
	newClient := func() *http.Client {
		jar, _ := cookiejar.New(nil)
		return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	get := func(c *http.Client, cookies ...*http.Cookie) (string, *http.Response) {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		for _, ck := range cookies {
			req.AddCookie(ck)
		}
		resp, err := c.Do(req)
		is.NoErr(err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b), resp
	}
	client := newClient()
	get(client) // the session cookie
	resp, err := client.PostForm(u, url.Values{"save": {""}})
	is.NoErr(err)
	resp.Body.Close()
	is.Equal(resp.StatusCode, http.StatusSeeOther)
	var flash *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "lt_flash" {
			flash = ck
		}
	}
	is.True(flash != nil)
	is.True(flash.HttpOnly)
	is.Equal(flash.Path, "/")

	// Someone else's browser cannot show it, nor a forged one.
	other := newClient()
	get(other)
	page, _ := get(other, flash)
	is.True(!strings.Contains(page, "flash-"))
	forged := *flash
	forged.Value = strings.Replace(flash.Value, flash.Value[:4], "WyJb", 1)
	page, _ = get(newClient(), &forged)
	is.True(!strings.Contains(page, "flash-"))

	page, resp = get(client)
	is.True(strings.Contains(page, `<p class="flash-success">Saved &lt;b&gt;</p>`))
	is.True(strings.Contains(page, "n=1"))
	cleared := false
	for _, ck := range resp.Cookies() {
		cleared = cleared || (ck.Name == "lt_flash" && ck.MaxAge < 0)
	}
	is.True(cleared)
	page, _ = get(client)
	is.True(!strings.Contains(page, "flash-")) // shown once

	// A failed plain post shows its flash on its 422 page.
	resp, err = client.PostForm(u, url.Values{"reject": {""}})
	is.NoErr(err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	is.Equal(resp.StatusCode, http.StatusUnprocessableEntity)
	is.True(strings.Contains(string(b), `<p class="flash-error">Not saved</p>`))
}

// The flash cookie is for the whole site (a proxy may strip a prefix
// from paths), but only the page that made it shows and clears it.
func TestFlashIsForItsOwnPage(t *testing.T) {
	is := is.New(t)
	secret := lt.WithSecret([]byte("0123456789abcdef0123456789abcdef"))
	r := chi.NewRouter()
	for _, name := range []string{"a", "b"} {
		h, err := lt.New(lt.Must(lt.Parse("ev", evHTML)), &evCtrl{}, evState{}, secret, lt.WithName(name))
		is.NoErr(err)
		t.Cleanup(func() { _ = h.Close() })
		r.Handle("/"+name, h)
	}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	get := func(path string) string {
		resp, err := client.Get(srv.URL + path)
		is.NoErr(err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	get("/a")
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.PostForm(srv.URL+"/a", url.Values{"save": {""}})
	is.NoErr(err)
	resp.Body.Close()
	is.Equal(resp.StatusCode, http.StatusSeeOther)
	is.True(!strings.Contains(get("/b"), `class="flash-`)) // another page: not shown, not cleared
	is.True(strings.Contains(get("/a"), `<p class="flash-success">Saved &lt;b&gt;</p>`))
	is.True(!strings.Contains(get("/a"), `class="flash-`))
}

// instanceOf is one instance of a multi-instance app serving the page
// text with ctrl at /p.
func instanceOf(t *testing.T, b lt.Broadcaster, ctrl any, text string, st any) (string, *lt.Handler) {
	t.Helper()
	h := lt.Must(lt.New(lt.Must(lt.Parse("p", text)), ctrl, st, lt.WithBroadcaster(b), lt.WithSecret(testSecret)))
	r := chi.NewRouter()
	r.Handle("/p", h)
	srv := httptest.NewServer(r)
	t.Cleanup(func() { _ = h.Close(); srv.Close() })
	return srv.URL, h
}

// A POST that another instance forwards keeps its field event (which
// fields the user used) and its events reach the tab on its stream; a
// server action from another instance pushes its events to each tab.
func TestFieldEventsAndPushEventAcrossInstances(t *testing.T) {
	is := is.New(t)
	bus := lt.NewBus()
	a, _ := instanceOf(t, bus.Instance("a"), &formCtrl{}, formHTML, signup{})
	b, _ := instanceOf(t, bus.Instance("b"), &formCtrl{}, formHTML, signup{})
	tab := lttest.Open(t, a+"/p")
	viaB := lttest.Get(t, b+"/p", lttest.WithJar(sameSession(t, tab, a, b)))
	r := viaB.ActAs(tab.Conn(), "check", fieldEvent("email", []string{"email"}, url.Values{"email": {"ann"}, "name": {""}}))
	is.Equal(r.Status, http.StatusAccepted)
	tab.WaitFor(`<span id="email-error">Enter an email address</span>`)
	is.True(!strings.Contains(tab.HTML(), "name-error")) // name was not used

	bus = lt.NewBus() // another app
	ea, _ := instanceOf(t, bus.Instance("a"), &evCtrl{}, evHTML, evState{})
	eb, hb := instanceOf(t, bus.Instance("b"), &evCtrl{}, evHTML, evState{})
	etab := lttest.Open(t, ea+"/p")
	other := lttest.Open(t, eb+"/p")
	viaB = lttest.Get(t, eb+"/p", lttest.WithJar(sameSession(t, etab, ea, eb)))
	is.Equal(viaB.ActAs(etab.Conn(), "bump", nil).Status, http.StatusAccepted)
	is.Equal(eventsOf(t, etab.WaitFor("n=1").Raw()), `[["bumped",1]]`)

	is.NoErr(hb.TriggerAll(context.Background(), "tick", nil))
	is.Equal(eventsOf(t, etab.WaitFor("n=2").Raw()), `[["tick",{"n":2}]]`)
	is.Equal(eventsOf(t, other.Next().Raw()), `[["tick",{"n":1}]]`) // its first event: bump's never came
}
