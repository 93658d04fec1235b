package timer

import (
	"runtime"
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
// reaches every tab of the session group and no other session.
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

// runTimers counts the goroutines running runTimer.
func runTimers() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Count(string(buf[:n]), "timer.(*TimerController).runTimer(")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// waitRunTimers waits, with a bound, until want runTimer goroutines run.
func waitRunTimers(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(lttest.Timeout)
	poll := time.NewTicker(5 * time.Millisecond)
	defer poll.Stop()
	for {
		got := runTimers()
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d runTimer goroutines, want %d", got, want)
		}
		<-poll.C
	}
}

// Closing the handler ends every connection: each runTimer returns on
// ctx.Done() ("return // Connection closed") and OnDisconnect runs.
func TestTimerStopsWithItsConnection(t *testing.T) {
	is := is.New(t)
	page := lt.Must(lt.Parse("page", `<p>seconds=<b>{{.Seconds}}</b></p>`))
	h, err := lt.New(page, &TimerController{}, TimerState{})
	is.NoErr(err)
	u := snippettest.Serve(t, h, nil)
	base := runTimers()
	a1 := lttest.Open(t, u)
	lttest.Open(t, u, lttest.WithJar(a1.Jar()))
	lttest.Open(t, u)
	waitRunTimers(t, base+3)

	is.NoErr(h.Close())
	waitRunTimers(t, base)
}

// One tab's timer ends with that tab's connection while the other tab's
// keeps ticking.
func TestTimerStopsPerTab(t *testing.T) {
	is := is.New(t)
	page := lt.Must(lt.Parse("page", `<p>seconds=<b>{{.Seconds}}</b></p>`))
	h, err := lt.New(page, &TimerController{}, TimerState{}, lt.WithReconnectGrace(20*time.Millisecond))
	is.NoErr(err)
	u := snippettest.Serve(t, h, nil)
	base := runTimers()
	a1 := lttest.Open(t, u)
	a2 := lttest.Open(t, u, lttest.WithJar(a1.Jar()))
	waitRunTimers(t, base+2)

	a1.Close() // the tab goes away; its connection ends after the grace
	waitRunTimers(t, base+1)
	// a2's own ticker still drives it.
	is.Equal(a2.Act("reset", nil).Status, 200)
	is.True(strings.Contains(a2.HTML(), "<b>0</b>"))
	a2.WaitFor("<b>1</b>")

	is.NoErr(h.Close()) // DATA RACE reported here, against lt.(*Handler).closeConn
	waitRunTimers(t, base)
}
