package lt_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
)

// TriggerAction from any goroutine reaches every stream of the session,
// and never a stream of another session.
func TestTriggerActionReachesGroupOnly(t *testing.T) {
	is := is.New(t)
	f := newFixture(t)
	a1 := lttest.Open(t, f.URL+"/page")
	a2 := lttest.Open(t, f.URL+"/page", lttest.WithJar(a1.Jar())) // second tab, same browser
	b := lttest.Open(t, f.URL+"/page")                            // another browser
	groupA, groupB := lt.AnonymousIdentity(cookie(t, a1, f.URL)).SessionID, lt.AnonymousIdentity(cookie(t, b, f.URL)).SessionID
	is.True(groupA != groupB)
	f.J.waitFor(t, "connect")

	// Wait for all three OnConnects, which store the sessions.
	for len(slices.DeleteFunc(f.J.list(), func(e string) bool { return e != "connect" })) < 3 {
		<-f.J.changed
	}
	sessA := f.J.session(t, groupA)
	done := make(chan error)
	go func() { done <- sessA.TriggerAction("increment", nil) }()
	is.NoErr(<-done)
	a1.WaitFor("n=1")
	a2.WaitFor("n=1")

	// Work for one connection runs in order, so if the trigger had reached
	// b, b's first update would show it before this one.
	is.NoErr(f.J.session(t, groupB).TriggerAction("set_msg", map[string]any{"msg": "b only"}))
	ev := b.Next()
	is.True(strings.Contains(ev.HTML, "msg=b only"))
	is.True(strings.Contains(ev.HTML, "n=0"))
	is.Equal(ev.Seq, uint64(1))

	is.True(errors.Is(sessA.TriggerAction("no_such_action", nil), lt.ErrUnknownAction))
	is.True(errors.Is(sessA.TriggerAction("mount", nil), lt.ErrUnknownAction))
}

// A connection id is refused when presented with another session's cookie
// or when it was never issued; the owner's page is untouched.
func TestForgedAndForeignConnectionsRefused(t *testing.T) {
	is := is.New(t)
	f := newFixture(t)
	victim := lttest.Open(t, f.URL+"/page")
	attacker := lttest.Open(t, f.URL+"/page")

	r := attacker.ActAs(victim.Conn(), "increment", nil)
	is.Equal(r.Status, http.StatusForbidden)
	is.True(strings.Contains(r.Error, "another session"))
	is.True(!r.Changed)                      // nothing of the victim's page leaks
	is.True(!strings.Contains(r.Body, "n=")) // not even in the body

	r = attacker.ActAs("AAAAAAAAAAAAAAAAAAAAAA", "increment", nil)
	is.Equal(r.Status, http.StatusGone)

	// A stream presenting the victim's id gets a fresh connection of its
	// own, never the victim's.
	stolen, first := attacker.OpenStreamFor(victim.Conn(), 0)
	is.Equal(first.Type, "render")
	is.True(first.Conn != victim.Conn())
	is.True(strings.Contains(first.HTML, "n=0"))

	// The victim's state was never touched: its first increment gives 1.
	r = victim.Act("increment", nil)
	is.True(strings.Contains(r.HTML, "n=1"))
	is.Equal(r.Seq, uint64(1))
	// And its update reached its own stream, not the attacker's: the
	// attacker's next event is its own.
	is.Equal(stolen.Act("set_msg", map[string][]string{"msg": {"x"}}).Status, http.StatusOK)
	ev := stolen.Next()
	is.Equal(ev.Conn, first.Conn)
}

// Sync runs on the other tabs of the session after a client action;
// BroadcastAction runs an action there explicitly.
func TestSyncAndBroadcastAction(t *testing.T) {
	is := is.New(t)
	f := newFixture(t)
	a1 := lttest.Open(t, f.URL+"/page")
	a2 := lttest.Open(t, f.URL+"/page", lttest.WithJar(a1.Jar()))
	other := lttest.Open(t, f.URL+"/page")

	r := a1.Act("increment", nil)
	is.True(!strings.Contains(r.HTML, "synced")) // the acting tab is not synced
	a2.WaitFor("msg=synced after increment")
	is.True(strings.Contains(a2.HTML(), "n=0")) // Sync decides what changes

	r = a1.Act("broadcast", nil)
	is.True(strings.Contains(r.HTML, "msg=broadcaster"))
	a2.WaitFor("msg=from another tab")
	// Had the broadcast reached a1 itself, it would have run before this
	// increment (work on a connection runs in order).
	r = a1.Act("increment", nil)
	is.True(strings.Contains(r.HTML, "msg=broadcaster"))

	// The other browser saw none of it: its first update is its own.
	r = other.Act("set_msg", map[string][]string{"msg": {"mine"}})
	is.Equal(r.Seq, uint64(1))
}

