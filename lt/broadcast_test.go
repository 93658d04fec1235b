package lt_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
)

// instance is one process of a multi-instance app, joined to the others by
// b: the same page, its own Handler and server.
type instance struct {
	URL string
	H   *lt.Handler
	J   *journal
}

func newInstance(t *testing.T, b lt.Broadcaster, opts ...lt.Option) *instance {
	t.Helper()
	j := newJournal()
	opts = append([]lt.Option{lt.WithBroadcaster(b), lt.WithSecret(testSecret)}, opts...)
	h := lt.Must(lt.New(lt.Must(lt.Parse("page", pageHTML)), &ctrl{j: j}, state{}, opts...))
	r := chi.NewRouter()
	r.Handle("/page", h)
	srv := httptest.NewServer(r)
	t.Cleanup(func() { h.Close(); srv.Close() })
	return &instance{URL: srv.URL, H: h, J: j}
}

// sameSession makes a jar for instance b's URL hold a's session cookie, as
// a browser behind one load balancer would.
func sameSession(t *testing.T, tab *lttest.Tab, a, b string) http.CookieJar {
	t.Helper()
	ua, _ := url.Parse(a)
	ub, _ := url.Parse(b)
	tab.Jar().SetCookies(ub, tab.Jar().Cookies(ua))
	return tab.Jar()
}

func TestTriggerAcrossInstances(t *testing.T) {
	is := is.New(t)
	bus := lt.NewBus()
	a, b := newInstance(t, bus.Instance("a")), newInstance(t, bus.Instance("b"))
	tabA := lttest.Open(t, a.URL+"/page")
	tabB := lttest.Open(t, b.URL+"/page", lttest.WithJar(sameSession(t, tabA, a.URL, b.URL)))
	is.True(strings.HasPrefix(tabA.Conn(), "a."))
	is.True(strings.HasPrefix(tabB.Conn(), "b."))
	group := lt.AnonymousIdentity(cookie(t, tabA, a.URL)).SessionID

	is.NoErr(b.H.TriggerSession(context.Background(), group, "increment", nil)) // from instance b ...
	tabA.WaitFor("n=1")                                                         // ... reaches the tab on a
	tabB.WaitFor("n=1")

	// A client action on a syncs the tab on b.
	tabA.Act("increment", nil)
	tabB.WaitFor("msg=synced after increment")

	// BroadcastAction reaches the other tab on the other instance.
	tabA.Act("broadcast", nil)
	tabB.WaitFor("msg=from another tab")
}

func TestTriggerUserAcrossInstances(t *testing.T) {
	is := is.New(t)
	auth := lt.AuthenticatorFunc(func(r *http.Request) (lt.Identity, error) {
		return lt.Identity{UserID: r.URL.Query().Get("user")}, nil
	})
	bus := lt.NewBus()
	a := newInstance(t, bus.Instance("a"), lt.WithAuthenticator(auth))
	b := newInstance(t, bus.Instance("b"), lt.WithAuthenticator(auth))
	ann := lttest.Open(t, b.URL+"/page?user=ann")
	bob := lttest.Open(t, b.URL+"/page?user=bob")
	is.NoErr(a.H.TriggerUser(context.Background(), "ann", "set_msg", map[string]any{"msg": "hi ann"}))
	ann.WaitFor("msg=hi ann")
	is.NoErr(a.H.TriggerUser(context.Background(), "bob", "set_msg", map[string]any{"msg": "hi bob"}))
	ev := bob.Next()
	is.Equal(ev.Seq, uint64(1)) // ann's message never reached bob
}

// No sticky sessions: a POST that lands on an instance which does not hold
// the tab's connection is forwarded to the one that does.
func TestPostForwardedToOwningInstance(t *testing.T) {
	is := is.New(t)
	bus := lt.NewBus()
	a, b := newInstance(t, bus.Instance("a")), newInstance(t, bus.Instance("b"))
	tab := lttest.Open(t, a.URL+"/page")
	jar := sameSession(t, tab, a.URL, b.URL)

	viaB := lttest.Get(t, b.URL+"/page", lttest.WithJar(jar)) // same browser, balanced to b
	r := viaB.ActAs(tab.Conn(), "add_item", url.Values{"item": {"forwarded"}})
	is.Equal(r.Status, http.StatusAccepted)
	tab.WaitFor("<li>forwarded</li>")

	// Another session cannot use the forwarding to act on the tab.
	stranger := lttest.Get(t, b.URL+"/page")
	is.Equal(stranger.ActAs(tab.Conn(), "add_item", url.Values{"item": {"evil"}}).Status, http.StatusAccepted)
	r = tab.Act("set_msg", url.Values{"msg": {"after"}})
	is.True(!strings.Contains(r.HTML, "evil"))
}

