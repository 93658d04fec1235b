package lt_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
)

// listState is a page whose list and page number live in its URL.
type listState struct {
	List    string // the {list} path parameter
	Page    int    // ?page=
	URL     string // ctx.URL() in Params
	Mounts  int
	Params  int
	Msg     string
	Refused string // why Params could not PushURL
}

type lists struct{}

func (*lists) Mount(s listState, ctx *lt.Context) (listState, error) {
	s.Mounts++
	return s, nil
}

func (*lists) Params(s listState, ctx *lt.Context) (listState, error) {
	s.List = ctx.URLParam("list")
	s.Page, _ = strconv.Atoi(ctx.URL().Query().Get("page"))
	s.URL = ctx.URL().String()
	s.Params++
	if err := ctx.PushURL("?page=0"); errors.Is(err, lt.ErrBadURL) {
		s.Refused = "in params"
	}
	if s.Page < 0 {
		return s, lt.UserError("no such page")
	}
	return s, nil
}

// Note records, for a form posted without JavaScript, what Params had
// set when the action ran.
func (*lists) Note(s listState, ctx *lt.Context) (listState, error) {
	s.Msg = fmt.Sprintf("noted on %s page %d", s.List, s.Page)
	return s, nil
}

// Next pushes the next page: the same path, another query.
func (*lists) Next(s listState, ctx *lt.Context) (listState, error) {
	return s, ctx.PushURL("?page=" + strconv.Itoa(s.Page+1))
}

// Go pushes (or with replace=1 replaces) the URL in "to", recording a
// refusal instead of failing.
func (*lists) Go(s listState, ctx *lt.Context) (listState, error) {
	move := ctx.PushURL
	if ctx.GetBool("replace") {
		move = ctx.ReplaceURL
	}
	if err := move(ctx.GetString("to")); err != nil {
		if !errors.Is(err, lt.ErrBadURL) {
			return s, err
		}
		s.Msg = "refused"
		return s, nil
	}
	s.Msg = "went"
	return s, nil
}

const listsHTML = `<p>list={{.List}} page={{.Page}} url={{.URL}} mounts={{.Mounts}} params={{.Params}} msg={{.Msg}} refused={{.Refused}}</p>`

func newLists(t *testing.T, opts ...lt.Option) *lt.Handler {
	t.Helper()
	h := lt.Must(lt.New(lt.Must(lt.Parse("lists", listsHTML)), &lists{}, listState{}, opts...))
	t.Cleanup(func() { h.Close() })
	return h
}

// plain is a page without Params, at /plain.
func newPlain(t *testing.T) *lt.Handler {
	t.Helper()
	h := lt.Must(lt.New(lt.Must(lt.Parse("plain", `<p>n={{.N}}</p>`)), &ctrl{j: newJournal()}, state{}))
	t.Cleanup(func() { h.Close() })
	return h
}

// routers mounts the lists page at /lists/{list} and a page without
// Params at /plain, under chi, under http.ServeMux, and under a prefix
// that http.StripPrefix removes; prefix is what the browser's paths
// start with.
func routers(t *testing.T) []struct {
	name, prefix string
	srv          *httptest.Server
} {
	chiR := chi.NewRouter()
	chiR.Handle("/lists/{list}", newLists(t))
	chiR.Handle("/plain", newPlain(t))
	mux := http.NewServeMux()
	mux.Handle("/lists/{list}", newLists(t))
	mux.Handle("/plain", newPlain(t))
	inner := http.NewServeMux()
	inner.Handle("/lists/{list}", newLists(t))
	inner.Handle("/plain", newPlain(t))
	outer := http.NewServeMux()
	outer.Handle("/app/", http.StripPrefix("/app", inner))
	out := []struct {
		name, prefix string
		srv          *httptest.Server
	}{
		{"chi", "", httptest.NewServer(chiR)},
		{"ServeMux", "", httptest.NewServer(mux)},
		{"StripPrefix", "/app", httptest.NewServer(outer)},
	}
	for _, r := range out {
		t.Cleanup(r.srv.Close)
	}
	return out
}