// The lifecycle runs in order: Mount on the page GET, OnConnect when the
// stream opens, actions, then, when the connection ends for good, its
// context is cancelled and OnDisconnect runs.
func TestLifecycleOrder(t *testing.T) {
	is := is.New(t)
	f := newFixture(t)
	tab := lttest.Open(t, f.URL+"/page")
	f.J.waitFor(t, "connect")
	tab.Act("increment", nil)
	tab.Close()
	is.NoErr(f.H.Close())
	f.J.waitFor(t, "ctx done")
	got := slices.DeleteFunc(f.J.list(), func(e string) bool { return e == "ctx done" })
	is.Equal(got, []string{"mount", "connect", "increment", "disconnect"})
	is.True(errors.Is(f.H.TriggerSession(context.Background(), "anon:x", "increment", nil), lt.ErrClosed))
}

// A tab whose stream does not come back within the grace period ends for
// good: OnDisconnect runs without any Close. The server notices the
// closed client at once (the default heartbeat is 15 s), for streams taken
// from net/http too.
func TestReconnectGraceExpires(t *testing.T) {
	f := newFixture(t, lt.WithReconnectGrace(1))
	tab := lttest.Open(t, f.URL+"/page")
	f.J.waitFor(t, "connect")
	tab.Close()
	f.J.waitFor(t, "disconnect")
	f.J.waitFor(t, "ctx done")
}

// A page that is never followed by its stream (JavaScript off, a crawler)
// does not keep its connection.
func TestUnconnectedPageExpires(t *testing.T) {
	is := is.New(t)
	f := newFixture(t, lt.WithConnectTimeout(1))
	tab := lttest.Get(t, f.URL+"/page")
	f.J.waitFor(t, "mount")
	// Once expired, the connection id is unknown. The timeout is 1 ns, so
	// the expiry is at most a timer's firing away; the posts that land
	// before it are answered as usual, and lttest.Timeout bounds them.
	deadline := time.Now().Add(lttest.Timeout)
	for posts := 1; ; posts++ {
		r := tab.Act("increment", nil)
		if r.Status == http.StatusGone {
			break
		}
		is.Equal(r.Status, http.StatusOK) // only until the timer fires
		if time.Now().After(deadline) {
			t.Fatalf("the page's connection did not expire within %v (%d posts answered %d)", lttest.Timeout, posts, r.Status)
		}
	}
	is.True(!slices.Contains(f.J.list(), "disconnect")) // it never connected
}

func TestChiRouteParamsAndMiddleware(t *testing.T) {
	is := is.New(t)
	f := newFixture(t)
	tab := lttest.Open(t, f.URL+"/items/42/")
	is.True(strings.Contains(tab.HTML(), "param=42"))
	group := lt.AnonymousIdentity(cookie(t, tab, f.URL)).SessionID
	// A server action has no request, but still sees the page's params.
	is.NoErr(f.H.TriggerSession(context.Background(), group, "show_param", nil))
	tab.WaitFor("msg=param=42")

	resp, err := http.Get(f.URL + "/items/7/")
	is.NoErr(err)
	resp.Body.Close()
	is.Equal(resp.Header.Get("X-App"), "yes") // the route's middleware ran
}

func TestAuthenticatorGroupsAUsersDevices(t *testing.T) {
	is := is.New(t)
	auth := lt.AuthenticatorFunc(func(r *http.Request) (lt.Identity, error) {
		switch u := r.URL.Query().Get("user"); u {
		case "":
			return lt.Identity{}, nil // anonymous
		case "mallory":
			return lt.Identity{}, errors.New("banned")
		default:
			return lt.Identity{UserID: u}, nil
		}
	})
	f := newFixture(t, lt.WithAuthenticator(auth))
	phone := lttest.Open(t, f.URL+"/page?user=ann")
	laptop := lttest.Open(t, f.URL+"/page?user=ann") // other cookies, same user
	bob := lttest.Open(t, f.URL+"/page?user=bob")

	is.NoErr(f.H.TriggerUser(context.Background(), "ann", "increment", nil))
	phone.WaitFor("n=1")
	laptop.WaitFor("n=1")
	is.NoErr(f.H.TriggerSession(context.Background(), "user:bob", "set_msg", map[string]any{"msg": "bob"}))
	ev := bob.Next()
	is.Equal(ev.Seq, uint64(1)) // ann's update never reached bob
	is.True(strings.Contains(ev.HTML, "msg=bob"))

	// ann's connection is refused to bob even with ann's connection id.
	is.Equal(bob.ActAs(phone.Conn(), "increment", nil).Status, http.StatusForbidden)

	resp, err := http.Get(f.URL + "/page?user=mallory")
	is.NoErr(err)
	resp.Body.Close()
	is.Equal(resp.StatusCode, http.StatusUnauthorized)
}