// Messages from the channel are untrusted: a message for another page, of
// an unknown kind, naming an unknown or lifecycle action, or a connection
// of another session, is logged and dropped.
func TestBadMessagesDropped(t *testing.T) {
	is := is.New(t)
	bus := lt.NewBus()
	var logs syncBuffer
	a := newInstance(t, bus.Instance("a"), lt.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	tab := lttest.Open(t, a.URL+"/page")
	group := lt.AnonymousIdentity(cookie(t, tab, a.URL)).SessionID
	evil := bus.Instance("evil")
	other := lt.Identity{SessionID: "anon:someone-else"}
	// What another instance sends arrives as JSON (its Broadcaster's).
	wire := func(js string) lt.Message {
		t.Helper()
		var m lt.Message
		is.NoErr(json.Unmarshal([]byte(js), &m))
		return m
	}
	q := strconv.Quote
	var m lt.Message
	is.True(errors.Is(json.Unmarshal([]byte(`{"p":"page","k":"everyone","t":`+q(group)+`,"a":"increment"}`), &m), lt.ErrBadMessage)) // refused before any Handler
	id, err := json.Marshal(other)
	is.NoErr(err)
	for _, m := range []lt.Message{
		wire(`{"p":"other-page","k":"group","t":` + q(group) + `,"a":"increment"}`),
		wire(`{"p":"page","k":"group","t":` + q(group) + `,"a":"drop_tables"}`),
		wire(`{"p":"page","k":"group","t":` + q(group) + `,"a":"mount"}`),
		wire(`{"p":"page","k":"conn","t":` + q(tab.Conn()) + `,"a":"increment"}`),                         // no identity
		wire(`{"p":"page","k":"conn","t":` + q(tab.Conn()) + `,"a":"increment","id":` + string(id) + `}`), // not the owner
		wire(`{"p":"page","k":"conn","t":"a.unknown","a":"increment","id":` + string(id) + `}`),
	} {
		is.NoErr(evil.Publish(waitCtx(t), m))
	}
	// A good message after the bad ones: the first update the tab sees is
	// this one, so none of the bad ones was applied.
	is.NoErr(evil.Publish(waitCtx(t), lt.Must(lt.ServerAction("page", lt.ToSession, group, "set_msg", map[string]any{"msg": "good"}))))
	ev := tab.Next()
	is.True(strings.Contains(ev.HTML, "msg=good"))
	is.True(strings.Contains(ev.HTML, "n=0"))
	is.Equal(ev.Seq, uint64(1))
	for _, want := range []string{"unknown action", "forwarded action dropped"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log does not mention %q:\n%s", want, logs.String())
		}
	}
}

// After a broadcaster reconnect, every connection renders afresh.
func TestResyncSendsFullRender(t *testing.T) {
	is := is.New(t)
	fb := &fakeBroadcaster{}
	a := newInstance(t, fb)
	tab := lttest.Open(t, a.URL+"/page")
	tab.Act("increment", nil)
	tab.Next()
	fb.sub.Resync()
	ev := tab.Next()
	is.Equal(ev.Type, "render")
	is.Equal(ev.Seq, uint64(2))
	is.True(strings.Contains(ev.HTML, "n=1"))
	is.Equal(len(a.J.list()), 4) // mount, connect, increment, and Mount again
}

type fakeBroadcaster struct{ sub lt.Subscriber }

func (f *fakeBroadcaster) Instance() string { return "solo" }
func (f *fakeBroadcaster) Publish(context.Context, lt.Message) error {
	return nil
}
func (f *fakeBroadcaster) Subscribe(s lt.Subscriber) func() { f.sub = s; return func() {} }

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TriggerAll reaches every tab of the page on every instance; a message
// without a page (as a SQL trigger sends) reaches every page with the
// action.
func TestTriggerAllAndPagelessMessages(t *testing.T) {
	is := is.New(t)
	bus := lt.NewBus()
	a, b := newInstance(t, bus.Instance("a")), newInstance(t, bus.Instance("b"))
	t1 := lttest.Open(t, a.URL+"/page")
	t2 := lttest.Open(t, b.URL+"/page")
	is.NoErr(a.H.TriggerAll(context.Background(), "increment", nil))
	t1.WaitFor("n=1")
	t2.WaitFor("n=1")
	sql := bus.Instance("sql")
	is.NoErr(sql.Publish(waitCtx(t), lt.Must(lt.ServerAction("", lt.ToAll, "", "set_msg", map[string]any{"msg": "from sql"}))))
	is.NoErr(sql.Publish(waitCtx(t), lt.Must(lt.ServerAction("", lt.ToAll, "", "only_on_other_pages", nil))))
	t1.WaitFor("msg=from sql")
	t2.WaitFor("msg=from sql")
}

func TestValidInstance(t *testing.T) {
	for id, ok := range map[string]bool{
		"a": true, "web-1": true, "A_b-9": true, strings.Repeat("x", 32): true,
		"": false, "a.b": false, "a b": false, "ü": false, strings.Repeat("x", 33): false,
	} {
		if lt.ValidInstance(id) != ok {
			t.Errorf("ValidInstance(%q) = %v, want %v", id, !ok, ok)
		}
	}
}

// testSecret is the app's secret in tests that run several instances.
var testSecret = []byte("livesse test secret of 32 bytes or more")
