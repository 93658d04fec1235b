package lt_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
)

// A client that trickles its headers or body, or idles between requests,
// is cut: every timeout is set, none over 2 minutes, and a request body
// cannot be held over 30 s.
func TestNewServerBoundsSlowClients(t *testing.T) {
	is := is.New(t)
	srv := lt.NewServer(http.NotFoundHandler())
	for _, d := range []time.Duration{srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout} {
		is.True(d > 0 && d <= 2*time.Minute)
	}
	is.True(srv.ReadTimeout <= 30*time.Second)
}

type serveState struct{ N int }

// serveCtrl counts its OnDisconnects.
type serveCtrl struct{ gone *atomic.Int32 }

func (c *serveCtrl) Increment(s serveState, _ *lt.Context) (serveState, error) { s.N++; return s, nil }
func (c *serveCtrl) OnConnect(s serveState, _ *lt.Context) (serveState, error) { return s, nil }
func (c *serveCtrl) OnDisconnect()                                             { c.gone.Add(1) }

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// Once its context is done, Serve ends the live pages' streams (which
// http.Server.Shutdown alone would wait for, or leave open), runs their
// OnDisconnect, and returns nil, promptly, whether the streams are taken
// from net/http or stay in their handlers.
func TestServeShutsDownLivePages(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []lt.Option
	}{
		{"taken streams", nil},
		{"streams in their handlers", []lt.Option{lt.WithStreamsInHandler()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			is := is.New(t)
			gone := new(atomic.Int32)
			h, err := lt.New(lt.Must(lt.Parse("p", `<p>n={{.N}}</p>`)), &serveCtrl{gone: gone}, serveState{}, tc.opts...)
			is.NoErr(err)
			ln := listen(t)
			ctx, cancel := context.WithCancel(context.Background())
			served := make(chan error, 1)
			go func() { served <- lt.Serve(ctx, lt.NewServer(h), ln, h) }()

			u := "http://" + ln.Addr().String() + "/"
			tabs := []*lttest.Tab{lttest.Open(t, u), lttest.Open(t, u)}
			// OnDisconnect is owed only once OnConnect has started, which
			// a stream's first render does not wait for; an action's
			// answer does, as it runs after OnConnect.
			for _, tab := range tabs {
				is.Equal(tab.Act("increment", nil).Status, http.StatusOK)
			}

			start := time.Now()
			cancel()
			select {
			case err := <-served:
				is.NoErr(err)
			case <-time.After(lttest.Timeout):
				t.Fatalf("Serve did not return within %v of its context's end", lttest.Timeout)
			}
			is.True(time.Since(start) < lt.ShutdownGrace) // the streams did not hold it up
			is.Equal(gone.Load(), int32(2))               // every OnDisconnect ran before Serve returned
			for _, tab := range tabs {
				tab.WaitClosed()
			}
			_, err = http.Get(u)
			is.True(err != nil) // no longer listening
		})
	}
}

// A listener that fails makes Serve return its error, with the live
// Handlers closed.
func TestServeReturnsServingErrors(t *testing.T) {
	is := is.New(t)
	h, err := lt.New(lt.Must(lt.Parse("p", `<p>n={{.N}}</p>`)), &serveCtrl{gone: new(atomic.Int32)}, serveState{})
	is.NoErr(err)
	ln := listen(t)
	is.NoErr(ln.Close())
	err = lt.Serve(context.Background(), lt.NewServer(h), ln, h)
	is.True(errors.Is(err, net.ErrClosed))
	rec := &closedProbe{}
	h.ServeHTTP(rec, mustRequest(t))
	is.True(rec.status >= 500) // closed: it refuses new pages
}

type closedProbe struct {
	status int
	header http.Header
}

func (p *closedProbe) Header() http.Header {
	if p.header == nil {
		p.header = http.Header{}
	}
	return p.header
}
func (p *closedProbe) Write(b []byte) (int, error) {
	if p.status == 0 {
		p.status = http.StatusOK
	}
	return len(b), nil
}
func (p *closedProbe) WriteHeader(s int) { p.status = s }

func mustRequest(t *testing.T) *http.Request {
	t.Helper()
	r, err := http.NewRequest(http.MethodGet, "http://example.com/", nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
