package attack

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
)

// A page whose controller has an action meant for the server alone
// (ServerOnly, guarded with FromClient) next to client actions, and an
// Echo action that reports what it sees of its request.
type fwdState struct {
	N    int
	Note string
}

const fwdPage = `<body><p id="n">n={{.N}}</p><p id="note">note={{.Note}}</p><p id="err">err={{ltError}}</p></body>`

// call is what a controller method saw: FromClient and the request.
type call struct {
	Method     string
	Action     string
	FromClient bool
	HasRequest bool
	Req        reqView
}

// reqView is what an app can read of ctx.Request().
type reqView struct {
	Method, RequestURI, Host, RemoteAddr string
	TLS                                  bool
	Header                               http.Header
	PostForm                             url.Values
	Form                                 url.Values
	URLParam                             string
	Pattern                              string // chi's route pattern
}

func viewOf(r *http.Request) reqView {
	v := reqView{Method: r.Method, RequestURI: r.URL.RequestURI(), Host: r.Host, RemoteAddr: r.RemoteAddr, TLS: r.TLS != nil,
		Header: r.Header.Clone(), URLParam: chi.URLParam(r, "board")}
	if rc := chi.RouteContext(r.Context()); rc != nil {
		v.Pattern = rc.RoutePattern()
	}
	if r.PostForm != nil {
		v.PostForm = maps.Clone(r.PostForm)
	}
	if r.Form != nil {
		v.Form = maps.Clone(r.Form)
	}
	return v
}

// calls records the calls of every controller copy of one instance.
type calls struct {
	mu   sync.Mutex
	list []call
	ch   chan call
}

func newCalls() *calls { return &calls{ch: make(chan call, 1024)} }

func (c *calls) add(method string, ctx *lt.Context) {
	k := call{Method: method, Action: ctx.Action(), FromClient: ctx.FromClient(), HasRequest: ctx.Request() != nil}
	if r := ctx.Request(); r != nil {
		k.Req = viewOf(r)
	}
	c.mu.Lock()
	c.list = append(c.list, k)
	c.mu.Unlock()
	select {
	case c.ch <- k:
	default:
	}
}

func (c *calls) snapshot() []call {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.list)
}

// next waits for the next call of method.
func (c *calls) next(t testing.TB, method string) call {
	t.Helper()
	return c.nextWhere(t, method, func(call) bool { return true })
}

// nextWhere waits for the next call of method that match accepts.
func (c *calls) nextWhere(t testing.TB, method string, match func(call) bool) call {
	t.Helper()
	for {
		select {
		case k := <-c.ch:
			if k.Method == method && match(k) {
				return k
			}
		case <-t.Context().Done():
			t.Fatalf("test ended waiting for a call of %s", method)
		}
	}
}

type fwdCtrl struct{ calls *calls }

func (c *fwdCtrl) Mount(s fwdState, ctx *lt.Context) (fwdState, error) {
	c.calls.add("Mount", ctx)
	return s, nil
}

func (c *fwdCtrl) OnConnect(s fwdState, ctx *lt.Context) (fwdState, error) {
	c.calls.add("OnConnect", ctx)
	return s, nil
}

func (c *fwdCtrl) Sync(s fwdState, ctx *lt.Context) (fwdState, error) {
	c.calls.add("Sync", ctx)
	return s, nil
}

// ServerOnly is for timers and webhooks: a browser must not run it.
func (c *fwdCtrl) ServerOnly(s fwdState, ctx *lt.Context) (fwdState, error) {
	c.calls.add("ServerOnly", ctx)
	if ctx.FromClient() {
		return s, lt.UserError("server only")
	}
	s.N++
	return s, nil
}

// Bump is an ordinary client action.
func (c *fwdCtrl) Bump(s fwdState, ctx *lt.Context) (fwdState, error) {
	c.calls.add("Bump", ctx)
	s.N++
	s.Note = ctx.GetString("note")
	return s, nil
}

