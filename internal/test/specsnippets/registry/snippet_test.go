package registry

import (
	"strings"
	"testing"

	"github.com/livesse/livesse/internal/test/specsnippets/internal/snippettest"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// OnConnect registers the user's Session; NotifyUser, called from outside
// any controller, reaches every tab of that user and no other user; the
// snippet's OnDisconnect removes the entry again.
func TestNotifyUserReachesTheUsersTabs(t *testing.T) {
	is := is.New(t)
	page := lt.Must(lt.Parse("page", `<ul>{{range .Notifications}}<li>{{.}}</li>{{end}}</ul>`))
	h, err := lt.New(page, &Controller{}, State{}, lt.WithAuthenticator(snippettest.ByUserCookie))
	is.NoErr(err)
	u := snippettest.Serve(t, h, nil)

	alice := lttest.Open(t, u, lttest.WithJar(snippettest.UserJar(t, u, "alice")))
	alicePhone := lttest.Open(t, u, lttest.WithJar(snippettest.UserJar(t, u, "alice")))
	bob := lttest.Open(t, u, lttest.WithJar(snippettest.UserJar(t, u, "bob")))
	for _, tab := range []*lttest.Tab{alice, alicePhone, bob} {
		is.Equal(tab.Act("ping", nil).Status, 200) // OnConnect has run
	}
	_, ok := userSessions.Load("alice")
	is.True(ok)
	_, ok = userSessions.Load("bob")
	is.True(ok)

	NotifyUser("alice", "Your report is ready")
	alice.WaitFor("<li>Your report is ready</li>")
	alicePhone.WaitFor("<li>Your report is ready</li>")

	NotifyUser("carol", "nobody home") // not connected: nothing happens
	NotifyUser("bob", "Hello bob")
	snippettest.NotBefore(t, bob, "Your report is ready", "<li>Hello bob</li>")
	is.True(!strings.Contains(bob.HTML(), "nobody home"))

	// Every connection ended: OnDisconnect deleted the users' entries.
	is.NoErr(h.Close())
	_, ok = userSessions.Load("alice")
	is.True(!ok)
	_, ok = userSessions.Load("bob")
	is.True(!ok)
}