// noRedirects is a client with the cookies of jar that returns redirects
// rather than following them.
func noRedirects(jar http.CookieJar) *http.Client {
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// postPlain posts form without JavaScript and returns the status and the
// Location.
func postPlain(t *testing.T, jar http.CookieJar, page string, form url.Values) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(waitCtx(t), http.MethodPost, page, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := noRedirects(jar).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("Location")
}

// Params runs after Mount with the path parameters and the query: on a
// page GET, on a stream that starts a connection (without lt's own _lt
// parameters in its URL), and on a form posted without JavaScript, before
// the action. ctx.URL() is the browser's URL, prefix included.
func TestParamsAtLoad(t *testing.T) {
	for _, r := range routers(t) {
		t.Run(r.name, func(t *testing.T) {
			is := is.New(t)
			page := r.srv.URL + r.prefix + "/lists/7?page=3"
			tab := lttest.Get(t, page)
			is.True(strings.Contains(tab.HTML(), "list=7 page=3 url="+r.prefix+"/lists/7?page=3 mounts=1 params=1 "))
			is.True(strings.Contains(tab.HTML(), "refused=in params")) // PushURL is refused in Params

			fresh := lttest.OpenStream(t, page)
			is.True(strings.Contains(fresh.HTML(), "list=7 page=3 url="+r.prefix+"/lists/7?page=3 mounts=1 params=1 "))

			status, loc := postPlain(t, tab.Jar(), page, url.Values{"note": {""}})
			is.Equal(status, http.StatusSeeOther)
			is.Equal(loc, r.prefix+"/lists/7?page=3")
			after := lttest.Get(t, r.srv.URL+loc, lttest.WithJar(tab.Jar()))
			is.True(strings.Contains(after.HTML(), "msg=noted on 7 page 3")) // Params ran before the action
		})
	}
}

// paramsAnswer is the JSON answer to a _lt_params POST or an action.
type paramsAnswer struct {
	C     string          `json:"c"`
	S     uint64          `json:"s"`
	U     json.RawMessage `json:"u"`
	Error string          `json:"error"`
}

func answer(t *testing.T, r lttest.Response) paramsAnswer {
	t.Helper()
	var a paramsAnswer
	if err := json.Unmarshal([]byte(r.Body), &a); err != nil {
		t.Fatalf("answer %q: %v", r.Body, err)
	}
	return a
}

// A tab that moves (a patch link, Back, Forward) posts _lt_params to its
// new URL: Params runs on its connection with the new query and path
// parameters, without a remount or a new connection, and the answer is
// the update. The state is saved per path: an action on /lists/2 is what
// a reload of /lists/2 shows, not of /lists/1.
func TestParamsPost(t *testing.T) {
	for _, r := range routers(t) {
		t.Run(r.name, func(t *testing.T) {
			is := is.New(t)
			base := r.srv.URL + r.prefix
			tab := lttest.Open(t, base+"/lists/1")
			conn := tab.Conn()

			resp := tab.Patch("?page=2")
			is.Equal(resp.Status, http.StatusOK)
			is.True(resp.Changed)
			is.True(strings.Contains(tab.HTML(), "list=1 page=2 url="+r.prefix+"/lists/1?page=2 mounts=1 params=2 "))

			resp = tab.Patch(base + "/lists/2?page=5")
			is.Equal(resp.Status, http.StatusOK)
			is.True(strings.Contains(tab.HTML(), "list=2 page=5 url="+r.prefix+"/lists/2?page=5 mounts=1 params=3 "))
			is.Equal(tab.Conn(), conn)
			tab.WaitFor("list=2 page=5") // the stream carries it too

			// Params' error is the tab's, as an action's.
			resp = tab.Patch("?page=-1")
			is.Equal(resp.Status, http.StatusUnprocessableEntity)
			is.Equal(answer(t, resp).Error, "no such page")

			tab.Act("note", nil)
			is.True(strings.Contains(lttest.Get(t, base+"/lists/2", lttest.WithJar(tab.Jar())).HTML(), "msg=noted on 2"))
			is.True(!strings.Contains(lttest.Get(t, base+"/lists/1", lttest.WithJar(tab.Jar())).HTML(), "msg=noted"))
		})
	}
}

// A _lt_params POST passes an action's checks: another session's
// connection 403, another site 403; and one that is not this page's (a
// link to another live page, or a page without Params) 410, on which the
// client loads the URL.
func TestParamsPostRefused(t *testing.T) {
	r := routers(t)[0]
	base := r.srv.URL
	tab := lttest.Open(t, base+"/lists/1")
	plain := lttest.Open(t, base+"/plain", lttest.WithJar(tab.Jar()))
	stranger := lttest.Get(t, base+"/lists/1")
	post := func(jar http.CookieJar, page string, form url.Values, hdr http.Header) int {
		req, _ := http.NewRequestWithContext(waitCtx(t), http.MethodPost, page, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		for k, v := range hdr {
			req.Header[k] = v
		}
		resp, err := (&http.Client{Jar: jar}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	params := func(conn string) url.Values { return url.Values{"_lt_conn": {conn}, "_lt_params": {"1"}} }
	for _, c := range []struct {
		name   string
		jar    http.CookieJar
		page   string
		form   url.Values
		header http.Header
		want   int
	}{
		{"another session", stranger.Jar(), base + "/lists/2", params(tab.Conn()), nil, http.StatusForbidden},
		{"another site", tab.Jar(), base + "/lists/2", params(tab.Conn()), http.Header{"Origin": {"https://evil.example"}}, http.StatusForbidden},
		{"another page's connection", tab.Jar(), base + "/plain", params(tab.Conn()), nil, http.StatusGone},
		{"a page without Params", tab.Jar(), base + "/plain?x=1", params(plain.Conn()), nil, http.StatusGone},
		{"unknown connection", tab.Jar(), base + "/lists/2", params("forged"), nil, http.StatusGone},
		{"no connection", tab.Jar(), base + "/lists/2", url.Values{"_lt_params": {"1"}}, nil, http.StatusBadRequest},
		{"with an action", tab.Jar(), base + "/lists/2", url.Values{"_lt_conn": {tab.Conn()}, "_lt_params": {"1"}, "_lt_action": {"next"}}, nil, http.StatusBadRequest},
		{"the lifecycle name as an action", tab.Jar(), base + "/lists/2", url.Values{"_lt_conn": {tab.Conn()}, "_lt_action": {"params"}}, nil, http.StatusBadRequest},
	} {
		t.Run(c.name, func(t *testing.T) {
			is.New(t).Equal(post(c.jar, c.page, c.form, c.header), c.want)
		})
	}
	// None of them moved the tab.
	resp := tab.Act("note", nil)
	is.New(t).True(strings.Contains(resp.HTML, "msg=noted on 1 page 0"))
}

// PushURL and ReplaceURL from an action: the same path sets the tab's URL
// and runs Params before the render, and the update's "u" tells the
// client to push (or replace) it; another path only tells the client to
// navigate ("n"), and its _lt_params POST runs Params there. Bad URLs are
// refused with ErrBadURL and move nothing.
func TestPushURL(t *testing.T) {
	r := routers(t)[2] // under a prefix: relative URLs resolve against the browser's
	is := is.New(t)
	base := r.srv.URL + "/app"
	tab := lttest.Open(t, base+"/lists/1?page=1")

	resp := tab.Act("next", nil)
	is.Equal(resp.Status, http.StatusOK)
	is.Equal(resp.URL, &lttest.URLChange{Path: "/app/lists/1?page=2"})
	is.Equal(string(answer(t, resp).U), `{"p":"/app/lists/1?page=2"}`)
	is.True(strings.Contains(resp.HTML, "list=1 page=2 url=/app/lists/1?page=2 mounts=1 params=2 "))
	is.Equal(tab.URL(), base+"/lists/1?page=2")

	resp = tab.Act("go", url.Values{"to": {"?page=7"}, "replace": {"1"}})
	is.Equal(string(answer(t, resp).U), `{"p":"/app/lists/1?page=7","r":true}`)
	is.True(strings.Contains(resp.HTML, "page=7 url=/app/lists/1?page=7 mounts=1 params=3 msg=went"))

	resp = tab.Act("go", url.Values{"to": {"../lists/2?page=1"}})
	is.Equal(string(answer(t, resp).U), `{"p":"/app/lists/2?page=1","n":true}`)
	is.True(strings.Contains(resp.HTML, "list=1 page=7 url=/app/lists/1?page=7 mounts=1 params=3 msg=went")) // not yet
	resp = tab.Patch(resp.URL.Path)
	is.Equal(resp.Status, http.StatusOK)
	is.True(strings.Contains(resp.HTML, "list=2 page=1 url=/app/lists/2?page=1 mounts=1 params=4 "))

	for _, bad := range []string{
		"", "https://evil.example/", "//evil.example/x", "/\\evil.example", "\\\\evil.example", "javascript:alert(1)",
		"/a#frag", "/a b", "/a\nb", "?_lt_conn=x", "?page=%zz", "/.//evil.example", strings.Repeat("a", 9000),
	} {
		t.Run(fmt.Sprintf("%.20q", bad), func(t *testing.T) {
			is := is.New(t)
			resp := tab.Act("go", url.Values{"to": {bad}})
			is.Equal(resp.Status, http.StatusOK)
			is.True(resp.URL == nil)
			is.True(strings.Contains(resp.HTML, "list=2 page=1 url=/app/lists/2?page=1 mounts=1 params=4 msg=refused"))
		})
	}
}

// Without JavaScript, an action that pushed a URL answers 303 to it
// rather than to its own page; the GET there renders its state through
// Mount and Params. A refused URL redirects to the page itself.
func TestPushURLWithoutJavaScript(t *testing.T) {
	for _, r := range routers(t) {
		t.Run(r.name, func(t *testing.T) {
			is := is.New(t)
			page := r.srv.URL + r.prefix + "/lists/1?page=1"
			tab := lttest.Get(t, page)
			for _, c := range []struct{ to, want string }{
				{"?page=4", r.prefix + "/lists/1?page=4"},
				{"/elsewhere/x?y=1", "/elsewhere/x?y=1"},
				{"2?page=9", r.prefix + "/lists/2?page=9"},
				{"//evil.example/", r.prefix + "/lists/1?page=1"},
			} {
				status, loc := postPlain(t, tab.Jar(), page, url.Values{"go": {""}, "to": {c.to}})
				is.Equal(status, http.StatusSeeOther)
				is.Equal(loc, c.want)
			}
			status, loc := postPlain(t, tab.Jar(), page, url.Values{"next": {""}})
			is.Equal(status, http.StatusSeeOther)
			is.Equal(loc, r.prefix+"/lists/1?page=2")
			next := lttest.Get(t, r.srv.URL+loc, lttest.WithJar(tab.Jar()))
			is.True(strings.Contains(next.HTML(), "list=1 page=2 url="+r.prefix+"/lists/1?page=2 "))
		})
	}
}

// A server action's PushURL runs on each tab with that tab's own URL.
func TestPushURLFromServerAction(t *testing.T) {
	is := is.New(t)
	h := newLists(t)
	mux := http.NewServeMux()
	mux.Handle("/lists/{list}", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	a := lttest.Open(t, srv.URL+"/lists/1?page=1")
	b := lttest.Open(t, srv.URL+"/lists/2?page=5", lttest.WithJar(a.Jar()))
	group := lt.AnonymousIdentity(cookie(t, a, srv.URL)).SessionID
	is.NoErr(h.TriggerSession(context.Background(), group, "next", nil))
	ev := a.WaitFor("list=1 page=2 ")
	is.Equal(ev.URL, &lttest.URLChange{Path: "/lists/1?page=2"})
	ev = b.WaitFor("list=2 page=6 ")
	is.Equal(ev.URL, &lttest.URLChange{Path: "/lists/2?page=6"})
	is.Equal(b.URL(), srv.URL+"/lists/2?page=6")
}

// A _lt_params POST that reaches an instance which does not hold the
// tab's connection is forwarded to the one that does, with the path
// parameters this instance's router matched; another session's is
// dropped there.
func TestParamsPostForwarded(t *testing.T) {
	is := is.New(t)
	bus := lt.NewBus()
	serve := func(id string) string {
		h := newLists(t, lt.WithBroadcaster(bus.Instance(id)), lt.WithSecret(testSecret))
		r := chi.NewRouter()
		r.Handle("/lists/{list}", h)
		srv := httptest.NewServer(r)
		t.Cleanup(srv.Close)
		return srv.URL
	}
	a, b := serve("a"), serve("b")
	tab := lttest.Open(t, a+"/lists/1")
	jar := sameSession(t, tab, a, b)

	stranger := lttest.Get(t, b+"/lists/1")
	forged := lttest.Get(t, b+"/lists/1", lttest.WithJar(stranger.Jar()))
	is.Equal(postForm(t, forged.Jar(), b+"/lists/3?page=3", url.Values{"_lt_conn": {tab.Conn()}, "_lt_params": {"1"}}), http.StatusAccepted)

	is.Equal(postForm(t, jar, b+"/lists/2?page=4", url.Values{"_lt_conn": {tab.Conn()}, "_lt_params": {"1"}}), http.StatusAccepted)
	ev := tab.WaitFor("list=2 page=4 url=/lists/2?page=4 mounts=1 params=2 ")
	is.True(!strings.Contains(ev.HTML, "list=3")) // the stranger's, before it, moved nothing
}

// A full render carries the tab's URL ("u" with "r") once the server moved
// it (PushURL, ReplaceURL), so that a tab that missed the update's u, and
// gets a render instead, replaces its URL; once the tab moved itself
// (_lt_params) it has its URL, and renders carry none.
func TestRenderCarriesMovedURL(t *testing.T) {
	is := is.New(t)
	mux := http.NewServeMux()
	mux.Handle("/lists/{list}", newLists(t))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	tab := lttest.Open(t, srv.URL+"/lists/1?page=1")
	u := func() string {
		t.Helper()
		typ, data := firstEvent(t, tab, srv.URL+"/lists/1")
		is.Equal(typ, "render")
		var m struct{ U json.RawMessage }
		is.NoErr(json.Unmarshal(data, &m))
		return string(m.U)
	}
	is.Equal(u(), "") // loaded there

	is.Equal(tab.Act("next", nil).Status, http.StatusOK)
	is.Equal(u(), `{"p":"/lists/1?page=2","r":true}`)
	is.Equal(tab.Act("go", url.Values{"to": {"../lists/2"}}).Status, http.StatusOK)
	is.Equal(u(), `{"p":"/lists/1?page=2","r":true}`) // another path: not moved until the tab posts there

	is.Equal(tab.Patch("/lists/2?page=9").Status, http.StatusOK)
	is.Equal(u(), "")
}

// A _lt_params POST naming a connection of another page (another Handler)
// that another instance holds gets 410 at once, so that the tab loads the
// URL: forwarded, the instance holding it would not find it on that page,
// and the 202's update would never come.
func TestParamsPostForAnotherPagesConnection(t *testing.T) {
	is := is.New(t)
	bus := lt.NewBus()
	serve := func(id string) string {
		r := chi.NewRouter()
		r.Handle("/lists/{list}", newLists(t, lt.WithBroadcaster(bus.Instance(id)), lt.WithSecret(testSecret)))
		r.Handle("/others/{list}", newLists(t, lt.WithBroadcaster(bus.Instance(id)), lt.WithSecret(testSecret), lt.WithName("others")))
		srv := httptest.NewServer(r)
		t.Cleanup(srv.Close)
		return srv.URL
	}
	a, b := serve("a"), serve("b")
	tab := lttest.Open(t, a+"/lists/1")
	jar := sameSession(t, tab, a, b)
	is.Equal(postForm(t, jar, b+"/others/2", url.Values{"_lt_conn": {tab.Conn()}, "_lt_params": {"1"}}), http.StatusGone)
	is.Equal(postForm(t, jar, b+"/lists/2", url.Values{"_lt_conn": {tab.Conn()}, "_lt_params": {"1"}}), http.StatusAccepted)
	tab.WaitFor("list=2 page=0 url=/lists/2 ")
}

// The 410 that tells a tab the URL it moved to is another page's is the
// client's usual way to learn it, not a refusal for an operator: it is
// logged at Debug. An unknown connection named in an action stays Info.
func TestParamsGoneIsLoggedAtDebug(t *testing.T) {
	is := is.New(t)
	var logs syncBuffer
	r := chi.NewRouter()
	r.Handle("/lists/{list}", newLists(t, lt.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))))
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	tab := lttest.Open(t, srv.URL+"/lists/1")
	is.Equal(postForm(t, tab.Jar(), srv.URL+"/lists/2", url.Values{"_lt_conn": {"forged"}, "_lt_params": {"1"}}), http.StatusGone)
	line := logLine(t, &logs, "lt: request refused")
	is.True(strings.Contains(line, "level=DEBUG"))
	is.True(strings.Contains(line, "status=410"))
}
