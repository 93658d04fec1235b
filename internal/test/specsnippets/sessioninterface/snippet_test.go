package sessioninterface

import (
	"errors"
	"net/url"
	"reflect"
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

// The doc's Session interface is lt.Session's method set, method for method
// (the compile-time assignments in support.go say the same).
func TestSessionInterfaceIsLtSession(t *testing.T) {
	is := is.New(t)
	doc, ours := reflect.TypeFor[Session](), reflect.TypeFor[lt.Session]()
	is.Equal(ours.NumMethod(), 1)
	is.Equal(doc.NumMethod(), ours.NumMethod())
	for i := range ours.NumMethod() {
		is.Equal(ours.Method(i).Name, doc.Method(i).Name)
		is.Equal(ours.Method(i).Type, doc.Method(i).Type)
	}
	is.True(ours.ConvertibleTo(doc))
	is.True(doc.ConvertibleTo(ours))
}

func recvSession(t *testing.T, sessions <-chan lt.Session) lt.Session {
	t.Helper()
	select {
	case s := <-sessions:
		return s
	case <-time.After(lttest.Timeout):
		t.Fatal("OnConnect did not hand over a Session")
		return nil
	}
}

// The first snippet, run from a goroutine of its own, dispatches the
// "notification" action to every connection of the user (two devices) and
// to no other user; a client POST of the same action runs the same method.
func TestTriggerActionFromAnyGoroutineReachesAllConnectionsOfTheUser(t *testing.T) {
	is := is.New(t)
	sessions := make(chan lt.Session, 8)
	page := lt.Must(lt.Parse("page", `<ul>{{range .Notices}}<li>{{.}}</li>{{end}}</ul>`))
	h, err := lt.New(page, &NoticeController{sessions: sessions}, NoticeState{},
		lt.WithAuthenticator(snippettest.ByUserCookie))
	is.NoErr(err)
	u := snippettest.Serve(t, h, nil)

	laptop := lttest.Open(t, u, lttest.WithJar(snippettest.UserJar(t, u, "alice")))
	alice := recvSession(t, sessions)
	phone := lttest.Open(t, u, lttest.WithJar(snippettest.UserJar(t, u, "alice")))
	recvSession(t, sessions)
	bob := lttest.Open(t, u, lttest.WithJar(snippettest.UserJar(t, u, "bob")))
	recvSession(t, sessions)

	done := make(chan struct{})
	go func() {
		defer close(done)
		notifyExportReady(alice) // the doc's snippet
	}()
	const ready = "<li>Your export is ready!</li>"
	laptop.WaitFor(ready)
	phone.WaitFor(ready)
	<-done // TriggerAction has queued the action on every connection of alice

	// Bob's connection got nothing: the first action it runs is his own
	// click, which runs the same Notification method as the server action.
	r := bob.Act("notification", url.Values{"message": {"Your export is ready!"}})
	is.Equal(r.Status, 200)
	is.Equal(strings.Count(r.HTML, ready), 1) // exactly one: the client action's

	// The error TriggerAction returns: nil above, and for a name that is not
	// an action, ErrUnknownAction.
	is.NoErr(alice.TriggerAction("notification", map[string]interface{}{"message": "again"}))
	is.True(errors.Is(alice.TriggerAction("noSuchAction", nil), lt.ErrUnknownAction))
	laptop.WaitFor("<li>again</li>")
}

// Client Action (from Tab 1): Tab 1 gets the update, the other tabs of the
// session get a Sync dispatch; a tab of another session gets none.
func TestClientActionSyncsTheOtherTabsOfTheSession(t *testing.T) {
	is := is.New(t)
	page := lt.Must(lt.Parse("page", `<p>clicks={{.Clicks}} synced={{.Synced}} last={{.LastSync}}</p>`))
	h, err := lt.New(page, &SyncController{}, ScopeState{})
	is.NoErr(err)
	u := snippettest.Serve(t, h, nil)
	tab1 := lttest.Open(t, u)
	tab2 := lttest.Open(t, u, lttest.WithJar(tab1.Jar()))
	other := lttest.Open(t, u)

	r := tab1.Act("click", nil)
	is.Equal(r.Status, 200)
	is.True(strings.Contains(r.HTML, "clicks=1 synced=0"))
	tab2.WaitFor("clicks=0 synced=1 last=click")
	// No Sync was queued for tab1 itself nor for the other session: their
	// next action would run after it and show it.
	r = tab1.Act("click", nil)
	is.True(strings.Contains(r.HTML, "clicks=2 synced=0"))
	r = other.Act("click", nil)
	is.True(strings.Contains(r.HTML, "clicks=1 synced=0"))
	tab2.WaitFor("clicks=0 synced=2 last=click")
}

// Without Sync, ctx.BroadcastAction runs an action on the other tabs.
func TestBroadcastActionReachesTheOtherTabs(t *testing.T) {
	is := is.New(t)
	page := lt.Must(lt.Parse("page", `<p>heard={{range .Heard}}[{{.}}]{{end}}</p>`))
	h, err := lt.New(page, &BroadcastController{}, ScopeState{})
	is.NoErr(err)
	u := snippettest.Serve(t, h, nil)
	tab1 := lttest.Open(t, u)
	tab2 := lttest.Open(t, u, lttest.WithJar(tab1.Jar()))
	other := lttest.Open(t, u)

	is.Equal(tab1.Act("say", url.Values{"what": {"hi"}}).Status, 200)
	tab2.WaitFor("heard=[hi]")
	r := tab1.Act("hear", url.Values{"what": {"me"}})
	is.True(strings.Contains(r.HTML, "heard=[me]")) // the sender did not hear itself
	r = other.Act("hear", url.Values{"what": {"me"}})
	is.True(strings.Contains(r.HTML, "heard=[me]")) // nor did another session
}
