package timer

import (
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

// Every tab's OnConnect starts a 1 s ticker whose TriggerAction("tick")
// reaches every tab of the session and no other session.
//
// A ticker fires at most once a second and never early, so a tab that has
// counted n ticks less than n seconds after it was opened has received
// ticks from some other tab's ticker. Both sessions start within
// milliseconds of each other:
//   - session A has two tabs (two tickers, each reaching both tabs): each of
//     its tabs counts 4 after about 2 s, where its own ticker alone would
//     need 4 s;
//   - session C has one tab: it counts 2 no sooner than 2 s after opening;
//     had A's ticks leaked into it, it would get there in about 1 s.
func TestTimerTicksEveryTabOfTheSessionAndNoOtherSession(t *testing.T) {
	is := is.New(t)
	page := lt.Must(lt.Parse("page", `<p>seconds=<b>{{.Seconds}}</b></p>`))
	h, err := lt.New(page, &TimerController{}, TimerState{})
	is.NoErr(err)
	u := snippettest.Serve(t, h, nil)

	startA := time.Now()
	a1 := lttest.Open(t, u)
	a2 := lttest.Open(t, u, lttest.WithJar(a1.Jar())) // same session
	startC := time.Now()
	c := lttest.Open(t, u) // a session of its own

	c.WaitFor("<b>2</b>")
	elapsedC := time.Since(startC)
	is.True(elapsedC >= 2*time.Second) // only C's own ticker reaches C

	a1.WaitFor("<b>4</b>")
	a2.WaitFor("<b>4</b>")
	elapsedA := time.Since(startA)
	t.Logf("session C counted 2 after %v; both tabs of session A counted 4 after %v", elapsedC, elapsedA)
	is.True(elapsedA < 4*time.Second) // each tab of A gets the other tab's ticks too

	// Reset is an ordinary client action on the timer's state.
	is.Equal(a1.Act("reset", nil).Status, 200)
	is.True(strings.Contains(a1.HTML(), "<b>0</b>"))
}

// That each runTimer ends with its connection (and with Handler.Close),
// without a race, is tested in lt (ticker_test.go) on the same
// controller shape, waiting on events rather than scanning goroutine
// stacks, which made this package's version flaky.
