package attack

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/livesse/livesse/middleware"
	"github.com/matryer/is"
)

type countState struct{ N int }

const countPage = `<body><p id="n">n={{.N}}</p><p id="err">err={{ltError}}</p></body>`

// gauge counts a page's live connections per session from inside
// its controller: a connection is live from OnConnect until its context
// is done, which lt cancels, under its own lock, when it unregisters the
// connection. At every OnConnect it counts the session's live ones, so max
// is the most connections a session ever held with a stream.
type gauge struct {
	mounts   atomic.Int64
	connects atomic.Int64
	gone     atomic.Int64 // OnDisconnect calls

	mu      sync.Mutex
	live    map[string][]context.Context
	max     map[string]int
	mounted map[string]int // Mount calls by group
}

func newGauge() *gauge {
	return &gauge{live: map[string][]context.Context{}, max: map[string]int{}, mounted: map[string]int{}}
}

// mountsOf is the number of Mount calls for group.
func (g *gauge) mountsOf(group string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.mounted[group]
}

func (g *gauge) connected(group string, ctx context.Context) {
	g.mu.Lock()
	defer g.mu.Unlock()
	kept := g.live[group][:0]
	for _, c := range g.live[group] {
		if c.Err() == nil {
			kept = append(kept, c)
		}
	}
	// A connection ended while its OnConnect ran is not live: lt
	// cancels the context before it lets another connection in.
	if ctx.Err() == nil {
		kept = append(kept, ctx)
	}
	g.live[group] = kept
	g.max[group] = max(g.max[group], len(kept))
}

// now is the number of the session's connections live now.
func (g *gauge) now(group string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, c := range g.live[group] {
		if c.Err() == nil {
			n++
		}
	}
	return n
}

// total is the number of connections of every session live now.
func (g *gauge) total() int {
	g.mu.Lock()
	groups := make([]string, 0, len(g.live))
	for k := range g.live {
		groups = append(groups, k)
	}
	g.mu.Unlock()
	n := 0
	for _, k := range groups {
		n += g.now(k)
	}
	return n
}

func (g *gauge) most(group string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.max[group]
}

type countCtrl struct{ g *gauge }

func (c *countCtrl) Mount(s countState, ctx *lt.Context) (countState, error) {
	c.g.mounts.Add(1)
	c.g.mu.Lock()
	c.g.mounted[ctx.SessionID()]++
	c.g.mu.Unlock()
	return s, nil
}

func (c *countCtrl) OnConnect(s countState, ctx *lt.Context) (countState, error) {
	c.g.connects.Add(1)
	c.g.connected(ctx.SessionID(), ctx.Context) // the part of a Context that may be kept
	return s, nil
}

func (c *countCtrl) OnDisconnect() { c.g.gone.Add(1) }

func (c *countCtrl) Bump(s countState, ctx *lt.Context) (countState, error) {
	s.N++
	return s, nil
}

// countApp serves the counting page at "/" of a new test server.
func countApp(t *testing.T, opts ...lt.Option) (*httptest.Server, *lt.Handler, *gauge, *logBook) {
	t.Helper()
	g, log := newGauge(), newLogBook()
	opts = append([]lt.Option{lt.WithLogger(log.logger())}, opts...)
	h, err := lt.New(lt.Must(lt.Parse("count", countPage)), &countCtrl{g: g}, countState{}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() { _ = h.Close(); srv.Close() })
	return srv, h, g, log
}

// One client (one session cookie) asking for ever more connections: 300
// streams naming 64 connections each, with a limit of 32 per client. A
// stream naming more tabs than the client may have is refused before any
// is made; other clients are not affected.
func TestClientCannotHoldUnboundedConnections(t *testing.T) {
	is := is.New(t)
	srv, h, g, _ := countApp(t, lt.WithClientLimits(32, 8))
	bystander := lttest.Open(t, srv.URL+"/")
	flood := lttest.Get(t, srv.URL+"/") // the attacker's cookie
	group := groupOf(t, flood.Jar(), srv.URL)
	client := &http.Client{Jar: flood.Jar()}

	const requests, perStream = 300, 64
	for i := range requests {
		ids := make([]string, perStream)
		for j := range ids {
			ids[j] = fmt.Sprintf("fresh-%d-%d", i, j)
		}
		a := send(t, client, streamRequest(t, srv.URL+"/", ids...))
		if a.Status != http.StatusTooManyRequests || a.Header.Get("Retry-After") != "5" ||
			a.Body != "lt: too many live connections: a stream names 64 tabs, over the 32 a client may have on the page (WithClientLimits)\n" {
			t.Fatalf("request %d: %d Retry-After=%q %q", i, a.Status, a.Header.Get("Retry-After"), a.Body)
		}
	}
	is.Equal(g.most(group), 0)          // no connection of its ever connected
	is.Equal(g.mounts.Load(), int64(2)) // the two pages: no stream made one
	waitUntil(t, "the flood's streams to end", func() bool { return h.Streams() == 1 })
	waitUntil(t, "the flood's connections to number 32", func() bool { return g.now(group) <= 32 })

	// The bystander was never touched, and the attacker's own browser can
	// still open a tab: its connections without a stream give way.
	r := bystander.Act("bump", nil)
	is.Equal(r.Status, http.StatusOK)
	is.True(contains(r.HTML, "n=1"))
	tab := lttest.Open(t, srv.URL+"/", lttest.WithJar(flood.Jar()))
	is.Equal(tab.Act("bump", nil).Status, http.StatusOK)
}

