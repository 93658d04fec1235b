package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/livesse/livesse/internal/test/signin"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/ltbrowser"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBrowserRegistryVersusTriggerUser(t *testing.T) {
	is := is.New(t)
	n := &Notifier{}
	router, h, err := newRouter(n, lt.WithReconnectGrace(50*time.Millisecond))
	is.NoErr(err)
	srv := ltbrowser.Serve(t, router, h)
	page := srv.URL + "/"

	// Alice has two tabs on one device; Bob is on another device.
	browser := ltbrowser.New(t)
	alice1, _ := newTab(t, browser, false)
	is.NoErr(signin.SignIn(alice1, page, "alice"))
	alice2, closeAlice2 := newTab(t, browser, false)
	is.NoErr(signin.OpenSignedIn(alice2, page, "alice"))
	bob, _ := newTab(t, browser, true)
	is.NoErr(signin.SignIn(bob, page, "bob"))
	is.NoErr(waitFor("alice and bob in the registry", func() bool {
		return slices.Equal(n.Registry.Users(), []string{"alice", "bob"})
	}))

	// Both ways reach both of Alice's tabs while she has them open.
	send(t, bob, "alice", "hello through the registry", ViaRegistry)
	is.NoErr(ltbrowser.WaitText(bob, "#result", "Sent to alice through the registry."))
	send(t, bob, "alice", "hello with TriggerUser", ViaLibrary)
	for _, tab := range []context.Context{alice1, alice2} {
		is.NoErr(ltbrowser.Wait(tab, "two notifications", `document.querySelectorAll("#inbox .msg").length === 2`,
			`document.querySelector("main").innerText`))
		is.Equal(inbox(t, tab), []string{"hello with TriggerUser", "hello through the registry"})
	}

	// Alice closes one tab. When its connection ends, its OnDisconnect
	// deletes "alice" from the registry, although her other tab is open.
	closeAlice2()
	is.NoErr(waitFor("alice to leave the registry", func() bool {
		return slices.Equal(n.Registry.Users(), []string{"bob"})
	}))
	send(t, bob, "alice", "lost in the registry", ViaRegistry)
	is.NoErr(ltbrowser.WaitText(bob, "#result", "Not delivered: alice has no entry in this instance's registry."))
	// TriggerUser still reaches her open tab. The registry's message, had
	// it been sent, would have arrived before this one.
	send(t, bob, "alice", "found by TriggerUser", ViaLibrary)
	is.NoErr(ltbrowser.WaitTextContains(alice1, "#inbox", "found by TriggerUser"))
	is.Equal(inbox(t, alice1), []string{"found by TriggerUser", "hello with TriggerUser", "hello through the registry"})

	// From outside any page: the /notify endpoint, as another program.
	resp, err := http.PostForm(srv.URL+"/notify", url.Values{"to": {"alice"}, "message": {"from a cron job"}, "via": {ViaLibrary}})
	is.NoErr(err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	is.Equal(resp.StatusCode, http.StatusOK)
	is.True(strings.HasPrefix(string(body), "Sent to alice with TriggerUser"))
	is.NoErr(ltbrowser.WaitTextContains(alice1, "#inbox", "from a cron job"))
	// Bob never received any of Alice's notifications.
	is.Equal(len(inbox(t, bob)), 0)

	// A browser on another site cannot post to /notify.
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/notify", strings.NewReader("to=alice&message=spam&via=library"))
	is.NoErr(err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	resp, err = http.DefaultClient.Do(req)
	is.NoErr(err)
	resp.Body.Close()
	is.Equal(resp.StatusCode, http.StatusForbidden)
}

// Two instances of the app share an lt.Bus, standing in for pgnotify: the
// registry of one instance knows nothing of the users connected to the
// other, while TriggerUser reaches them.
func TestTwoInstancesRegistryMissesTriggerUserReaches(t *testing.T) {
	is := is.New(t)
	bus := lt.NewBus()
	serveInstance := func(id string) (*Notifier, string) {
		n := &Notifier{}
		router, h, err := newRouter(n, lt.WithBroadcaster(bus.Instance(id)))
		is.NoErr(err)
		srv := httptest.NewServer(router)
		t.Cleanup(func() { _ = h.Close(); srv.Close() })
		return n, srv.URL
	}
	_, urlA := serveInstance("a")
	nB, urlB := serveInstance("b")

	// Alice's tab is connected to instance A.
	alice := lttest.Open(t, urlA+"/", lttest.WithJar(userJar(t, urlA, "alice")))
	is.Equal(alice.Act("send", url.Values{"to": {"nobody"}, "message": {"ping"}, "via": {ViaLibrary}}).Status, http.StatusOK) // OnConnect has run

	// A request on instance B: its registry has never seen Alice.
	is.Equal(nB.Registry.Users(), []string(nil))
	result := postNotify(t, urlB, "alice", "through B's registry", ViaRegistry)
	is.Equal(result, "Not delivered: alice has no entry in this instance's registry.")
	result = postNotify(t, urlB, "alice", "through TriggerUser on B", ViaLibrary)
	is.True(strings.HasPrefix(result, "Sent to alice with TriggerUser"))
	ev := alice.WaitFor("through TriggerUser on B")
	is.True(!strings.Contains(ev.HTML, "through B's registry"))
}

func postNotify(t *testing.T, base, to, message, via string) string {
	t.Helper()
	resp, err := http.PostForm(base+"/notify", url.Values{"to": {to}, "message": {message}, "via": {via}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /notify: %s: %s", resp.Status, body)
	}
	return strings.TrimSpace(string(body))
}

// userJar is a cookie jar signed in as user on the server at base.
func userJar(t *testing.T, base, user string) http.CookieJar {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	jar.SetCookies(u, []*http.Cookie{{Name: userCookie, Value: user, Path: "/"}})
	return jar
}

// send fills the page's form in the tab of ctx and sends it.
func send(t *testing.T, ctx context.Context, to, message, via string) {
	t.Helper()
	is.New(t).NoErr(ltbrowser.Do(ctx, ltbrowser.FillAndClick("#send", map[string]string{
		"#to": to, "#message": message, "#via-" + via: "on",
	})))
}

// inbox returns the messages the tab of ctx shows, newest first.
func inbox(t *testing.T, ctx context.Context) []string {
	t.Helper()
	msgs, err := ltbrowser.Eval[[]string](ctx, `[...document.querySelectorAll("#inbox .msg")].map((e) => e.textContent)`)
	is.New(t).NoErr(err)
	return msgs
}

// newTab opens a tab in the browser of browserCtx, in a browser context of
// its own (another device, with its own cookies) if device is set, and
// returns it with a function that closes it, as a user closes a tab.
// (Navigating away is not the same: Chromium may keep the page, and its
// event stream, in the back/forward cache.)
func newTab(t *testing.T, browserCtx context.Context, device bool) (context.Context, func()) {
	t.Helper()
	var opts []chromedp.ContextOption
	if device {
		opts = append(opts, chromedp.WithNewBrowserContext())
	}
	ctx, cancel := chromedp.NewContext(browserCtx, opts...)
	t.Cleanup(cancel)
	// The first Do attaches the tab to ctx for its whole life, so it must
	// not run under a timeout; a watchdog bounds it instead.
	stuck := time.AfterFunc(30*time.Second, cancel)
	err := chromedp.Do(ctx)
	if !stuck.Stop() || err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	return ctx, cancel
}

// waitFor polls cond until it holds, for at most ltbrowser.Timeout.
func waitFor(what string, cond func() bool) error {
	deadline := time.Now().Add(ltbrowser.Timeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("waiting for %s: not within %v", what, ltbrowser.Timeout)
		}
		<-tick.C
	}
	return nil
}
