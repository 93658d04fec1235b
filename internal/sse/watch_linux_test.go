package sse

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/matryer/is"
)

// The Watcher tells at once, without a heartbeat, when the client of a
// taken stream closes its connection, over TLS too (it watches the TCP
// socket beneath); a stream whose watch was stopped is not reported.
func TestWatcherNoticesClientGone(t *testing.T) {
	t.Run("tcp", func(t *testing.T) { watcherNoticesClientGone(t, false) })
	t.Run("tls", func(t *testing.T) { watcherNoticesClientGone(t, true) })
}

func watcherNoticesClientGone(t *testing.T, useTLS bool) {
	is := is.New(t)
	w, err := NewWatcher()
	is.NoErr(err)
	defer w.Close()
	type taken struct {
		gone chan struct{}
		stop func()
	}
	streams := make(chan taken, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		st, err := Take(rw)
		if err != nil {
			t.Error(err)
			return
		}
		tk := taken{gone: make(chan struct{})}
		if tk.stop, err = w.Watch(st, func() { close(tk.gone) }); err != nil {
			t.Error(err)
		}
		streams <- tk
		go func() {
			defer st.Close()
			defer tk.stop()
			_ = Serve(ctx, st, &logSource{changed: make(chan struct{}, 1)}, Options{Heartbeat: time.Hour})
		}()
	}))
	if useTLS {
		srv.EnableHTTP2 = false // HTTP/1.1 over TLS: the connection can be taken
		srv.StartTLS()
	} else {
		srv.Start()
	}
	defer srv.Close()
	var conf *tls.Config
	if useTLS {
		roots := x509.NewCertPool()
		roots.AddCert(srv.Certificate())
		conf = &tls.Config{RootCAs: roots, ServerName: "example.com"}
	}
	dial := func() (net.Conn, taken) {
		c, _ := dialStream(t, srv.Listener.Addr().String(), conf, ": ok")
		return c, <-streams
	}

	c1, s1 := dial()
	c2, s2 := dial()
	s2.stop()
	is.NoErr(c2.Close())
	is.NoErr(c1.Close())
	select {
	case <-s1.gone: // long before the hour-long heartbeat
	case <-time.After(10 * time.Second):
		t.Fatal("the watcher did not notice the closed client")
	}
	select {
	case <-s2.gone:
		t.Fatal("a stopped watch was reported")
	default:
	}
}

// Every Watcher of the process shares one poller, which the first
// NewWatcher starts and the last Close stops (TestMain checks that no
// goroutine is left); a Watcher closed while another is open leaves the
// poller running for the other, and a new Watcher after the last Close
// starts a new one.
func TestWatchersShareOnePoller(t *testing.T) {
	is := is.New(t)
	w1, err := NewWatcher()
	is.NoErr(err)
	w2, err := NewWatcher()
	is.NoErr(err)
	is.True(w1.p == w2.p) // one poller
	p := w1.p
	// Its goroutine waits in the runtime's network poller ("IO wait"),
	// holding no OS thread, rather than in a blocking epoll_wait
	// ("syscall").
	for i := 0; !pollerState(t, "[IO wait"); i++ {
		is.True(i < 10000) // the poller's goroutine parks
		runtime.Gosched()
	}
	is.NoErr(w1.Close())
	is.NoErr(w1.Close()) // twice is fine
	select {
	case <-p.done:
		t.Fatal("the poller stopped while a Watcher was open")
	default:
	}
	_, err = w1.Watch(&Stream{socket: dummyRaw{}}, func() {})
	is.True(err != nil) // a closed Watcher watches nothing
	is.NoErr(w2.Close())
	<-p.done // stopped by the last Close
	process.mu.Lock()
	is.True(process.p == nil)
	is.Equal(process.users, 0)
	process.mu.Unlock()

	w3, err := NewWatcher()
	is.NoErr(err)
	is.True(w3.p != p) // started again
	is.NoErr(w3.Close())
}

// dummyRaw is a socket that is never used.
type dummyRaw struct{}

func (dummyRaw) Control(func(uintptr)) error    { return errors.New("dummy") }
func (dummyRaw) Read(func(uintptr) bool) error  { return errors.New("dummy") }
func (dummyRaw) Write(func(uintptr) bool) error { return errors.New("dummy") }

// pollerState reports whether the poller's goroutine is in state (the
// start of the bracket in its stack's header).
func pollerState(t *testing.T, state string) bool {
	t.Helper()
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "sse.(*poller).run") {
			header, _, _ := strings.Cut(g, "\n")
			return strings.Contains(header, state)
		}
	}
	return false
}
