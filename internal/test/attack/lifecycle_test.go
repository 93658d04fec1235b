package attack

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
)

// pairCtrl records its lifecycle calls in order.
type pairCtrl struct{ calls chan string }

func (c *pairCtrl) OnConnect(s countState, ctx *lt.Context) (countState, error) {
	c.calls <- "OnConnect"
	return s, nil
}

func (c *pairCtrl) OnDisconnect() { c.calls <- "OnDisconnect" }

// Block holds the connection's worker until release is closed.
func (c *pairCtrl) Block(s countState, ctx *lt.Context) (countState, error) {
	c.calls <- "Block"
	<-ctx.Value(releaseKey{}).(chan struct{})
	return s, nil
}

type releaseKey struct{}

// OnDisconnect pairs with OnConnect: a connection that ends while its
// OnConnect is still queued (its worker busy, its stream just opened)
// drops OnConnect with the rest of its queue, and gets no OnDisconnect
// either. An app that pairs them (presence: one more online in OnConnect,
// one less in OnDisconnect) counts right.
func TestOnDisconnectOnlyAfterOnConnect(t *testing.T) {
	is := is.New(t)
	ctrl := &pairCtrl{calls: make(chan string, 16)}
	release := make(chan struct{})
	h, err := lt.New(lt.Must(lt.Parse("count", countPage)), ctrl, countState{}, lt.WithLogger(newLogBook().logger()))
	is.NoErr(err)
	mw := func(next http.Handler) http.Handler { // every connection's context can reach release
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), releaseKey{}, release)))
		})
	}
	srv := httptest.NewServer(mw(h))
	t.Cleanup(func() { _ = h.Close(); srv.Close() })
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	defer unblock()

	page := lttest.Get(t, srv.URL+"/")
	group := groupOf(t, page.Jar(), srv.URL)
	is.NoErr(h.TriggerSession(context.Background(), group, "block", nil))
	is.Equal(<-ctrl.calls, "Block") // the connection's worker is busy
	// Its stream opens (OnConnect is queued behind Block) ...
	resp, err := (&http.Client{Jar: page.Jar()}).Do(streamRequest(t, srv.URL+"/", page.Conn()))
	is.NoErr(err)
	defer resp.Body.Close()
	is.Equal(resp.StatusCode, http.StatusOK)
	// ... and the connection ends (sign-out) before OnConnect ran.
	is.NoErr(h.CloseSession(context.Background(), group))
	unblock()
	is.NoErr(h.Close()) // waits for every job
	close(ctrl.calls)
	count := map[string]int{}
	for c := range ctrl.calls {
		count[c]++
	}
	is.Equal(count["OnDisconnect"], count["OnConnect"])
}
