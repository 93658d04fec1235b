package welcome

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/livesse/livesse/internal/test/specsnippets/internal/snippettest"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A logged-in user's page renders first, without the welcome; the welcome
// arrives over the stream after the snippet's 500 ms delay, on every tab of
// the user. An anonymous visitor gets no welcome.
func TestWelcomeArrivesAfterConnectForALoggedInUser(t *testing.T) {
	is := is.New(t)
	page := lt.Must(lt.Parse("page", `<p>in={{.IsLoggedIn}} user={{.Username}} welcome=[{{.WelcomeMessage}}]</p>`))
	h, err := lt.New(page, &AuthController{}, AuthState{}, lt.WithAuthenticator(snippettest.ByUserCookie))
	is.NoErr(err)
	u := snippettest.Serve(t, h, nil)

	anon := lttest.Open(t, u)
	is.True(strings.Contains(anon.HTML(), "in=false user= welcome=[]"))

	start := time.Now()
	alice := lttest.Open(t, u, lttest.WithJar(snippettest.UserJar(t, u, "alice")))
	is.True(strings.Contains(alice.HTML(), "in=true user=alice welcome=[]")) // Mount ran; page rendered first
	alice.WaitFor("welcome=[Welcome back, alice!]")
	elapsed := time.Since(start)
	t.Logf("welcome after %v", elapsed)
	is.True(elapsed >= 500*time.Millisecond) // after the delay, not with the page

	// A second device of alice: its own welcome (another 500 ms) goes to
	// the whole session, the first device included.
	phone := lttest.Open(t, u, lttest.WithJar(snippettest.UserJar(t, u, "alice")))
	is.True(strings.Contains(phone.HTML(), "in=true user=alice welcome=[]"))
	phone.WaitFor("welcome=[Welcome back, alice!]")

	// The anonymous tab connected over a second before now: had its
	// OnConnect started a welcome, it would have run before this action.
	r := anon.Act("serverWelcome", url.Values{"message": {"marker"}})
	is.Equal(r.Status, 200)
	snippettest.NotBefore(t, anon, "Welcome back", "welcome=[marker]")
}