// Echo reports its request (calls) and shows the note.
func (c *fwdCtrl) Echo(s fwdState, ctx *lt.Context) (fwdState, error) {
	c.calls.add("Echo", ctx)
	s.Note = ctx.GetString("note")
	return s, nil
}

// fwdInstance is one process of the app: a Handler on a router whose
// middleware records every POST as it arrives (seen), before lt reads it.
type fwdInstance struct {
	URL   string
	H     *lt.Handler
	calls *calls
	log   *logBook
	seen  chan reqView
}

func newFwdInstance(t *testing.T, b lt.Broadcaster, opts ...lt.Option) *fwdInstance {
	t.Helper()
	in := &fwdInstance{calls: newCalls(), log: newLogBook(), seen: make(chan reqView, 64)}
	opts = append([]lt.Option{lt.WithBroadcaster(b), lt.WithSecret(secret), lt.WithLogger(in.log.logger()), lt.WithName("board")}, opts...)
	h, err := lt.New(lt.Must(lt.Parse("board", fwdPage)), &fwdCtrl{calls: in.calls}, fwdState{}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	r.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost {
				select {
				case in.seen <- viewOf(r):
				default:
				}
			}
			next.ServeHTTP(w, r)
		})
	})
	r.Handle("/boards/{board}", h)
	srv := httptest.NewServer(r)
	t.Cleanup(func() { _ = h.Close(); srv.Close() })
	in.URL, in.H = srv.URL, h
	return in
}

// seenWith returns what the middleware saw of the POST with the given
// X-Probe header.
func (in *fwdInstance) seenWith(t *testing.T, probe string) reqView {
	t.Helper()
	for {
		select {
		case v := <-in.seen:
			if v.Header.Get("X-Probe") == probe {
				return v
			}
		case <-t.Context().Done():
			t.Fatalf("no POST with X-Probe %q reached %s", probe, in.URL)
		}
	}
}

// A POST for a tab whose connection another instance holds is forwarded
// there and runs as that client's action: a server-only action is refused
// exactly as on the owner, the action sees the same request, and a
// stranger cannot use the forwarding to act on someone else's tab.
func TestForwardedPostIsAClientAction(t *testing.T) {
	bus := lt.NewBus()
	a, b := newFwdInstance(t, bus.Instance("a")), newFwdInstance(t, bus.Instance("b"))
	testForwarding(t, a, b)
}

