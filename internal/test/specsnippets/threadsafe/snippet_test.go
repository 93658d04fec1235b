package threadsafe

import (
	"net/url"
	"testing"

	"github.com/livesse/livesse/internal/test/specsnippets/internal/snippettest"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newHandler(t *testing.T) (*lt.Handler, string) {
	t.Helper()
	page := lt.Must(lt.Parse("page", `<p>update1={{.Update1s}} update2={{.Update2s}} update={{.Updates}}</p>`))
	h, err := lt.New(page, &Controller{}, State{})
	if err != nil {
		t.Fatal(err)
	}
	return h, snippettest.Serve(t, h, nil)
}

// 50 runs of the fragment: 100 goroutines call TriggerAction on one
// Session at once, and every action is applied exactly once, on every tab
// of the session (run under -race).
func TestConcurrentTriggerActionsAllApply(t *testing.T) {
	is := is.New(t)
	_, u := newHandler(t)
	tab := lttest.Open(t, u)
	other := lttest.Open(t, u, lttest.WithJar(tab.Jar()))

	is.Equal(tab.Act("burst", url.Values{"n": {"50"}}).Status, 200)
	const all = "update1=50 update2=50 update=0"
	tab.WaitFor(all)
	other.WaitFor(all)

	// triggerFromBackground, from a goroutine of its own, adds one "update";
	// the counts seen with it show no update1/update2 was applied twice.
	is.Equal(tab.Act("background", nil).Status, 200)
	tab.WaitFor("update1=50 update2=50 update=1")
	other.WaitFor("update1=50 update2=50 update=1")
}

// OnDisconnect clears the session field while a background goroutine
// reads it: RaceDisconnect's goroutine wakes when the connection ends and
// runs triggerFromBackground as OnDisconnect runs. Only the snippet's mutex
// orders the two; without it the race detector reports the field (checked
// by removing the Lock/Unlock pairs).
func TestSessionFieldGuardedAgainstDisconnect(t *testing.T) {
	is := is.New(t)
	h, u := newHandler(t)
	for range 5 {
		tab := lttest.Open(t, u)
		is.Equal(tab.Act("raceDisconnect", nil).Status, 200)
	}
	is.NoErr(h.Close())
}
