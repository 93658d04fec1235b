// Package snippettest is the scaffolding the spec-snippet tests share: a
// loopback server for an lt.Handler, a cookie-based Authenticator for
// logged-in users, and an ordered "not before" check on a tab's stream.
package snippettest

import (
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
)

// UserCookie is the cookie ByUserCookie reads the user id from.
const UserCookie = "user"

// ByUserCookie identifies a logged-in user by the "user" cookie; a request
// without it is an anonymous visitor (lt then uses its session cookie).
var ByUserCookie = lt.AuthenticatorFunc(func(r *http.Request) (lt.Identity, error) {
	c, err := r.Cookie(UserCookie)
	if err != nil || c.Value == "" {
		return lt.Identity{}, nil
	}
	return lt.Identity{UserID: c.Value}, nil
})

// Serve serves h at "/" (and extra routes, by ServeMux pattern) on a
// loopback httptest server and returns the page URL. At cleanup it closes h
// (streams end, OnDisconnect runs) and then the server. Tabs opened after
// Serve are closed before that, as their cleanups run first.
func Serve(t testing.TB, h *lt.Handler, extra map[string]http.Handler) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/", h)
	for pattern, hh := range extra {
		mux.Handle(pattern, hh)
	}
	srv := httptest.NewServer(mux) // listens on 127.0.0.1
	t.Cleanup(func() {
		_ = h.Close()
		srv.Close()
	})
	return srv.URL + "/"
}

// UserJar is a fresh cookie jar (a browser or device of its own) logged in
// as user at serverURL.
func UserJar(t testing.TB, serverURL, user string) http.CookieJar {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(serverURL)
	if err != nil {
		t.Fatal(err)
	}
	jar.SetCookies(u, []*http.Cookie{{Name: UserCookie, Value: user, Path: "/"}})
	return jar
}

// NotBefore reads tab's stream until an event shows marker and fails the
// test if the tab, or any event up to and including that one, showed
// forbidden. A connection's events arrive in the order its actions ran, so
// this checks that no action producing forbidden ran on the connection
// before the one producing marker. It reads events, not just what the tab
// shows, so it also works after tab.Act applied marker's response.
func NotBefore(t testing.TB, tab *lttest.Tab, forbidden, marker string) {
	t.Helper()
	if strings.Contains(tab.HTML(), forbidden) {
		t.Fatalf("%v shows %q:\n%s", tab, forbidden, tab.HTML())
	}
	for {
		ev := tab.Next() // bounded by lttest.Timeout
		if strings.Contains(ev.HTML, forbidden) {
			t.Fatalf("%v got %q before (or with) %q:\n%s", tab, forbidden, marker, ev.HTML)
		}
		if strings.Contains(ev.HTML, marker) {
			return
		}
	}
}
