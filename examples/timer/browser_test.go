package main

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/livesse/livesse/lt/ltbrowser"
	"github.com/matryer/is"
	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind: the timers'
// goroutines end with their connections when the handler closes, and the
// test server and chromedp's browser are shut down by the cleanups.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// openTimer serves the timer app on loopback and loads it in the tab of
// ctx, waiting until the page's stream is online.
func openTimer(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	is := is.New(t)
	is.NoErr(ltbrowser.Do(ctx, chromedp.Navigate(url)))
	is.NoErr(ltbrowser.WaitStatus(ctx, "online"))
}

// seconds reads the tab's #seconds as a number.
func seconds(t *testing.T, ctx context.Context) int {
	t.Helper()
	s, err := ltbrowser.Text(ctx, "#seconds")
	is.New(t).NoErr(err)
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("#seconds reads %q, not a number", s)
	}
	return n
}

// waitSeconds waits until the tab's #seconds reads at least min.
func waitSeconds(ctx context.Context, min int) error {
	return ltbrowser.Wait(ctx, fmt.Sprintf("#seconds >= %d", min),
		fmt.Sprintf(`Number(document.querySelector("#seconds").textContent) >= %d`, min),
		`"#seconds=" + document.querySelector("#seconds").textContent`)
}

func TestBrowserTwoTabsBothTick(t *testing.T) {
	is := is.New(t)
	router, h, err := newRouter()
	is.NoErr(err)
	srv := ltbrowser.Serve(t, router, h)
	page := srv.URL + "/"

	first := ltbrowser.New(t)
	second := ltbrowser.NewTab(t, first)
	openTimer(t, first, page)
	openTimer(t, second, page)

	// Both tabs are in the browser's one session.
	c1, err := ltbrowser.Cookie(first, page, "lt_session")
	is.NoErr(err)
	c2, err := ltbrowser.Cookie(second, page, "lt_session")
	is.NoErr(err)
	is.Equal(c1, c2) // the tabs share the session cookie

	s1, s2 := seconds(t, first), seconds(t, second)
	is.NoErr(waitSeconds(first, s1+2))  // the first tab ticks
	is.NoErr(waitSeconds(second, s2+2)) // and so does the second
	t.Logf("first tab %d -> %d, second tab %d -> %d", s1, seconds(t, first), s2, seconds(t, second))
}

func TestBrowserTypingSurvivesTicks(t *testing.T) {
	is := is.New(t)
	router, h, err := newRouter()
	is.NoErr(err)
	srv := ltbrowser.Serve(t, router, h)
	ctx := ltbrowser.New(t)
	openTimer(t, ctx, srv.URL+"/")

	_, err = ltbrowser.Eval[chromedp.Void](ctx, `window.__ltUpdates = 0;
		document.addEventListener("lt:update", () => window.__ltUpdates++)`)
	is.NoErr(err)
	updates := func() int {
		n, err := ltbrowser.Eval[int](ctx, `window.__ltUpdates`)
		is.NoErr(err)
		return n
	}
	waitUpdates := func(min int) {
		t.Helper()
		is.NoErr(ltbrowser.Wait(ctx, fmt.Sprintf("%d lt:update events", min),
			fmt.Sprintf("window.__ltUpdates >= %d", min), `window.__ltUpdates + " lt:update events"`))
	}

	// Type in pieces, with a tick landing between each, so that the page
	// is re-rendered around the field while it is being typed into.
	const typed = "ticks must not eat this"
	for _, part := range []string{"ticks ", "must not ", "eat this"} {
		n := updates()
		is.NoErr(ltbrowser.Do(ctx, ltbrowser.SendKeys(chromedp.ID("note"), part)))
		waitUpdates(n + 1)
	}
	// Two more ticks with the text in place.
	waitUpdates(updates() + 2)

	focus, err := ltbrowser.Eval[string](ctx, `document.activeElement.id`)
	is.NoErr(err)
	is.Equal(focus, "note") // the field kept focus through the updates
	value, err := ltbrowser.Eval[string](ctx, `document.querySelector("#note").value`)
	is.NoErr(err)
	is.Equal(value, typed) // and every character typed
	t.Logf("%d updates landed while typing; #seconds=%d", updates(), seconds(t, ctx))
}
