package pgnotify_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/livesse/livesse/pgnotify"
	"github.com/matryer/is"
)

// holdCtrl is the test page's controller with an action that holds its
// connection's worker until hold is closed.
type holdCtrl struct {
	ctrl
	holding chan struct{}
	hold    chan struct{}
}

func (c *holdCtrl) Hold(s state, ctx *lt.Context) (state, error) {
	c.holding <- struct{}{}
	<-c.hold
	return s, nil
}

// probe answers r's request with h and returns the status and body.
func probe(t *testing.T, h http.Handler) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	b, _ := io.ReadAll(rec.Body)
	return rec.Code, string(b)
}

// awaitProbe polls h, a probe, until its answer contains want.
func awaitProbe(t *testing.T, h http.Handler, status int, want string) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		code, body := probe(t, h)
		if code == status && strings.Contains(body, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the probe says %d %q, not %d %q", code, body, status, want)
		}
		time.Sleep(5 * time.Millisecond) // polling a probe, as Kubernetes does
	}
}

// Readiness follows the listener and the pages' resync; liveness does not.
func TestProbes(t *testing.T) {
	is := is.New(t)
	db := newDB(t)
	lost, release := make(chan struct{}, 1), make(chan struct{})
	l := newListener(t, db, "b", pgnotify.WithBackoff(time.Millisecond, 10*time.Millisecond),
		pgnotify.WithReconnectHook(func(ctx context.Context) {
			lost <- struct{}{}
			select {
			case <-release:
			case <-ctx.Done():
			}
		}))
	c := &holdCtrl{ctrl: ctrl{db: db}, holding: make(chan struct{}, 1), hold: make(chan struct{})}
	h, err := lt.New(lt.Must(lt.Parse("page", pageHTML)), c, state{}, lt.WithBroadcaster(l), lt.WithSecret(secret))
	is.NoErr(err)
	srv := httptest.NewServer(h)
	t.Cleanup(func() { close(c.hold); _ = h.Close(); srv.Close() })
	ready, live := l.ReadyHandler(h), pgnotify.LiveHandler()
	lttest.Open(t, srv.URL+"/")
	awaitProbe(t, ready, http.StatusOK, "ready")

	is.NoErr(h.TriggerAll(context.Background(), "hold", nil))
	<-c.holding // the tab's worker is busy, so its resync will wait
	var killed bool
	is.NoErr(db.QueryRow(waitCtx(t), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'livesse listen b'`).Scan(&killed))
	is.True(killed)
	<-lost
	awaitProbe(t, ready, http.StatusServiceUnavailable, "listen connection down")
	code, body := probe(t, live)
	is.Equal(code, http.StatusOK) // the process lives on while the database is away
	is.Equal(body, "live\n")

	close(release) // reconnected: the page re-renders its tab, which waits behind Hold
	awaitProbe(t, ready, http.StatusServiceUnavailable, "pages re-rendering after lost messages")
	is.True(h.Resyncing())
	c.hold <- struct{}{} // Hold returns
	awaitProbe(t, ready, http.StatusOK, "ready")
	is.True(!h.Resyncing())
}
