package lt_test

import (
	"context"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
)

// Connections' work runs on a few reused workers, but a method that blocks
// does not hold up other tabs: while jobs wait and none finishes, the
// runner adds workers.
func TestBlockedMethodsDoNotStallOtherTabs(t *testing.T) {
	is := is.New(t)
	f := newFixture(t)
	f.J.hold = make(chan struct{})
	defer close(f.J.hold)
	n := 2*runtime.GOMAXPROCS(0) + 3 // more than the workers started at once
	for range n {
		lttest.Open(t, f.URL+"/page") // each its own browser, so its own group
	}
	is.NoErr(f.H.TriggerAll(context.Background(), "hold", nil))
	deadline := time.After(lttest.Timeout)
	for {
		holding := len(slices.DeleteFunc(f.J.list(), func(e string) bool { return e != "holding" }))
		if holding == n {
			break
		}
		select {
		case <-f.J.changed:
		case <-deadline:
			t.Fatalf("%d of %d blocking methods started", holding, n)
		}
	}
	// Every one of them blocks a worker; a new tab's action still runs.
	tab := lttest.Open(t, f.URL+"/page")
	r := tab.Act("increment", nil)
	is.Equal(r.Status, http.StatusOK)
	is.True(strings.Contains(r.HTML, "n=1"))
}