// Identity from middleware (lt.WithIdentity) is used when there is no
// Authenticator.
func TestIdentityFromContext(t *testing.T) {
	is := is.New(t)
	j := newJournal()
	h := lt.Must(lt.New(lt.Must(lt.Parse("p", pageHTML)), &ctrl{j: j}, state{}))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(lt.WithIdentity(r.Context(), lt.Identity{UserID: "zoe"})))
	}))
	t.Cleanup(func() { h.Close(); srv.Close() })
	tab := lttest.Open(t, srv.URL+"/")
	is.NoErr(h.TriggerUser(context.Background(), "zoe", "increment", nil))
	tab.WaitFor("n=1")
	is.NoErr(h.TriggerSession(context.Background(), "user:zoe", "increment", nil))
	tab.WaitFor("n=2")
}

// Shutdown ends the streams at once but gives running actions until its
// deadline.
func TestShutdown(t *testing.T) {
	is := is.New(t)
	f := newFixture(t)
	tab := lttest.Open(t, f.URL+"/page")
	f.J.waitFor(t, "connect")
	is.NoErr(f.H.Shutdown(waitCtx(t)))
	f.J.waitFor(t, "disconnect")
	r := tab.Act("increment", nil)
	is.Equal(r.Status, http.StatusGone) // the connection is gone; the client reconnects
}

func TestShutdownDeadline(t *testing.T) {
	is := is.New(t)
	f := newFixture(t)
	f.J.hold = make(chan struct{})
	tab := lttest.Open(t, f.URL+"/page")
	posted := make(chan error, 1)
	go func() {
		resp, err := (&http.Client{Jar: tab.Jar()}).PostForm(f.URL+"/page", url.Values{"_lt_conn": {tab.Conn()}, "hold": {""}})
		if err == nil {
			resp.Body.Close()
		}
		posted <- err
	}()
	f.J.waitFor(t, "holding")
	ctx, cancel := context.WithTimeout(waitCtx(t), 50*time.Millisecond)
	defer cancel()
	is.True(errors.Is(f.H.Shutdown(ctx), context.DeadlineExceeded)) // the action still runs
	close(f.J.hold)
	<-posted
}

// An action that broadcasts its own name runs once on every other tab: a
// broadcast action does not broadcast again.
func TestBroadcastDoesNotEcho(t *testing.T) {
	is := is.New(t)
	f := newFixture(t)
	a := lttest.Open(t, f.URL+"/page")
	b := lttest.Open(t, f.URL+"/page", lttest.WithJar(a.Jar()))
	c := lttest.Open(t, f.URL+"/page", lttest.WithJar(a.Jar()))
	r := a.Act("bump", nil)
	is.True(strings.Contains(r.HTML, "n=1"))
	b.WaitFor("n=1")
	c.WaitFor("n=1")
	// Had the echo gone on, a's next update would be another bump; it is
	// this one, on top of n=1.
	r = a.Act("increment", nil)
	is.True(strings.Contains(r.HTML, "n=2"))
	bumps := 0
	for _, e := range f.J.list() {
		if e == "bump" {
			bumps++
		}
	}
	is.Equal(bumps, 3)
}

// CloseSession ends the session's connections (sign-out); others keep theirs.
func TestCloseGroupAndUser(t *testing.T) {
	is := is.New(t)
	bus := lt.NewBus()
	auth := lt.AuthenticatorFunc(func(r *http.Request) (lt.Identity, error) {
		return lt.Identity{UserID: r.URL.Query().Get("user")}, nil
	})
	a := newInstance(t, bus.Instance("a"), lt.WithAuthenticator(auth))
	b := newInstance(t, bus.Instance("b"), lt.WithAuthenticator(auth))
	annA := lttest.Open(t, a.URL+"/page?user=ann")
	annB := lttest.Open(t, b.URL+"/page?user=ann")
	bob := lttest.Open(t, b.URL+"/page?user=bob")
	is.NoErr(a.H.CloseUser(context.Background(), "ann")) // on both instances
	for _, tab := range []*lttest.Tab{annA, annB} {
		tab.WaitClosed() // the close reached instance b through the bus too
		is.Equal(tab.Act("increment", nil).Status, http.StatusGone)
	}
	is.Equal(bob.Act("increment", nil).Status, http.StatusOK)
	is.NoErr(b.H.CloseSession(context.Background(), "user:bob"))
	bob.WaitClosed()
	is.Equal(bob.Act("increment", nil).Status, http.StatusGone)
}