func testForwarding(t *testing.T, a, b *fwdInstance) {
	is := is.New(t)
	const page = "/boards/42"
	tab := lttest.Open(t, a.URL+page)
	is.True(strings.HasPrefix(tab.Conn(), "a.")) // held by instance a
	jar := tab.Jar()
	shareSession(jar, a.URL, b.URL)
	group := lt.AnonymousIdentity(cookieOf(t, jar, a.URL)).SessionID

	// On the owner, the browser's POST of the server-only action is
	// refused: 422, the user's message, nothing applied.
	r := tab.Act("server_only", nil)
	is.Equal(r.Status, http.StatusUnprocessableEntity)
	is.Equal(r.Error, "server only")
	is.True(strings.Contains(r.HTML, "n=0"))
	is.True(strings.Contains(r.HTML, "err=server only"))
	r = tab.Act("echo", url.Values{"note": {"clear"}})
	is.Equal(r.Status, http.StatusOK)
	is.True(strings.Contains(r.HTML, "err=</p>"))

	// Through instance b: 202, forwarded; on a it is refused the same way
	// and the tab shows the error on its stream.
	fr := postAs(t, jar, b.URL+page, tab.Conn(), "server_only", nil, nil)
	is.Equal(fr.Status, http.StatusAccepted)
	is.Equal(fr.Body, fmt.Sprintf(`{"c":%q,"forwarded":true}`, tab.Conn()))
	ev := nextChange(tab) // the tab's next change is the refusal
	is.True(strings.Contains(ev.HTML, "err=server only"))
	is.True(strings.Contains(ev.HTML, "n=0"))
	k := a.calls.next(t, "ServerOnly")
	is.True(k.FromClient) // the forwarded POST ran as the client's
	k = a.calls.next(t, "ServerOnly")
	is.True(k.FromClient)

	// The server itself may run it, from either instance: n=1, not 2, so
	// neither client POST was applied.
	is.NoErr(b.H.TriggerSession(context.Background(), group, "server_only", nil))
	ev = tab.WaitFor("n=1")
	is.True(strings.Contains(ev.HTML, "err=</p>"))
	k = a.calls.next(t, "ServerOnly")
	is.True(!k.FromClient)
	is.True(!k.HasRequest)

	// A plain form POST (no JavaScript, no connection) is refused too, on
	// either instance.
	for _, in := range []*fwdInstance{a, b} {
		pr := postForm(t, withJar(jar), in.URL+page, url.Values{"server_only": {""}}, nil)
		is.Equal(pr.Status, http.StatusUnprocessableEntity)
		is.True(strings.Contains(pr.Body, "err=server only"))
	}

	// The app sees the same request through ctx.Request() whether the
	// POST reached the owner or was forwarded: method, URL, Host,
	// RemoteAddr, every header, the form.
	fields := url.Values{"note": {"hello"}, "extra": {"x", "y"}}
	for _, in := range []*fwdInstance{a, b} {
		hdr := http.Header{"X-Probe": {"via " + in.URL}, "User-Agent": {"attack/1"}}
		r := postAs(t, jar, in.URL+page+"?q=1&q=2", tab.Conn(), "echo", fields, hdr)
		want := in.seenWith(t, hdr.Get("X-Probe")) // what in's middleware saw of this POST
		got := a.calls.nextWhere(t, "Echo", func(k call) bool { return k.Req.Header.Get("X-Probe") == hdr.Get("X-Probe") })
		if in == a {
			is.Equal(r.Status, http.StatusOK)
		} else {
			is.Equal(r.Status, http.StatusAccepted)
		}
		is.True(got.FromClient)
		is.True(got.HasRequest)
		is.Equal(got.Req.Method, want.Method)
		is.Equal(got.Req.RequestURI, "/boards/42?q=1&q=2")
		is.Equal(got.Req.RequestURI, want.RequestURI)
		is.Equal(got.Req.Host, want.Host)
		is.Equal(got.Req.RemoteAddr, want.RemoteAddr)
		is.Equal(got.Req.Header, want.Header)
		is.Equal(got.Req.Header.Get("X-Probe"), "via "+in.URL)
		is.Equal(got.Req.PostForm, url.Values{"note": {"hello"}, "extra": {"x", "y"}, "_lt_conn": {tab.Conn()}, "_lt_action": {"echo"}})
		is.Equal(got.Req.URLParam, "42") // chi.URLParam(ctx.Request(), ...) reads the page's route
		is.Equal(got.Req.Pattern, "/boards/{board}")
		// Form is the body's values, then the query's, as ParseForm makes
		// it: r.FormValue("q") reads the same on both instances.
		is.Equal(got.Req.Form["q"], []string{"1", "2"})
		is.Equal(got.Req.Form["extra"], []string{"x", "y"})
	}

	// A second tab of the same browser, on b: the first tab's client
	// action makes it Sync, a lifecycle call, never a client's.
	tabB := lttest.Open(t, b.URL+page, lttest.WithJar(jar))
	is.True(strings.HasPrefix(tabB.Conn(), "b."))
	r = tab.Act("bump", url.Values{"note": {"sync me"}})
	is.Equal(r.Status, http.StatusOK)
	k = b.calls.nextWhere(t, "Sync", func(k call) bool { return k.Action == "bump" })
	is.True(!k.FromClient)
	is.True(!k.HasRequest)

	// A stranger (its own session) names the tab's connection: the
	// owner refuses it directly (403), and through b the forwarded
	// action is dropped on a with a warning, never run.
	stranger := lttest.Get(t, b.URL+page)
	sjar := stranger.Jar()
	shareSession(sjar, b.URL, a.URL)
	sr := postAs(t, sjar, a.URL+page, tab.Conn(), "bump", url.Values{"note": {"evil"}}, nil)
	is.Equal(sr.Status, http.StatusForbidden)
	is.Equal(sr.Body, `{"error":"lt: connection belongs to another session"}`)
	sr = postAs(t, sjar, b.URL+page, tab.Conn(), "bump", url.Values{"note": {"evil"}}, nil)
	is.Equal(sr.Status, http.StatusAccepted)
	a.log.await(t, "of the stranger's forwarded action dropped", func(r record) bool {
		return r.Msg == "lt: forwarded action dropped" && r.Attrs["action"] == "bump" &&
			r.Attrs["err"] == "lt: connection belongs to another session"
	})
	r = tab.Act("echo", url.Values{"note": {"after"}})
	is.Equal(r.Status, http.StatusOK)
	ev = tab.WaitFor("note=after")
	is.True(strings.Contains(ev.HTML, "n=2")) // the server's 1 and the tab's own bump
	is.True(!strings.Contains(ev.HTML, "evil"))
	for _, k := range a.calls.snapshot() {
		if k.Method == "Bump" && k.Req.PostForm.Get("note") == "evil" {
			t.Errorf("the stranger's forwarded action ran on the tab: %+v", k)
		}
	}

	// Lifecycle methods on both instances were never the client's.
	for _, in := range []*fwdInstance{a, b} {
		for _, k := range in.calls.snapshot() {
			switch k.Method {
			case "Mount", "OnConnect", "Sync":
				if k.FromClient {
					t.Errorf("%s ran with FromClient() true", k.Method)
				}
			}
		}
	}
}

