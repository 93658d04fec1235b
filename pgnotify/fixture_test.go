package pgnotify_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/livesse/livesse/internal/test/pgtest"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/livesse/livesse/pgnotify"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// wait bounds every wait of these tests that is not on a tab.
const wait = 10 * time.Second

type state struct {
	N     int
	Msg   string
	DB    string // read from the database by Mount and Refresh
	Items []string
}

// ctrl is the test page's controller; db is shared by every copy.
type ctrl struct{ db *pgxpool.Pool }

// read returns the value the page shows from the database.
func (c *ctrl) read(ctx context.Context) string {
	var v string
	if err := c.db.QueryRow(ctx, "SELECT v FROM kv WHERE k = 'value'").Scan(&v); err != nil {
		return "error: " + err.Error()
	}
	return v
}

func (c *ctrl) Mount(s state, ctx *lt.Context) (state, error) {
	s.DB = c.read(ctx)
	return s, nil
}

func (c *ctrl) Sync(s state, ctx *lt.Context) (state, error) {
	s.Msg = "synced after " + ctx.Action()
	return s, nil
}

func (c *ctrl) Refresh(s state, ctx *lt.Context) (state, error) {
	s.DB = c.read(ctx)
	return s, nil
}

func (c *ctrl) Increment(s state, ctx *lt.Context) (state, error) {
	s.N++
	return s, nil
}

func (c *ctrl) SetMsg(s state, ctx *lt.Context) (state, error) {
	s.Msg = ctx.GetString("msg")
	return s, nil
}

func (c *ctrl) AddItem(s state, ctx *lt.Context) (state, error) {
	s.Items = append(s.Items, ctx.GetString("item"))
	return s, nil
}

func (c *ctrl) OrderAdded(s state, ctx *lt.Context) (state, error) {
	s.Msg = fmt.Sprintf("%d new orders", ctx.GetInt("count"))
	return s, nil
}

func (c *ctrl) Broadcast(s state, ctx *lt.Context) (state, error) {
	s.Msg = "broadcaster"
	return s, ctx.BroadcastAction("set_msg", map[string]any{"msg": "from another tab"})
}

const pageHTML = `<!DOCTYPE html><html><head><title>t</title></head><body>` +
	`<p id="n">n={{.N}}</p><p id="msg">msg={{.Msg}}</p><p id="db">db={{.DB}}</p>` +
	`<ul>{{range .Items}}<li>{{.}}</li>{{end}}</ul></body></html>`

// secret is the tests' shared secret.
var secret = []byte("test secret: 32 bytes or longer!")

// newDB returns a pool on a fresh database with pgnotify's schema and the
// table the test page reads, holding "v1".
func newDB(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool := pgtest.Pool(t)
	ctx := waitCtx(t)
	if err := pgnotify.Setup(ctx, pool, pgnotify.WithSecret(secret)); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `CREATE TABLE kv (k text PRIMARY KEY, v text NOT NULL); INSERT INTO kv VALUES ('value', 'v1')`); err != nil {
		t.Fatal(err)
	}
	return pool
}

// newListener starts a Listener with its own pool on db's database, as a
// separate process would have, closed when the test ends. It has the
// tests' secret unless opts give another.
func newListener(t testing.TB, db *pgxpool.Pool, id string, opts ...pgnotify.Option) *pgnotify.Listener {
	t.Helper()
	pool := pgtest.Reopen(t, db)
	l, err := pgnotify.New(waitCtx(t), pool, append([]pgnotify.Option{pgnotify.WithSecret(secret), pgnotify.WithInstance(id)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// instance is one process of a multi-instance app: a Listener, the test
// page's Handler on it, and a server.
type instance struct {
	URL  string
	H    *lt.Handler
	L    *pgnotify.Listener
	Pool *pgxpool.Pool // the database, for the test's own statements
}

func newInstance(t testing.TB, db *pgxpool.Pool, id string, opts ...pgnotify.Option) *instance {
	t.Helper()
	return newInstanceWith(t, db, id, opts, nil)
}

func newInstanceWith(t testing.TB, db *pgxpool.Pool, id string, opts []pgnotify.Option, ltOpts []lt.Option) *instance {
	t.Helper()
	l := newListener(t, db, id, opts...)
	h, err := lt.New(lt.Must(lt.Parse("page", pageHTML)), &ctrl{db: db}, state{}, append([]lt.Option{lt.WithBroadcaster(l), lt.WithSecret(secret)}, ltOpts...)...)
	if err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	r.Handle("/page", h)
	srv := httptest.NewServer(r)
	t.Cleanup(func() { _ = h.Close(); srv.Close() })
	return &instance{URL: srv.URL, H: h, L: l, Pool: db}
}

// sameSession makes the tab's jar send its session cookie to instance b
// too, as a browser behind one load balancer would.
func sameSession(t *testing.T, tab *lttest.Tab, a, b string) http.CookieJar {
	t.Helper()
	ua, _ := url.Parse(a)
	ub, _ := url.Parse(b)
	tab.Jar().SetCookies(ub, tab.Jar().Cookies(ua))
	return tab.Jar()
}

// sessionGroup is the session of the tab's anonymous session.
func sessionGroup(t *testing.T, tab *lttest.Tab, pageURL string) string {
	t.Helper()
	u, _ := url.Parse(pageURL)
	for _, c := range tab.Jar().Cookies(u) {
		if c.Name == "lt_session" {
			return lt.AnonymousIdentity(c.Value).SessionID
		}
	}
	t.Fatalf("no session cookie for %s", pageURL)
	return ""
}

func waitCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	return ctx
}

// recorder is a Subscriber that records what it gets.
type recorder struct {
	t       testing.TB
	msgs    chan pgnotify.Msg
	resyncs chan struct{}
}

func newRecorder(t *testing.T, l *pgnotify.Listener) *recorder {
	r := &recorder{t: t, msgs: make(chan pgnotify.Msg, 1000), resyncs: make(chan struct{}, 100)}
	t.Cleanup(l.Subscribe(r))
	return r
}

func (r *recorder) Deliver(m lt.Message) { r.msgs <- pgnotify.View(r.t, m) }

// none checks nothing was delivered (before a message the test sent after
// the ones that must not be).
func (r *recorder) none(t *testing.T) {
	t.Helper()
	select {
	case m := <-r.msgs:
		t.Fatalf("delivered %+v", m)
	default:
	}
}
func (r *recorder) Resync() { r.resyncs <- struct{}{} }

// next returns the next message delivered.
func (r *recorder) next(t *testing.T) pgnotify.Msg {
	t.Helper()
	select {
	case m := <-r.msgs:
		return m
	case <-time.After(wait):
		t.Fatal("no message delivered")
		return pgnotify.Msg{}
	}
}

func health(t *testing.T, l *pgnotify.Listener) pgnotify.Health {
	t.Helper()
	h, err := l.Health(waitCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// awaitPeers waits until each listener knows every other is live.
func awaitPeers(t testing.TB, ls ...*pgnotify.Listener) {
	t.Helper()
	for _, a := range ls {
		for _, b := range ls {
			if a != b {
				if err := a.AwaitPeer(waitCtx(t), b.Instance()); err != nil {
					t.Fatalf("%s does not know %s is live: %v", a.Instance(), b.Instance(), err)
				}
			}
		}
	}
}

// msgAll is a message for every tab of the test page.
func msgAll(action string, data map[string]any) lt.Message {
	return lt.Must(lt.ServerAction("page", lt.ToAll, "", action, data))
}
