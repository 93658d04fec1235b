package lt

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/livesse/livesse/internal/livetree"
	"github.com/livesse/livesse/internal/sse"
	"github.com/matryer/is"
)

type firstState struct{ N int }

// firstCtrl pushes an event from OnConnect, from a server action and from
// a client action.
type firstCtrl struct{}

func (*firstCtrl) OnConnect(s firstState, ctx *Context) (firstState, error) {
	return s, ctx.PushEvent("hello", s.N)
}

func (*firstCtrl) Tick(s firstState, ctx *Context) (firstState, error) {
	s.N++
	return s, ctx.PushEvent("tick", s.N)
}

// Ping pushes an event without changing the page: its update is the empty
// diff (a tree page) or the HTML again (a page that does not split).
func (*firstCtrl) Ping(s firstState, ctx *Context) (firstState, error) {
	return s, ctx.PushEvent("ping", s.N)
}

// treePage is a page whose renders split into trees: updates are diffs.
func treePage(t *testing.T) *Handler {
	t.Helper()
	h, err := New(Must(Parse("p", `<!DOCTYPE html><html><body><p>n={{.N}}</p></body></html>`)), &firstCtrl{}, firstState{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h
}

// htmlPage is a page whose renders do not split (NewFunc's learner has no
// room for a shape): every update is the live region's HTML, which a tab
// applies without a tree.
func htmlPage(t *testing.T) *Handler {
	t.Helper()
	h, err := NewFunc("p", func(_ context.Context, w io.Writer, state any) error {
		_, err := fmt.Fprintf(w, "<!DOCTYPE html><html><body><p>n=%d</p></body></html>", state.(firstState).N)
		return err
	}, &firstCtrl{}, firstState{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	rs := h.tpl()
	rs.fn.learner = livetree.NewLearner(rs.st, 1) // its one shape is taken: every page is HTML
	return h
}

// settle waits until the jobs queued on c so far have run.
func settle(t *testing.T, c *conn) {
	t.Helper()
	if err := c.do(context.Background(), func() {}); err != nil {
		t.Fatal(err)
	}
}

// eventsOfMessages is the "e" of each message, in order.
func eventsOfMessages(t *testing.T, evs []sse.Event) []string {
	t.Helper()
	var out []string
	for _, e := range evs {
		var m struct {
			E json.RawMessage `json:"e"`
		}
		if err := json.Unmarshal(e.Data, &m); err != nil {
			t.Fatalf("%s is not JSON: %v", e.Data, err)
		}
		out = append(out, e.Type+" "+string(m.E))
	}
	return out
}

// A tab's first render stands for the updates made between its page and
// its stream, which it never received: a server action's and OnConnect's
// (when it runs before the render is read). It carries their events, in
// order, and nothing after it sends them again. A later full render (the
// client resynchronising) carries none.
func TestFirstRenderCarriesEarlierEvents(t *testing.T) {
	for _, page := range []struct {
		name string
		new  func(*testing.T) *Handler
	}{{"tree", treePage}, {"html", htmlPage}} {
		t.Run(page.name, func(t *testing.T) {
			is := is.New(t)
			h := page.new(t)
			c := h.open(t, AnonymousIdentity("a"))

			is.NoErr(h.TriggerAll(context.Background(), "tick", nil)) // before the stream
			settle(t, c)
			a, err := c.attach(&stream{changed: make(chan struct{}, 1)}, 0, true, "")
			is.NoErr(err)
			settle(t, c) // OnConnect has run and published, before the first read
			evs, _ := a.next(nil, nil)
			is.Equal(eventsOfMessages(t, evs), []string{`render [["tick",1],["hello",1]]`})
			evs, _ = a.next(nil, nil)
			is.Equal(len(evs), 0) // the updates the render stands for are not sent again

			is.NoErr(h.TriggerAll(context.Background(), "tick", nil))
			settle(t, c)
			evs, _ = a.next(nil, nil)
			is.Equal(eventsOfMessages(t, evs), []string{`update [["tick",2]]`})

			c.mu.Lock()
			a.full = true // the client asks for a render again
			c.mu.Unlock()
			evs, _ = a.next(nil, nil)
			is.Equal(eventsOfMessages(t, evs), []string{`render `}) // a resync carries none
		})
	}
}

// An action's answer that a tab applied before it had a stream (HTML, for
// a page that does not split: the client needs no tree for it) has had its
// events dispatched: the first render does not carry them again. A diff's
// answer the client cannot apply without a tree, so its events ride on the
// first render.
func TestFirstRenderSkipsEventsOfAnswersApplied(t *testing.T) {
	for _, page := range []struct {
		name string
		new  func(*testing.T) *Handler
		want string
	}{
		{"tree", treePage, `render [["ping",0],["hello",0]]`},
		{"html", htmlPage, `render [["hello",0]]`},
	} {
		t.Run(page.name, func(t *testing.T) {
			is := is.New(t)
			h := page.new(t)
			c := h.open(t, AnonymousIdentity("a"))
			m := h.ct.actions["ping"]
			is.NoErr(c.do(context.Background(), func() {
				_, _, err := c.act(m, "ping", nil, httptest.NewRequest("POST", "/", nil))
				is.NoErr(err)
			}))
			a, err := c.attach(&stream{changed: make(chan struct{}, 1)}, 0, true, "")
			is.NoErr(err)
			settle(t, c)
			evs, _ := a.next(nil, nil)
			is.Equal(eventsOfMessages(t, evs), []string{page.want})
		})
	}
}