// 300 streams of one client: it keeps its 8 newest, the older ones are
// ended, and it never holds over 32 connections.
func TestClientStreamsBounded(t *testing.T) {
	is := is.New(t)
	srv, h, g, _ := countApp(t, lt.WithClientLimits(32, 8))
	bystander := lttest.Open(t, srv.URL+"/")
	first := lttest.Get(t, srv.URL+"/")
	jar := first.Jar()
	group := groupOf(t, jar, srv.URL)

	const n = 300
	tabs := make([]*lttest.Tab, n)
	for i := range tabs {
		tabs[i] = lttest.OpenStream(t, srv.URL+"/", lttest.WithJar(jar))
	}
	for _, tab := range tabs[:n-8] {
		tab.WaitClosed() // ended by a newer stream of the same client
	}
	waitUntil(t, "the client's streams to number 8", func() bool { return h.Streams() == 8+1 })
	is.True(g.most(group) <= 32)
	is.Equal(g.mounts.Load(), int64(n+2)) // one connection per stream (and the two pages)

	// The newest 8 are live: a server action reaches each of them.
	is.NoErr(h.TriggerSession(context.Background(), group, "bump", nil))
	for _, tab := range tabs[n-8:] {
		tab.WaitFor("n=1")
	}
	is.Equal(h.Streams(), 9)
	r := bystander.Act("bump", nil)
	is.Equal(r.Status, http.StatusOK)
}

// A stream request without a session cookie is a new session, which may
// open one connection: naming more is 429 (reconnect with the cookie) and
// holds nothing; naming one works. The same when the session comes from
// package middleware rather than from lt's own cookie.
func TestCookielessStreamOneConnection(t *testing.T) {
	for _, tc := range []struct {
		name string
		wrap func(http.Handler) http.Handler
	}{
		{"lt's cookie", nil},
		{"middleware.Session", middleware.Session},
		{"middleware.SessionWith", middleware.SessionWith(middleware.SessionOptions{Secret: secret})},
	} {
		t.Run(tc.name, func(t *testing.T) { testCookielessStream(t, tc.wrap) })
	}
}

func testCookielessStream(t *testing.T, wrap func(http.Handler) http.Handler) {
	is := is.New(t)
	g := newGauge()
	h, err := lt.New(lt.Must(lt.Parse("count", countPage)), &countCtrl{g: g}, countState{}, lt.WithLogger(newLogBook().logger()), lt.WithSecret(secret))
	is.NoErr(err)
	var app http.Handler = h
	if wrap != nil {
		app = wrap(h)
	}
	srv := httptest.NewServer(app)
	t.Cleanup(func() { _ = h.Close(); srv.Close() })
	for _, n := range []int{2, 3, 64} {
		ids := make([]string, n)
		for i := range ids {
			ids[i] = "made-up-" + strconv.Itoa(i)
		}
		a := send(t, nil, streamRequest(t, srv.URL+"/", ids...))
		is.Equal(a.Status, http.StatusTooManyRequests)
		is.Equal(a.Header.Get("Retry-After"), "1")
		is.Equal(a.Body, "lt: too many live connections: a new session opens one connection per stream; reconnect with its cookie\n")
		is.True(a.Header.Get("Set-Cookie") != "") // the cookie to come back with
		is.Equal(h.Streams(), 0)
		is.Equal(g.mounts.Load(), int64(0))
	}
	ids := make([]string, 65)
	for i := range ids {
		ids[i] = "x" + strconv.Itoa(i)
	}
	a := send(t, nil, streamRequest(t, srv.URL+"/", ids...))
	is.Equal(a.Status, http.StatusBadRequest)
	is.Equal(a.Body, "lt: bad request: 65 connections on one stream, limit 64\n")
	is.Equal(g.mounts.Load(), int64(0))

	// One connection, no cookie: a stream with a full render.
	tab := lttest.OpenStream(t, srv.URL+"/")
	is.True(contains(tab.HTML(), "n=0"))
	is.Equal(g.mounts.Load(), int64(1))
	is.Equal(h.Streams(), 1)
}

// WithMaxStreams and WithMaxConnections bound the Handler whatever the
// number of clients: over the connections, the oldest without a stream
// ends (its POSTs get 410), and when all have one a page gets 503; over
// the streams a new stream gets 503.
func TestHandlerLimitsBoundBoth(t *testing.T) {
	is := is.New(t)
	srv, h, _, _ := countApp(t, lt.WithMaxStreams(5), lt.WithMaxConnections(5))
	tabs := make([]*lttest.Tab, 7)
	for i := range tabs {
		tabs[i] = lttest.Get(t, srv.URL+"/") // seven visitors, each their own session
	}
	for i, tab := range tabs {
		want := http.StatusOK
		if i < 2 {
			want = http.StatusGone // the two oldest pages lost their connections
		}
		is.Equal(postAs(t, tab.Jar(), srv.URL+"/", tab.Conn(), "bump", nil, nil).Status, want)
	}
	for _, tab := range tabs[2:] {
		tab.Connect()
	}
	is.Equal(h.Streams(), 5)

	// Every connection has a stream: a new page is refused, not served
	// by ending a live tab.
	a := send(t, nil, mustGet(t, srv.URL+"/"))
	is.Equal(a.Status, http.StatusServiceUnavailable) // the page is full, not this client
	is.Equal(a.Header.Get("Retry-After"), "5")
	is.Equal(a.Body, "lt: too many live connections on the page: it holds 5, each with a stream (WithMaxConnections)\n")
	// And a sixth stream is refused before it makes anything.
	a = send(t, nil, streamRequest(t, srv.URL+"/"))
	is.Equal(a.Status, http.StatusServiceUnavailable)
	is.Equal(a.Header.Get("Retry-After"), "5")
	is.Equal(a.Body, "lt: too many live connections: too many open streams (limit 5); retry later\n")
	is.Equal(h.Streams(), 5)
	for _, tab := range tabs[2:] {
		is.Equal(tab.Act("bump", nil).Status, http.StatusOK)
	}
}
