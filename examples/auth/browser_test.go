package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/livesse/livesse/internal/test/signin"
	"github.com/livesse/livesse/lt/ltbrowser"
	"github.com/matryer/is"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var testKey = []byte("0123456789abcdef0123456789abcdef")

func TestBrowserUserAcrossDevices(t *testing.T) {
	is := is.New(t)
	router, h, err := newRouter(&Sessions{Key: testKey, MaxAge: time.Hour})
	is.NoErr(err)
	srv := ltbrowser.Serve(t, router, h)
	page := srv.URL + "/"

	// Alice signs in on two devices (browsers with their own cookies),
	// Bob on a third.
	laptop := ltbrowser.New(t)
	is.NoErr(signin.SignIn(laptop, page, "alice"))
	phone := ltbrowser.NewDevice(t, laptop)
	is.NoErr(signin.SignIn(phone, page, "alice"))
	bob := ltbrowser.NewDevice(t, laptop)
	is.NoErr(signin.SignIn(bob, page, "bob"))

	cookie, err := ltbrowser.Cookie(laptop, page, sessionCookie)
	is.NoErr(err)
	is.Equal(strings.Count(cookie, "."), 2) // user.expiry.signature
	user, err := (&Sessions{Key: testKey}).User(cookie, time.Now())
	is.NoErr(err)
	is.Equal(user, "alice")

	// A note added on one device shows up on the other, live.
	addNote(t, laptop, "buy milk")
	is.NoErr(waitNotes(phone, "buy milk"))
	addNote(t, phone, "call mom")
	is.NoErr(waitNotes(laptop, "buy milk", "call mom"))

	// Bob's notes are his own.
	addNote(t, bob, "bob's secret")
	is.NoErr(waitNotes(bob, "bob's secret"))
	// Alice acts after Bob: had his note reached her devices, it would be
	// there before her next update.
	is.NoErr(ltbrowser.Do(laptop, chromedp.Click(`#notes li:first-child button`)))
	is.NoErr(waitNotes(laptop, "call mom"))
	is.NoErr(waitNotes(phone, "call mom"))
	is.Equal(notes(t, bob), []string{"bob's secret"})

	// Signing out on the phone signs out the phone only.
	tctx, cancel := context.WithTimeout(phone, ltbrowser.Timeout)
	defer cancel()
	resp, err := chromedp.RunResponse(tctx, chromedp.Click(chromedp.ID("signout")))
	is.NoErr(err)
	is.Equal(resp.Status, int64(http.StatusOK))
	is.NoErr(ltbrowser.WaitStatus(phone, "online"))
	present, err := ltbrowser.Eval[bool](phone, `document.querySelector("#signin") !== null && document.querySelector("#notes") === null`)
	is.NoErr(err)
	is.True(present) // the phone shows the sign-in form, no notes
	addNote(t, laptop, "still here")
	is.NoErr(waitNotes(laptop, "call mom", "still here"))
}

func TestSessionCookie(t *testing.T) {
	is := is.New(t)
	sessions := &Sessions{Key: testKey, MaxAge: time.Hour}
	router, h, err := newRouter(sessions)
	is.NoErr(err)
	srv := httptest.NewServer(router)
	t.Cleanup(func() { _ = h.Close(); srv.Close() })

	whoamiWith := func(cookie string) string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/whoami", nil)
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: cookie})
		resp, err := http.DefaultClient.Do(req)
		is.NoErr(err)
		defer resp.Body.Close()
		var got struct{ User string }
		is.NoErr(json.NewDecoder(resp.Body).Decode(&got))
		return got.User
	}
	now := time.Now()
	good := sessions.Issue("alice", now)
	is.Equal(whoamiWith(good), "alice")

	// Claim to be someone else with alice's signature: refused.
	_, rest, _ := strings.Cut(good, ".")
	forged := "Ym9i." + rest // "bob"
	is.Equal(whoamiWith(forged), "")
	is.Equal(whoamiWith(good[:len(good)-2]+"xx"), "")                        // a damaged signature
	is.Equal(whoamiWith(sessions.Issue("alice", now.Add(-2*time.Hour))), "") // expired
	other := &Sessions{Key: []byte(strings.Repeat("k", 32)), MaxAge: time.Hour}
	is.Equal(whoamiWith(other.Issue("alice", now)), "") // signed with another key

	// The live page treats a forged cookie as a visitor: the sign-in form.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: forged})
	resp, err := http.DefaultClient.Do(req)
	is.NoErr(err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	is.Equal(resp.StatusCode, http.StatusOK)
	is.True(strings.Contains(string(body), `id="signin"`))
	is.True(!strings.Contains(string(body), `id="me"`))

	// Sign-in from another site is refused; from the page it works.
	for _, tc := range []struct {
		origin string
		status int
	}{{"https://evil.example", http.StatusForbidden}, {srv.URL, http.StatusSeeOther}} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/signin", strings.NewReader(url.Values{"name": {"alice"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", tc.origin)
		resp, err := http.DefaultTransport.RoundTrip(req)
		is.NoErr(err)
		resp.Body.Close()
		is.Equal(resp.StatusCode, tc.status)
		if tc.status == http.StatusSeeOther {
			c := resp.Cookies()
			is.Equal(len(c), 1)
			is.True(c[0].HttpOnly)
			is.Equal(c[0].SameSite, http.SameSiteLaxMode)
			user, err := sessions.User(c[0].Value, time.Now())
			is.NoErr(err)
			is.Equal(user, "alice")
		}
	}
}

func addNote(t *testing.T, ctx context.Context, text string) {
	t.Helper()
	is.New(t).NoErr(ltbrowser.Do(ctx, ltbrowser.FillAndClick("#add", map[string]string{"#text": text})))
}

// notes returns the notes the tab of ctx shows.
func notes(t *testing.T, ctx context.Context) []string {
	t.Helper()
	list, err := ltbrowser.Eval[[]string](ctx, `[...document.querySelectorAll("#notes .text")].map((e) => e.textContent)`)
	is.New(t).NoErr(err)
	return list
}

// waitNotes waits until the tab of ctx shows exactly the notes want.
func waitNotes(ctx context.Context, want ...string) error {
	b, _ := json.Marshal(want)
	return ltbrowser.Wait(ctx, fmt.Sprintf("notes %s", b),
		`JSON.stringify([...document.querySelectorAll("#notes .text")].map((e) => e.textContent)) === `+fmt.Sprintf("%q", b),
		`JSON.stringify([...document.querySelectorAll("#notes .text")].map((e) => e.textContent))`)
}
