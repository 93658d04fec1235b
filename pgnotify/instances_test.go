package pgnotify_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
)

// Two instances of one app in one process, joined only by Postgres.
func TestTriggerGroupAndSyncAcrossInstances(t *testing.T) {
	is := is.New(t)
	db := newDB(t)
	a, b := newInstance(t, db, "a"), newInstance(t, db, "b")
	tabA := lttest.Open(t, a.URL+"/page")
	tabB := lttest.Open(t, b.URL+"/page", lttest.WithJar(sameSession(t, tabA, a.URL, b.URL)))
	is.True(strings.HasPrefix(tabA.Conn(), "a."))
	is.True(strings.HasPrefix(tabB.Conn(), "b."))
	group := sessionGroup(t, tabA, a.URL)

	is.NoErr(b.H.TriggerSession(context.Background(), group, "increment", nil)) // from instance b ...
	tabA.WaitFor("n=1")                                                         // ... reaches the tab on a
	tabB.WaitFor("n=1")

	// A client action on a runs Sync on the tab on b.
	tabA.Act("increment", nil)
	tabB.WaitFor("msg=synced after increment")

	// BroadcastAction reaches the tab of the session on the other instance.
	tabA.Act("broadcast", nil)
	tabB.WaitFor("msg=from another tab")

	// Another session's tab on b got nothing of this.
	stranger := lttest.Open(t, b.URL+"/page")
	is.NoErr(a.H.TriggerSession(context.Background(), sessionGroup(t, stranger, b.URL), "set_msg", map[string]any{"msg": "for the stranger"}))
	ev := stranger.WaitFor("msg=for the stranger")
	is.Equal(ev.Seq, uint64(1))
	is.True(strings.Contains(ev.HTML, "n=0"))
}

func TestTriggerUserAcrossInstances(t *testing.T) {
	is := is.New(t)
	auth := lt.AuthenticatorFunc(func(r *http.Request) (lt.Identity, error) {
		return lt.Identity{UserID: r.URL.Query().Get("user")}, nil
	})
	db := newDB(t)
	a := newInstanceWith(t, db, "a", nil, []lt.Option{lt.WithAuthenticator(auth)})
	b := newInstanceWith(t, db, "b", nil, []lt.Option{lt.WithAuthenticator(auth)})
	ann := lttest.Open(t, b.URL+"/page?user=ann")
	bob := lttest.Open(t, b.URL+"/page?user=bob")
	is.NoErr(a.H.TriggerUser(context.Background(), "ann", "set_msg", map[string]any{"msg": "hi ann"}))
	ann.WaitFor("msg=hi ann")
	is.NoErr(a.H.TriggerUser(context.Background(), "bob", "set_msg", map[string]any{"msg": "hi bob"}))
	ev := bob.Next()
	is.Equal(ev.Seq, uint64(1)) // ann's message never reached bob
	is.True(strings.Contains(ev.HTML, "msg=hi bob"))
}

// No sticky sessions: a POST that lands on the instance that does not hold
// the tab's connection is forwarded through Postgres to the one that does.
func TestPostForwardedToOwningInstance(t *testing.T) {
	is := is.New(t)
	db := newDB(t)
	a, b := newInstance(t, db, "a"), newInstance(t, db, "b")
	awaitPeers(t, a.L, b.L) // b forwards to a only once it knows a is live
	tab := lttest.Open(t, a.URL+"/page")
	jar := sameSession(t, tab, a.URL, b.URL)

	viaB := lttest.Get(t, b.URL+"/page", lttest.WithJar(jar)) // same browser, balanced to b
	r := viaB.ActAs(tab.Conn(), "add_item", url.Values{"item": {"forwarded"}})
	is.Equal(r.Status, http.StatusAccepted)
	tab.WaitFor("<li>forwarded</li>")

	// Another session cannot use the forwarding to act on the tab.
	stranger := lttest.Get(t, b.URL+"/page")
	is.Equal(stranger.ActAs(tab.Conn(), "add_item", url.Values{"item": {"evil"}}).Status, http.StatusAccepted)
	r = tab.Act("set_msg", url.Values{"msg": {"after"}})
	is.True(!strings.Contains(r.HTML, "evil"))

	// A connection id naming no live instance is gone (410), and its large
	// body is stored nowhere.
	for range 3 {
		r = viaB.ActAs("ghost."+strings.Repeat("c", 22), "add_item", url.Values{"item": {strings.Repeat("x", 100000)}})
		is.Equal(r.Status, http.StatusGone)
	}
	var rows int
	is.NoErr(db.QueryRow(waitCtx(t), "SELECT count(*) FROM lt_messages").Scan(&rows))
	is.Equal(rows, 0)
}

// TriggerAll reaches every tab of the page on every instance, and the
// sender's own tabs only once (the sender never gets its message back).
func TestTriggerAllAcrossInstances(t *testing.T) {
	is := is.New(t)
	db := newDB(t)
	a, b := newInstance(t, db, "a"), newInstance(t, db, "b")
	t1 := lttest.Open(t, a.URL+"/page")
	t2 := lttest.Open(t, b.URL+"/page")
	is.NoErr(a.H.TriggerAll(context.Background(), "increment", nil))
	t1.WaitFor("n=1")
	t2.WaitFor("n=1")
	// Had a applied its own message a second time, t1 would show n=2
	// before n=3.
	is.NoErr(b.H.TriggerAll(context.Background(), "increment", nil))
	is.NoErr(b.H.TriggerAll(context.Background(), "set_msg", map[string]any{"msg": "marker"}))
	ev := t1.WaitFor("msg=marker")
	is.True(strings.Contains(ev.HTML, "n=2"))
	is.Equal(ev.Seq, uint64(3))
}
