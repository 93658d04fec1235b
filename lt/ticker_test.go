package lt_test

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
)

// tickers counts the goroutines that tickerCtrl's OnConnect starts, and
// says when they start and end, so that tests wait for events instead of
// scanning stacks.
type tickers struct {
	mu      sync.Mutex
	running int
	changed chan struct{}
}

func (k *tickers) add(d int) {
	k.mu.Lock()
	k.running += d
	k.mu.Unlock()
	select {
	case k.changed <- struct{}{}:
	default:
	}
}

// await waits, with a bound, until n tickers run.
func (k *tickers) await(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(lttest.Timeout)
	for {
		k.mu.Lock()
		got := k.running
		k.mu.Unlock()
		if got == n {
			return
		}
		select {
		case <-k.changed:
		case <-deadline:
			t.Fatalf("%d tickers run, want %d", got, n)
		}
	}
}

type tickerState struct{ Ticks int }

// tickerCtrl is the server-action guide's TimerController (see
// internal/test/specsnippets/timer): OnConnect keeps the Session and
// starts a goroutine that ends with the connection's context; the tick
// comes from the test, not a clock.
type tickerCtrl struct {
	k    *tickers
	tick chan struct{} // closed by the test: every ticker fires once
	mu   sync.Mutex
	sess lt.Session
}

func (c *tickerCtrl) OnConnect(s tickerState, ctx *lt.Context) (tickerState, error) {
	c.mu.Lock()
	c.sess = ctx.Session()
	c.mu.Unlock()
	c.k.add(1)
	go c.run(ctx)
	return s, nil
}

func (c *tickerCtrl) OnDisconnect() {
	c.mu.Lock()
	c.sess = nil
	c.mu.Unlock()
}

func (c *tickerCtrl) run(ctx context.Context) {
	defer c.k.add(-1)
	tick := c.tick
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
			tick = nil
			c.mu.Lock()
			s := c.sess
			c.mu.Unlock()
			if s != nil {
				_ = s.TriggerAction("tick", nil)
			}
		}
	}
}

func (c *tickerCtrl) Tick(s tickerState, _ *lt.Context) (tickerState, error) {
	s.Ticks++
	return s, nil
}

func newTickerPage(t *testing.T, k *tickers, tick chan struct{}, opts ...lt.Option) (*lt.Handler, string) {
	t.Helper()
	page := lt.Must(lt.Parse("page", `<p>ticks=<b>{{.Ticks}}</b></p>`))
	h, err := lt.New(page, &tickerCtrl{k: k, tick: tick}, tickerState{}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		_ = h.Close()
		srv.Close()
	})
	return h, srv.URL + "/"
}

// Closing the Handler ends every connection's context, while their
// goroutines are triggering actions on the same sessions: each returns,
// and nothing races (this ran as a spec snippet test that failed only
// sometimes, under -race, scanning stacks).
func TestHandlerCloseEndsConnectionGoroutines(t *testing.T) {
	is := is.New(t)
	k := &tickers{changed: make(chan struct{}, 1)}
	tick := make(chan struct{})
	h, u := newTickerPage(t, k, tick)
	a1 := lttest.Open(t, u)
	a2 := lttest.Open(t, u, lttest.WithJar(a1.Jar())) // the same session
	c := lttest.Open(t, u)
	k.await(t, 3)

	close(tick) // each ticker triggers its session once: A's tabs get two ticks, C's one
	a1.WaitFor("<b>2</b>")
	a2.WaitFor("<b>2</b>")
	c.WaitFor("<b>1</b>")

	is.NoErr(h.Close())
	k.await(t, 0)
}

// One tab's goroutine ends with that tab's connection (after the
// reconnect grace) while the other tab's goes on, and closing the Handler
// while it runs ends it too.
func TestConnectionGoroutineEndsPerTab(t *testing.T) {
	is := is.New(t)
	k := &tickers{changed: make(chan struct{}, 1)}
	tick := make(chan struct{})
	h, u := newTickerPage(t, k, tick, lt.WithReconnectGrace(20*time.Millisecond))
	a1 := lttest.Open(t, u)
	a2 := lttest.Open(t, u, lttest.WithJar(a1.Jar()))
	k.await(t, 2)

	a1.Close()
	k.await(t, 1)
	close(tick) // a2's own ticker still drives it
	a2.WaitFor("<b>1</b>")

	is.NoErr(h.Close())
	k.await(t, 0)
}
