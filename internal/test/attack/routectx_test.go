package attack

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
)

// routeSeen is what a server action read of chi's route context.
type routeSeen struct {
	Name, Token, Pattern string
}

// routeCtrl is copied per connection: what its copies share is behind a
// pointer.
type routeCtrl struct{ *routeLog }

type routeLog struct {
	mu   sync.Mutex
	seen map[string][]routeSeen // by the connection's own name (Context.URLParam)
	ch   chan struct{}
}

// Whoami is a server action that reads the route the way chi users do,
// from the context: chi.URLParamFromCtx and chi.RouteContext.
func (c *routeCtrl) Whoami(s countState, ctx *lt.Context) (countState, error) {
	got := routeSeen{Name: chi.URLParamFromCtx(ctx, "name"), Token: chi.URLParamFromCtx(ctx, "token")}
	if rc := chi.RouteContext(ctx); rc != nil {
		got.Pattern = rc.RoutePattern()
	}
	c.mu.Lock()
	c.seen[ctx.URLParam("name")] = append(c.seen[ctx.URLParam("name")], got)
	c.mu.Unlock()
	c.ch <- struct{}{}
	return s, nil
}

// A connection made on /users/{name}/secret/{token} keeps reading its own
// route values from its context in later server actions, while other
// requests, on other routes and on this one, run all the while. chi
// pools its route context and hands it to later requests: a connection
// holding chi's own would read another request's values (or race with
// it).
func TestRouteContextOfConnectionIsItsOwn(t *testing.T) {
	is := is.New(t)
	const tabs, rounds, hammers = 40, 4, 4
	ctrl := &routeCtrl{&routeLog{seen: map[string][]routeSeen{}, ch: make(chan struct{}, tabs*rounds)}}
	h, err := lt.New(lt.Must(lt.Parse("user", countPage)), ctrl, countState{}, lt.WithLogger(newLogBook().logger()))
	is.NoErr(err)
	r := chi.NewRouter()
	r.Handle("/users/{name}/secret/{token}", h)
	r.Get("/other/{a}/{name}/{token}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, chi.URLParam(r, "name"), chi.URLParam(r, "token"))
	})
	srv := httptest.NewServer(r)
	t.Cleanup(func() { _ = h.Close(); srv.Close() })

	// Other requests keep chi's pool busy for the whole test.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range hammers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{}
			for i := 0; ; i++ {
				select {
				case <-stop:
					client.CloseIdleConnections()
					return
				default:
				}
				resp, err := client.Get(fmt.Sprintf("%s/other/%d/intruder-%d/tok-%d", srv.URL, w, i, i))
				if err != nil {
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()

	for i := range tabs {
		lttest.Get(t, fmt.Sprintf("%s/users/user-%d/secret/token-%d", srv.URL, i, i))
	}
	for range rounds {
		is.NoErr(h.TriggerAll(context.Background(), "whoami", nil))
		for range tabs {
			select {
			case <-ctrl.ch:
			case <-t.Context().Done():
				t.Fatal("test ended waiting for whoami")
			}
		}
	}
	ctrl.mu.Lock()
	defer ctrl.mu.Unlock()
	is.Equal(len(ctrl.seen), tabs)
	for i := range tabs {
		name := fmt.Sprintf("user-%d", i)
		want := routeSeen{Name: name, Token: fmt.Sprintf("token-%d", i), Pattern: "/users/{name}/secret/{token}"}
		is.Equal(len(ctrl.seen[name]), rounds)
		for _, got := range ctrl.seen[name] {
			if got != want {
				t.Errorf("connection of %s read the route %+v, want %+v", name, got, want)
			}
		}
	}
}
