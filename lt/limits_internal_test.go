package lt

import (
	"errors"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/matryer/is"
)

func newOrderHandler(t *testing.T, opts ...Option) *Handler {
	t.Helper()
	h, err := New(Must(Parse("p", `<!DOCTYPE html><html><head><title>t</title></head><body>{{.N}}</body></html>`)), &orderCtrl{}, orderState{}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h
}

func (h *Handler) open(t *testing.T, id Identity) *conn {
	t.Helper()
	c, _, err := h.newConn(httptest.NewRequest("GET", "/", nil), id, true)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (h *Handler) live(c *conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.conns[c.id] == c
}

// attachTo gives c a stream (as a tab whose stream opened), so that it is
// not idle.
func attachTo(t *testing.T, c *conn) {
	t.Helper()
	s := &stream{changed: make(chan struct{}, 1)}
	if _, err := c.attach(s, 0, true, ""); err != nil {
		t.Fatal(err)
	}
}

// One client's pages beyond its limit end its own oldest connection that
// has no stream; with every one streaming, a new one is refused; other
// clients are never touched.
func TestClientConnectionLimit(t *testing.T) {
	is := is.New(t)
	h := newOrderHandler(t, WithClientLimits(3, 2))
	other := h.open(t, AnonymousIdentity("other"))
	me := AnonymousIdentity("me")
	a, b, c := h.open(t, me), h.open(t, me), h.open(t, me)
	attachTo(t, a)
	d := h.open(t, me) // over: b, the oldest without a stream, gives way
	is.True(h.live(a))
	is.True(!h.live(b))
	is.True(h.live(c) && h.live(d) && h.live(other))
	attachTo(t, c)
	attachTo(t, d)
	_, _, err := h.newConn(httptest.NewRequest("GET", "/", nil), me, true)
	is.True(errors.Is(err, ErrTooManyConnections))
	is.True(h.live(a) && h.live(c) && h.live(d) && h.live(other))

	// A signed-in user is one client whatever the groups.
	u1, u2 := Identity{UserID: "u", SessionID: "g1"}, Identity{UserID: "u", SessionID: "g2"}
	x, y := h.open(t, u1), h.open(t, u2)
	z := h.open(t, u1)
	h.open(t, u2)
	is.True(!h.live(x)) // the user's oldest, in another group than the newest
	is.True(h.live(y) && h.live(z))
}

// Pages that never open their stream (a client without cookies is a new
// session each time) are bounded as a whole: the oldest give way.
func TestPendingPagesBounded(t *testing.T) {
	is := is.New(t)
	h := newOrderHandler(t)
	h.maxPending = 5
	var cs []*conn
	for i := range 40 {
		c := h.open(t, AnonymousIdentity("s"+strconv.Itoa(i)))
		if i%4 == 0 {
			attachTo(t, c) // its stream opened: it no longer waits
		}
		cs = append(cs, c)
	}
	is.Equal(h.npending.Load(), int64(5))
	waiting := 0
	for i, c := range cs {
		switch {
		case i%4 == 0:
			is.True(h.live(c)) // streaming connections are never the ones ended
		case h.live(c):
			waiting++
			is.True(i >= 40-8) // the newest of the waiting ones remain
		}
	}
	is.Equal(waiting, 5)
	h.mu.Lock()
	is.True(len(h.pending) <= 2*5+64) // the list of waiting pages is kept short
	h.mu.Unlock()
}

// WithMaxConnections counts every connection of the page.
func TestMaxConnections(t *testing.T) {
	is := is.New(t)
	h := newOrderHandler(t, WithMaxConnections(2))
	a, b := h.open(t, AnonymousIdentity("a")), h.open(t, AnonymousIdentity("b"))
	attachTo(t, a)
	c := h.open(t, AnonymousIdentity("c"))
	is.True(h.live(a) && !h.live(b) && h.live(c))
	attachTo(t, c)
	_, _, err := h.newConn(httptest.NewRequest("GET", "/", nil), AnonymousIdentity("d"), true)
	is.True(errors.Is(err, ErrTooManyConnections))
}

// New refuses option values that cannot work, saying which.
func TestNewChecksOptions(t *testing.T) {
	for _, tc := range []struct {
		opt  Option
		says string
	}{
		{WithMaxBodyBytes(0), "WithMaxBodyBytes(0)"},
		{WithMaxFields(-1), "WithMaxFields(-1)"},
		{WithHeartbeat(-time.Second), "WithHeartbeat"},
		{WithRetry(0), "WithRetry"},
		{WithConnectTimeout(0), "WithConnectTimeout"},
		{WithReconnectGrace(-1), "WithReconnectGrace"},
		{WithMaxSavedStates(0), "WithMaxSavedStates"},
		{WithMaxStreams(-1), "WithMaxStreams"},
		{WithMaxConnections(-5), "WithMaxConnections"},
		{WithClientLimits(0, 1), "WithClientLimits"},
		{WithMaxForwardBytes(0), "WithMaxForwardBytes"},
		{WithSecret([]byte("short")), "WithSecret"},
		{WithBroadcaster(fakeRemote{}), "WithSecret"},
	} {
		t.Run(tc.says, func(t *testing.T) {
			_, err := New(Must(Parse("p", `{{.N}}`)), &orderCtrl{}, orderState{}, tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("New with %s: err %v", tc.says, err)
			}
		})
	}
}

// fakeRemote is a Broadcaster to other processes.
type fakeRemote struct{ Broadcaster }

func (fakeRemote) Instance() string { return "remote" }