// A forward to an instance that is not live answers 410 (the client
// reconnects), and one larger than WithMaxForwardBytes 413; neither
// reaches the tab.
func TestForwardRefusals(t *testing.T) {
	is := is.New(t)
	bus := lt.NewBus()
	a := newFwdInstance(t, bus.Instance("a"))
	b := newFwdInstance(t, bus.Instance("b"), lt.WithMaxForwardBytes(4096))
	const page = "/boards/7"
	tab := lttest.Open(t, a.URL+page)
	jar := tab.Jar()
	shareSession(jar, a.URL, b.URL)

	for _, conn := range []string{"nosuch.AAAAAAAAAAAAAAAAAAAAAA", "zz.x", strings.Repeat("q", 40) + ".x"} {
		r := postAs(t, jar, b.URL+page, conn, "bump", nil, nil)
		is.Equal(r.Status, http.StatusGone)
		is.Equal(r.Body, `{"error":"lt: unknown or expired connection: no live instance holds it"}`)
	}

	big := url.Values{"note": {strings.Repeat("n", 5000)}}
	r := postAs(t, jar, b.URL+page, tab.Conn(), "bump", big, nil)
	is.Equal(r.Status, http.StatusRequestEntityTooLarge)
	var body struct{ Error string }
	is.NoErr(json.Unmarshal([]byte(r.Body), &body))
	is.True(strings.HasPrefix(body.Error, "lt: bad request: an action for a tab on another instance carries "))
	is.True(strings.HasSuffix(body.Error, " bytes, over the 4096 that are forwarded (WithMaxForwardBytes)"))

	// Headers count too.
	r = postAs(t, jar, b.URL+page, tab.Conn(), "bump", nil, http.Header{"X-Pad": {strings.Repeat("h", 5000)}})
	is.Equal(r.Status, http.StatusRequestEntityTooLarge)

	// Nothing reached the tab: its first update is the next action's.
	ar := tab.Act("echo", url.Values{"note": {"only this"}})
	is.Equal(ar.Status, http.StatusOK)
	is.Equal(ar.Seq, uint64(1))
	is.True(strings.Contains(ar.HTML, "n=0"))
	for _, k := range a.calls.snapshot() {
		is.True(k.Method != "Bump")
	}
}
