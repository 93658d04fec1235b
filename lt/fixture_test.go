package lt_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/livesse/livesse/lt"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type state struct {
	N     int
	Msg   string
	Param string
	Items []string
}

// journal records what the controllers of one test did, in order.
type journal struct {
	mu       sync.Mutex
	entries  []string
	sessions map[string]lt.Session // by group, stored in OnConnect
	changed  chan struct{}
	hold     chan struct{} // Hold waits for it to close
}

func newJournal() *journal {
	return &journal{sessions: map[string]lt.Session{}, changed: make(chan struct{}, 1)}
}

func (j *journal) add(format string, args ...any) {
	j.mu.Lock()
	j.entries = append(j.entries, fmt.Sprintf(format, args...))
	j.mu.Unlock()
	select {
	case j.changed <- struct{}{}:
	default:
	}
}

func (j *journal) list() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]string(nil), j.entries...)
}

// waitFor waits until an entry equal to want is recorded.
func (j *journal) waitFor(t *testing.T, want string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		for _, e := range j.list() {
			if e == want {
				return
			}
		}
		select {
		case <-j.changed:
		case <-deadline:
			t.Fatalf("journal never recorded %q; it has %q", want, j.list())
		}
	}
}

func (j *journal) session(t *testing.T, group string) lt.Session {
	t.Helper()
	j.mu.Lock()
	defer j.mu.Unlock()
	s, ok := j.sessions[group]
	if !ok {
		t.Fatalf("no session stored for group %q", group)
	}
	return s
}

// ctrl exercises every part of the programming model.
type ctrl struct {
	j       *journal // shared by all copies
	tab     string   // per connection: set in Mount
	session lt.Session
}

func (c *ctrl) Mount(s state, ctx *lt.Context) (state, error) {
	c.tab = ctx.URLParam("id")
	s.Param = ctx.URLParam("id")
	c.j.add("mount")
	return s, nil
}

func (c *ctrl) OnConnect(s state, ctx *lt.Context) (state, error) {
	c.session = ctx.Session()
	c.j.mu.Lock()
	c.j.sessions[ctx.SessionID()] = ctx.Session()
	c.j.mu.Unlock()
	c.j.add("connect")
	go func() {
		<-ctx.Done()
		c.j.add("ctx done")
	}()
	return s, nil
}

func (c *ctrl) OnDisconnect() { c.j.add("disconnect") }

func (c *ctrl) Sync(s state, ctx *lt.Context) (state, error) {
	s.Msg = "synced after " + ctx.Action()
	return s, nil
}

func (c *ctrl) Increment(s state, ctx *lt.Context) (state, error) {
	s.N++
	c.j.add("increment")
	return s, nil
}

func (c *ctrl) AddItem(s state, ctx *lt.Context) (state, error) {
	s.Items = append(s.Items, ctx.GetString("item"))
	return s, nil
}

func (c *ctrl) SetMsg(s state, ctx *lt.Context) (state, error) {
	s.Msg = ctx.GetString("msg")
	return s, nil
}

func (c *ctrl) ShowParam(s state, ctx *lt.Context) (state, error) {
	s.Msg = "param=" + ctx.URLParam("id")
	return s, nil
}

func (c *ctrl) Fail(s state, ctx *lt.Context) (state, error) {
	s.N = -1 // discarded: a failed action keeps the previous state
	return s, lt.UserError("that did not work")
}

// Leak fails with an internal error whose text must never reach a
// browser.
func (c *ctrl) Leak(s state, ctx *lt.Context) (state, error) {
	return s, fmt.Errorf("saving: %w", errors.New("password authentication failed for user app at 10.0.0.5"))
}

func (c *ctrl) Explode(s state, ctx *lt.Context) (state, error) { panic("boom") }

// Traced records the span its context holds (observe_test.go's tracer).
func (c *ctrl) Traced(s state, ctx *lt.Context) (state, error) {
	c.j.add("traced in span %v", ctx.Value(spanKey{}))
	return s, nil
}

// Bump broadcasts itself, as the server-actions guide suggests for
// explicit cross-tab sync: the other tabs run it once, without echoing it
// back and forth.
func (c *ctrl) Bump(s state, ctx *lt.Context) (state, error) {
	s.N++
	c.j.add("bump")
	return s, ctx.BroadcastAction("bump", nil)
}

func (c *ctrl) Hold(s state, ctx *lt.Context) (state, error) {
	c.j.add("holding")
	<-c.j.hold
	return s, nil
}

func (c *ctrl) Broadcast(s state, ctx *lt.Context) (state, error) {
	s.Msg = "broadcaster"
	return s, ctx.BroadcastAction("set_msg", map[string]any{"msg": "from another tab"})
}

const pageHTML = `<!DOCTYPE html><html><head><title>t</title></head><body>` +
	`<p id="n">n={{.N}}</p><p id="msg">msg={{.Msg}}</p><p id="param">param={{.Param}}</p>` +
	`<ul>{{range .Items}}<li>{{.}}</li>{{end}}</ul><p id="err">err={{ltError}}</p></body></html>`

// fixture is a test server with one live page at /page and /items/{id}.
type fixture struct {
	URL string
	H   *lt.Handler
	J   *journal
	Srv *httptest.Server
}

func newFixture(t *testing.T, opts ...lt.Option) *fixture {
	t.Helper()
	j := newJournal()
	h, err := lt.New(lt.Must(lt.Parse("page", pageHTML)), &ctrl{j: j}, state{}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	r.Handle("/page", h)
	r.Route("/items/{id}", func(r chi.Router) {
		r.Use(func(next http.Handler) http.Handler { // any middleware of the app
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-App", "yes")
				next.ServeHTTP(w, r)
			})
		})
		r.Handle("/", h)
	})
	srv := httptest.NewServer(r)
	t.Cleanup(func() {
		_ = h.Close() // ends the streams, so the server can close
		srv.Close()
	})
	return &fixture{URL: srv.URL, H: h, J: j, Srv: srv}
}

// The two ways a stream can be served: taking its connection over from
// net/http (the default) or in its handler.
var (
	taken     []lt.Option
	inHandler = []lt.Option{lt.WithStreamsInHandler()}
	modes     = []struct {
		name string
		opts []lt.Option
	}{{"taken", taken}, {"in handler", inHandler}}
)

// waitCtx is a bound for waits in tests that are not on a tab.
func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
