package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/livesse/livesse/internal/test/signin"
	"github.com/livesse/livesse/lt/ltbrowser"
	"github.com/matryer/is"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBrowserWebhookReachesTheUsersTabs(t *testing.T) {
	is := is.New(t)
	router, h, err := newRouter()
	is.NoErr(err)
	srv := ltbrowser.Serve(t, router, h)
	page := srv.URL + "/"

	// Alice on one device with two tabs; Bob on another device.
	alice := ltbrowser.New(t)
	is.NoErr(signin.SignIn(alice, page, "alice"))
	aliceTab2 := ltbrowser.NewTab(t, alice)
	is.NoErr(signin.OpenSignedIn(aliceTab2, page, "alice"))
	bob := ltbrowser.NewDevice(t, alice)
	is.NoErr(signin.SignIn(bob, page, "bob"))

	is.Equal(postWebhook(t, srv.URL, `{"user":"alice","message":"Build 42 passed"}`), http.StatusAccepted)
	for _, tab := range []context.Context{alice, aliceTab2} {
		is.NoErr(ltbrowser.WaitTextContains(tab, "#inbox", "Build 42 passed"))
		is.NoErr(ltbrowser.WaitText(tab, "#latest", "New: Build 42 passed"))
	}

	// Bob's own webhook reaches him. Alice's, which was triggered before
	// it, would have been applied to his tab first: it never was.
	is.Equal(postWebhook(t, srv.URL, `{"user":"bob","message":"Deploy done"}`), http.StatusAccepted)
	is.NoErr(ltbrowser.WaitTextContains(bob, "#inbox", "Deploy done"))
	is.Equal(inbox(t, bob), []string{"Deploy done"})

	// Webhooks arriving concurrently, from many goroutines, all land.
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			body := fmt.Sprintf(`{"user":"alice","message":"job %d done"}`, i)
			if status := postWebhook(t, srv.URL, body); status != http.StatusAccepted {
				t.Errorf("webhook %d: status %d", i, status)
			}
		})
	}
	wg.Wait()
	for _, tab := range []context.Context{alice, aliceTab2} {
		is.NoErr(ltbrowser.Wait(tab, "11 notifications", `document.querySelectorAll("#inbox li").length === 11`,
			`document.querySelectorAll("#inbox li").length + " notifications"`))
	}
	got := inbox(t, aliceTab2)
	for i := range 10 {
		is.True(strings.Contains(strings.Join(got, "|"), fmt.Sprintf("job %d done", i))) // every concurrent webhook is shown
	}
	is.Equal(inbox(t, alice), got) // both tabs show the same list

	// Carol has no tab open: TriggerUser does nothing, but the inbox keeps
	// the message, so the page she opens later shows it (from Mount).
	is.Equal(postWebhook(t, srv.URL, `{"user":"carol","message":"while you were away"}`), http.StatusAccepted)
	carol := ltbrowser.NewDevice(t, alice)
	is.NoErr(signin.SignIn(carol, page, "carol"))
	is.Equal(inbox(t, carol), []string{"while you were away"})

	// Clearing in one tab clears the user's other tabs (Sync).
	is.NoErr(ltbrowser.Do(alice, chromedp.Click(chromedp.ID("clear"))))
	is.NoErr(ltbrowser.WaitText(alice, "#empty", "Nothing yet."))
	is.NoErr(ltbrowser.WaitText(aliceTab2, "#empty", "Nothing yet."))
	is.Equal(inbox(t, bob), []string{"Deploy done"}) // not Bob's
}

func TestBrowserMalformedWebhooksChangeNothing(t *testing.T) {
	is := is.New(t)
	router, h, err := newRouter()
	is.NoErr(err)
	srv := ltbrowser.Serve(t, router, h)
	alice := ltbrowser.New(t)
	is.NoErr(signin.SignIn(alice, srv.URL+"/", "alice"))

	for _, tc := range []struct{ name, body, want string }{
		{"empty body", ``, "empty body"},
		{"not JSON", `user=alice&message=hi`, "malformed JSON"},
		{"truncated", `{"user":"alice","message":"half`, "truncated JSON"},
		{"trailing data", `{"user":"alice","message":"one"} {"user":"alice","message":"two"}`, "nothing after it"},
		{"missing user", `{"message":"for nobody"}`, `missing field "user"`},
		{"bad user", `{"user":"../alice","message":"sneaky"}`, `field "user" must be`},
		{"missing message", `{"user":"alice"}`, `missing field "message"`},
		{"blank message", `{"user":"alice","message":"   "}`, `missing field "message"`},
		{"message not a string", `{"user":"alice","message":42}`, `field "message" must be a JSON string`},
		{"message too long", `{"user":"alice","message":"` + strings.Repeat("x", 501) + `"}`, "over 500 characters"},
		{"oversize body", `{"user":"alice","message":"` + strings.Repeat("x", 5000) + `"}`, "body over 4096 bytes"},
	} {
		resp, err := http.Post(srv.URL+"/webhook", "application/json", strings.NewReader(tc.body))
		is.NoErr(err)
		var answer struct{ Error string }
		is.NoErr(json.NewDecoder(resp.Body).Decode(&answer))
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(answer.Error, tc.want) {
			t.Errorf("%s: %d %q, want 400 with %q", tc.name, resp.StatusCode, answer.Error, tc.want)
		}
	}

	// A good webhook after all of them: it is the only notification. Any
	// bad one that had got through would have been triggered before it.
	is.Equal(postWebhook(t, srv.URL, `{"user":"alice","message":"the good one"}`), http.StatusAccepted)
	is.NoErr(ltbrowser.WaitTextContains(alice, "#inbox", "the good one"))
	is.Equal(inbox(t, alice), []string{"the good one"})
}

// postWebhook posts body to the app's webhook and returns the status.
func postWebhook(t *testing.T, base, body string) int {
	t.Helper()
	resp, err := http.Post(base+"/webhook", "application/json", strings.NewReader(body))
	if err != nil {
		t.Errorf("posting the webhook: %v", err)
		return 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// inbox returns the messages the tab of ctx shows, newest first.
func inbox(t *testing.T, ctx context.Context) []string {
	t.Helper()
	msgs, err := ltbrowser.Eval[[]string](ctx, `[...document.querySelectorAll("#inbox .msg")].map((e) => e.textContent)`)
	is.New(t).NoErr(err)
	return msgs
}
