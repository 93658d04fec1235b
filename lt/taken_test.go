package lt_test

import (
	"context"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
)

// A stream outlives its handler on a connection taken from net/http (the
// default), and with WithStreamsInHandler it stays in its handler;
// everything a stream does works either way.
func TestStreamsTakenAndInHandler(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) { streamWorks(t, m.opts...) })
	}
}

func streamWorks(t *testing.T, opts ...lt.Option) {
	is := is.New(t)
	f := newFixture(t, append(opts, lt.WithReconnectGrace(time.Minute))...)
	a := lttest.Open(t, f.URL+"/page")
	b := lttest.Open(t, f.URL+"/page", lttest.WithJar(a.Jar()))
	group := lt.AnonymousIdentity(cookie(t, a, f.URL)).SessionID

	r := a.Act("increment", nil)
	is.Equal(r.Status, http.StatusOK)
	ev := a.Next() // the same update on the stream
	is.Equal(ev.Seq, uint64(1))
	b.WaitFor("msg=synced after increment")

	is.NoErr(f.H.TriggerSession(context.Background(), group, "add_item", map[string]any{"item": "x"}))
	a.WaitFor("<li>x</li>")
	b.WaitFor("<li>x</li>")

	// A cut and a resume: what was missed is replayed in order.
	a.Close()
	for i := range 3 {
		is.NoErr(f.H.TriggerSession(context.Background(), group, "add_item", map[string]any{"item": strconv.Itoa(i)}))
	}
	b.WaitFor("<li>2</li>") // all three ran
	a.Connect()
	for i := range 3 {
		ev := a.Next()
		is.Equal(ev.Seq, uint64(3+i))
		is.True(strings.Contains(ev.HTML, "<li>"+strconv.Itoa(i)+"</li>"))
	}
}

// Closing the handler ends taken streams too, and leaves no goroutine
// (TestMain checks with goleak).
func TestTakenStreamsEndOnClose(t *testing.T) {
	is := is.New(t)
	f := newFixture(t)
	tab := lttest.Open(t, f.URL+"/page")
	f.J.waitFor(t, "connect")
	is.NoErr(f.H.Close())
	tab.WaitClosed()
	f.J.waitFor(t, "disconnect")
}

// A taken stream has no goroutine of its own while it is idle
// (sse.Start): its updates are written by the goroutine that published
// them, so an idle tab costs no stack.
func TestTakenStreamsHoldNoGoroutine(t *testing.T) {
	is := is.New(t)
	f := newFixture(t)
	tabs := make([]*lttest.Tab, 5)
	for i := range tabs {
		tabs[i] = lttest.Open(t, f.URL+"/page")
	}
	is.NoErr(f.H.TriggerAll(context.Background(), "add_item", map[string]any{"item": "idle"}))
	for _, tab := range tabs {
		tab.WaitFor("<li>idle</li>")
	}
	is.Equal(streamGoroutines(), 0)
}

// streamGoroutines counts the goroutines that run a stream's code: Serve,
// or a writer or heartbeat of a stream served by sse.Start.
func streamGoroutines() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "sse.Serve(") || strings.Contains(g, "sse.(*Stream).writeStarted") || strings.Contains(g, "sse.(*Stream).beatStarted") {
			n++
		}
	}
	return n
}
