package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/livesse/livesse/internal/test/signin"
	"github.com/livesse/livesse/lt/ltbrowser"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBrowserRoomStaysConsistent(t *testing.T) {
	is := is.New(t)
	router, h, err := newRouter()
	is.NoErr(err)
	srv := ltbrowser.Serve(t, router, h)
	lobby := srv.URL + "/rooms/lobby"

	// Alice with two tabs, Bob on another device, all in #lobby; Carol in
	// #other.
	alice1 := ltbrowser.New(t)
	is.NoErr(signin.SignIn(alice1, lobby, "alice"))
	alice2 := ltbrowser.NewTab(t, alice1)
	is.NoErr(signin.OpenSignedIn(alice2, lobby, "alice"))
	bob := ltbrowser.NewDevice(t, alice1)
	is.NoErr(signin.SignIn(bob, lobby, "bob"))
	carol := ltbrowser.NewDevice(t, alice1)
	is.NoErr(signin.SignIn(carol, srv.URL+"/rooms/other", "carol"))
	room := []context.Context{alice1, alice2, bob}

	// A message sent in one tab reaches the room's other tabs (Sync), of
	// both users.
	is.NoErr(ltbrowser.Do(alice1, ltbrowser.FillAndClick("#send", map[string]string{"#text": "hello from alice"})))
	for _, tab := range room {
		is.NoErr(waitMessages(tab, 1))
		is.Equal(messages(t, tab), []string{"alice: hello from alice"})
	}
	value, err := ltbrowser.Eval[string](alice1, `document.querySelector("#text").value`)
	is.NoErr(err)
	is.Equal(value, "") // the sent text left the box

	// Three tabs each send three messages at once: every tab ends with the
	// same ten messages, in the same order.
	for i, tab := range room {
		_, err := ltbrowser.Eval[chromedp.Void](tab, fmt.Sprintf(`for (let n = 1; n <= 3; n++) {
			document.querySelector("#text").value = "tab %d says " + n;
			document.querySelector("#send").click();
		}`, i+1))
		is.NoErr(err)
	}
	for _, tab := range room {
		is.NoErr(waitMessages(tab, 10))
	}
	want := messages(t, alice1)
	is.Equal(messages(t, alice2), want)
	is.Equal(messages(t, bob), want)
	for i := range 3 {
		for n := 1; n <= 3; n++ {
			is.True(strings.Contains(strings.Join(want, "\n"), fmt.Sprintf("tab %d says %d", i+1, n))) // no message lost
		}
	}

	// Another room is another session: Carol sees only her room.
	is.NoErr(ltbrowser.Do(carol, ltbrowser.FillAndClick("#send", map[string]string{"#text": "carol here"})))
	is.NoErr(waitMessages(carol, 1))
	is.Equal(messages(t, carol), []string{"carol: carol here"})

	// A wave is broadcast to the room's other tabs.
	is.NoErr(ltbrowser.Do(bob, chromedp.Click(chromedp.ID("wave"))))
	is.NoErr(ltbrowser.WaitText(bob, "#notice", "You waved at the room."))
	is.NoErr(ltbrowser.WaitText(alice1, "#notice", "bob waved 👋"))
	is.NoErr(ltbrowser.WaitText(alice2, "#notice", "bob waved 👋"))
	is.NoErr(ltbrowser.Do(alice2, chromedp.Click(chromedp.ID("wave"))))
	is.NoErr(ltbrowser.WaitText(alice1, "#notice", "You waved at the room (from another tab)."))
	is.NoErr(ltbrowser.WaitText(bob, "#notice", "alice waved 👋"))
	// Carol, in another room, got neither the waves nor the lobby's
	// messages: her next update shows her room as it was.
	is.NoErr(ltbrowser.Do(carol, ltbrowser.FillAndClick("#send", map[string]string{"#text": "anyone?"})))
	is.NoErr(waitMessages(carol, 2))
	is.Equal(messages(t, carol), []string{"carol: carol here", "carol: anyone?"})
	present, err := ltbrowser.Eval[bool](carol, `document.querySelector("#notice") !== null`)
	is.NoErr(err)
	is.True(!present)
	for _, tab := range room {
		is.Equal(len(messages(t, tab)), 10) // and the lobby never saw hers
	}
}

func TestWavedCannotBePosted(t *testing.T) {
	is := is.New(t)
	router, h, err := newRouter()
	is.NoErr(err)
	srv := httptest.NewServer(router)
	t.Cleanup(func() { _ = h.Close(); srv.Close() })
	lobby := srv.URL + "/rooms/lobby"

	mallory := lttest.Open(t, lobby, lttest.WithJar(userJar(t, srv.URL, "mallory")))
	alice := lttest.Open(t, lobby, lttest.WithJar(userJar(t, srv.URL, "alice")))
	r := mallory.Act("waved", url.Values{"from": {"the admin"}})
	is.Equal(r.Status, http.StatusUnprocessableEntity)
	is.True(strings.Contains(r.Error, "waved is sent by the server"))
	// Nor did the refused action reach Alice: her next update is mallory's
	// real message, without any wave before it.
	is.Equal(mallory.Act("send", url.Values{"text": {"hi"}}).Status, http.StatusOK)
	ev := alice.WaitFor("hi</span>")
	is.True(!strings.Contains(ev.HTML, "waved"))

	// A room name that is not one is a 404.
	resp, err := http.Get(srv.URL + "/rooms/No%20Such%20Room")
	is.NoErr(err)
	resp.Body.Close()
	is.Equal(resp.StatusCode, http.StatusNotFound)
}

// messages returns what the tab of ctx shows, as "from: text" lines.
func messages(t *testing.T, ctx context.Context) []string {
	t.Helper()
	msgs, err := ltbrowser.Eval[[]string](ctx, `[...document.querySelectorAll("#messages li[id^=m-]")].map(
		(li) => li.querySelector(".from").textContent + ": " + li.querySelector(".text").textContent)`)
	is.New(t).NoErr(err)
	return msgs
}

func waitMessages(ctx context.Context, n int) error {
	return ltbrowser.Wait(ctx, fmt.Sprintf("%d messages", n),
		fmt.Sprintf(`document.querySelectorAll("#messages li[id^=m-]").length === %d`, n),
		`document.querySelectorAll("#messages li[id^=m-]").length + " messages"`)
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
