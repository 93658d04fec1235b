package timer

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/livesse/livesse/internal/specsnippets/internal/snippettest"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
)

// A regression test for a package lt defect: the reconnect-grace timer ended
// a connection (conn.close does h.wg.Add(1) for OnDisconnect) with nothing
// ordering that before a later Handler.Close's h.wg.Wait, so -race reported
// a DATA RACE and Close could return before that OnDisconnect ran. lt now
// ends connections under the handler's lock.

type holdState struct{}

// holdController: Hold runs until release is closed (so that Close has work
// to wait for); every connection starts a goroutine that lives until the
// connection ends.
type holdController struct{ release chan struct{} }

func (c *holdController) OnConnect(state holdState, ctx *lt.Context) (holdState, error) {
	go untilConnectionEnds(ctx.Done())
	return state, nil
}

func (c *holdController) OnDisconnect() {}

func (c *holdController) Hold(state holdState, ctx *lt.Context) (holdState, error) {
	<-c.release
	return state, nil
}

func untilConnectionEnds(done <-chan struct{}) { <-done }

func stacks() string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return string(buf[:n])
		}
		buf = make([]byte, 2*len(buf))
	}
}

// waitStacks polls the goroutine stacks, with a bound, until ok says so.
func waitStacks(t *testing.T, what string, ok func(string) bool) {
	t.Helper()
	deadline := time.Now().Add(lttest.Timeout)
	poll := time.NewTicker(2 * time.Millisecond)
	defer poll.Stop()
	for !ok(stacks()) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, lttest.Timeout)
		}
		<-poll.C
	}
}

func TestCloseAfterGraceExpiry(t *testing.T) {
	// The race detector drops a report when it can no longer restore the
	// finished timer goroutine's stack, so one round reports it about
	// two times in three; five rounds almost always.
	for range 5 {
		closeAfterGraceExpiry(t)
	}
}

func closeAfterGraceExpiry(t *testing.T) {
	is := is.New(t)
	release := make(chan struct{})
	page := lt.Must(lt.Parse("page", `<p>hold</p>`))
	h, err := lt.New(page, &holdController{release: release}, holdState{},
		lt.WithReconnectGrace(10*time.Millisecond), lt.WithAuthenticator(snippettest.ByUserCookie))
	is.NoErr(err)
	u := snippettest.Serve(t, h, nil)
	count := func(s string) int { return strings.Count(s, "timer.untilConnectionEnds(") }
	base := count(stacks())

	lttest.Open(t, u, lttest.WithJar(snippettest.UserJar(t, u, "holder")))
	gone := lttest.Open(t, u)
	waitStacks(t, "both OnConnects ran", func(s string) bool { return count(s) == base+2 })

	// 1. A tab goes away; after the grace its connection ends on the timer's
	// goroutine, which calls h.wg.Add(1) (from 0) to run OnDisconnect.
	gone.Close()
	waitStacks(t, "connection ended", func(s string) bool { return count(s) == base+1 })

	// 2. The other connection is busy, so Close must wait.
	is.NoErr(h.TriggerUser(context.Background(), "holder", "hold", nil))
	waitStacks(t, "Hold running", func(s string) bool { return strings.Contains(s, "(*holdController).Hold(") })
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		_ = h.Close() // wg.Wait: the race detector reports it against step 1's Add
	}()
	waitStacks(t, "Close waiting", func(s string) bool {
		for _, g := range strings.Split(s, "\n\n") {
			if strings.Contains(g, "lt.(*Handler).Close(") && strings.Contains(g, "sync.(*WaitGroup).Wait(") {
				return true
			}
		}
		return false
	})
	close(release)
	<-closed
}
