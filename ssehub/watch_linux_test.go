package ssehub

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
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
