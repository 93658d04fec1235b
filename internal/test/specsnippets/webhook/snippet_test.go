package webhook

import (
	"net/http"
	"strings"
	"testing"

	"github.com/livesse/livesse/internal/test/specsnippets/internal/snippettest"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func postWebhook(t *testing.T, url, body string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("webhook: %s", resp.Status)
	}
}

// A webhook for a user reaches, through the Session stored during
// OnConnect, every tab of that user and nobody else.
func TestWebhookReachesTheUsersSession(t *testing.T) {
	is := is.New(t)
	page := lt.Must(lt.Parse("page", `<ul>{{range .Notifications}}<li>{{.}}</li>{{end}}</ul>`))
	h, err := lt.New(page, &InboxController{}, InboxState{}, lt.WithAuthenticator(snippettest.ByUserCookie))
	is.NoErr(err)
	u := snippettest.Serve(t, h, map[string]http.Handler{"POST /webhook": http.HandlerFunc(handleWebhook)})
	hook := u + "webhook"

	alice := lttest.Open(t, u, lttest.WithJar(snippettest.UserJar(t, u, "alice")))
	alicePhone := lttest.Open(t, u, lttest.WithJar(snippettest.UserJar(t, u, "alice")))
	bob := lttest.Open(t, u, lttest.WithJar(snippettest.UserJar(t, u, "bob")))
	for _, tab := range []*lttest.Tab{alice, alicePhone, bob} {
		is.Equal(tab.Act("ping", nil).Status, 200) // OnConnect has stored the session
	}
	is.True(getUserSession("alice") != nil)
	is.True(getUserSession("carol") == nil)

	postWebhook(t, hook, `{"user_id":"alice","message":"Build 42 passed"}`)
	alice.WaitFor("<li>webhook: Build 42 passed</li>")
	alicePhone.WaitFor("<li>webhook: Build 42 passed</li>")

	postWebhook(t, hook, `{"user_id":"carol","message":"nobody home"}`) // no session: just 200
	postWebhook(t, hook, `{"user_id":"bob","message":"Deploy done"}`)
	// Bob gets his own notification, and alice's never came before it.
	snippettest.NotBefore(t, bob, "Build 42", "<li>webhook: Deploy done</li>")
	is.True(!strings.Contains(bob.HTML(), "nobody home"))
}
