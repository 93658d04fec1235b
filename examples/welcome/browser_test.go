package main

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
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

// TestMain checks that no test leaves a goroutine behind; in particular
// no welcomeLater outlives its connection.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBrowserGreetsAfterThePageLoads(t *testing.T) {
	is := is.New(t)
	logs := ltbrowser.NewLogs("user")
	router, h, err := newRouter(&Page{Delay: 50 * time.Millisecond, Log: logs.Logger()})
	is.NoErr(err)
	srv := ltbrowser.Serve(t, router, h)
	page := srv.URL + "/"

	ctx := ltbrowser.New(t)
	is.NoErr(ltbrowser.Do(ctx, chromedp.Navigate(page)))
	is.NoErr(ltbrowser.WaitStatus(ctx, "online"))
	is.NoErr(signin.SubmitSignIn(ctx, page, "alice"))
	is.NoErr(logs.Await("welcome scheduled user=alice"))
	is.NoErr(ltbrowser.WaitText(ctx, "#greeting", "Welcome back, alice!"))
	seq, err := ltbrowser.Eval[int](ctx, `window.livesse.seq`)
	is.NoErr(err)
	is.True(seq >= 1) // the greeting came after the page, as a live update

	// Dismissed, it stays away until the next visit.
	is.NoErr(ltbrowser.Do(ctx, chromedp.Click(chromedp.ID("dismiss"))))
	is.NoErr(ltbrowser.Wait(ctx, "the greeting to go", `document.querySelector("#greeting") === null`,
		`document.querySelector("#greeting").textContent`))

	// A reload is a new visit: the page starts without a greeting (Mount)
	// and the server greets again.
	is.NoErr(ltbrowser.Do(ctx, chromedp.Reload()))
	is.NoErr(ltbrowser.WaitText(ctx, "#greeting", "Welcome back, alice!"))
}

func TestBrowserGreetingCancelledWhenTheTabCloses(t *testing.T) {
	is := is.New(t)
	logs := ltbrowser.NewLogs("user")
	// The greeting would come in an hour: the tab closes long before.
	router, h, err := newRouter(&Page{Delay: time.Hour, Log: logs.Logger()},
		lt.WithReconnectGrace(50*time.Millisecond))
	is.NoErr(err)
	srv := ltbrowser.Serve(t, router, h)
	page := srv.URL + "/"

	browser := ltbrowser.New(t)
	tab, closeTab := newTab(t, browser)
	is.NoErr(ltbrowser.Do(tab, chromedp.Navigate(page)))
	is.NoErr(signin.SubmitSignIn(tab, page, "bob"))
	is.NoErr(logs.Await("welcome scheduled user=bob")) // the timer runs

	closeTab()
	// Once the reconnect grace is over the connection ends, its context is
	// done and the goroutine gives up (TestMain then finds it gone).
	is.NoErr(logs.Await("welcome cancelled: the connection ended first user=bob"))
}

func TestBrowserCannotPostTheServerAction(t *testing.T) {
	is := is.New(t)
	router, h, err := newRouter(&Page{Delay: time.Hour})
	is.NoErr(err)
	srv := httptest.NewServer(router)
	t.Cleanup(func() { _ = h.Close(); srv.Close() })

	jar, err := cookiejar.New(nil)
	is.NoErr(err)
	u, err := url.Parse(srv.URL)
	is.NoErr(err)
	jar.SetCookies(u, []*http.Cookie{{Name: userCookie, Value: "mallory", Path: "/"}})
	tab := lttest.Open(t, srv.URL+"/", lttest.WithJar(jar))
	r := tab.Act("serverWelcome", url.Values{"message": {"Welcome back, admin!"}})
	is.Equal(r.Status, http.StatusUnprocessableEntity)
	is.True(strings.Contains(r.Error, "sent by the server"))
	is.True(!strings.Contains(tab.HTML(), "Welcome back, admin!"))
}

// newTab opens a tab in the browser of browserCtx and returns it with a
// function that closes it, as a user closes a tab.
func newTab(t *testing.T, browserCtx context.Context) (context.Context, func()) {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browserCtx)
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
