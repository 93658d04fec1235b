package sse

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/matryer/is"
)

// startTaken serves a stream taken over with Take by Start and hands it to
// the test with a bare client that has read the first heartbeat, and the
// channel done reports on. The stream is stopped when the test ends.
func startTaken(t *testing.T, src Source, opt Options) (*Stream, net.Conn, *bufio.Reader, <-chan error) {
	t.Helper()
	streams := make(chan *Stream, 1)
	ended := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		st, err := Take(w)
		if err != nil {
			t.Error(err)
			return
		}
		err = Start(st, src, opt, func(err error) {
			st.Close()
			ended <- err
		})
		if err != nil {
			t.Error(err)
			st.Close()
			return
		}
		streams <- st
	}))
	t.Cleanup(srv.Close)
	c, r := dialStream(t, srv.Listener.Addr().String(), nil, "event: hb")
	st := <-streams
	t.Cleanup(st.Stop)
	return st, c, r, ended
}

// streamGoroutines counts the goroutines running a stream's code: Serve,
// or a writer or heartbeat of Start.
func streamGoroutines() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "sse.Serve(") || strings.Contains(g, "sse.(*Stream).writeStarted") || strings.Contains(g, "sse.(*Stream).beatStarted") {
			n++
		}
	}
	return n
}

// Under Start, the publishing goroutine writes the events, and no
// goroutine serves the stream between them.
func TestStartServesWithoutAGoroutine(t *testing.T) {
	is := is.New(t)
	src := &countingSource{logSource: &logSource{changed: make(chan struct{}, 1), log: Log{MaxEvents: 64}}}
	st, _, r, ended := startTaken(t, src, Options{HeartbeatEvent: "hb"})
	for i := range 10 {
		src.publishTry(st, fmt.Sprint("e", i))
		is.Equal(readData(t, r, 1), []string{fmt.Sprint("e", i)})
	}
	is.Equal(src.signals, 0)        // TrySend handled every one
	is.Equal(streamGoroutines(), 0) // nothing waits for the next
	is.Equal(st.started.Load().writer.Load(), int32(0))
	st.Stop()
	is.NoErr(<-ended) // Stop ended it
	st.Stop()         // again: nothing
	src.publishTry(st, "after")
	is.Equal(src.signals, 1) // an ended stream takes nothing
}

// What a socket does not take at once is written by a goroutine Start's
// stream starts for it: TrySend reports every event handled, and the
// reader gets each once, in order.
func TestStartWritesWhatBlocksFromAWriter(t *testing.T) {
	is := is.New(t)
	src := &countingSource{logSource: &logSource{changed: make(chan struct{}, 1), log: Log{MaxEvents: 4096, MaxBytes: 64 << 20}}}
	st, _, r, _ := startTaken(t, src, Options{HeartbeatEvent: "hb"})
	big := strings.Repeat("x", 16<<10)
	const n = 1000 // 16 MiB: far more than loopback buffers hold while nobody reads
	for i := range n {
		src.publishTry(st, fmt.Sprint(i, big))
	}
	is.Equal(src.signals, 0) // no signal: nothing would hear it
	got := readData(t, r, n)
	for i, d := range got {
		is.Equal(d, fmt.Sprint(i, big))
	}
}

// An idle stream served by Start gets its heartbeats from a timer.
func TestStartHeartbeats(t *testing.T) {
	is := is.New(t)
	src := &logSource{changed: make(chan struct{}, 1)}
	_, _, r, _ := startTaken(t, src, Options{HeartbeatEvent: "hb", Heartbeat: 10 * time.Millisecond})
	for range 3 {
		line, err := r.ReadString('\n')
		for err == nil && line != "event: hb\n" {
			line, err = r.ReadString('\n')
		}
		is.NoErr(err)
		line, err = r.ReadString('\n')
		is.NoErr(err)
		is.Equal(line, "data: 10\n")
	}
}

// A stream served by Start whose client closed the connection ends at the
// next heartbeat with ErrClientGone.
func TestStartNoticesClientGone(t *testing.T) {
	is := is.New(t)
	src := &logSource{changed: make(chan struct{}, 1)}
	_, c, _, ended := startTaken(t, src, Options{HeartbeatEvent: "hb", Heartbeat: 20 * time.Millisecond})
	is.NoErr(c.Close())
	is.True(errors.Is(<-ended, ErrClientGone))
}

// Over TLS there is no descriptor TrySend can write to: Start serves the
// stream from a goroutine running Serve, and Stop ends it as for any
// other.
func TestStartOverTLSRunsServe(t *testing.T) {
	is := is.New(t)
	src := &logSource{changed: make(chan struct{}, 1)}
	streams := make(chan *Stream, 1)
	ended := make(chan error, 1)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		st, err := Take(w)
		if err != nil {
			t.Error(err)
			return
		}
		is.True(!st.canTry)
		if err := Start(st, src, Options{HeartbeatEvent: "hb"}, func(err error) { st.Close(); ended <- err }); err != nil {
			t.Error(err)
			return
		}
		streams <- st
	}))
	defer srv.Close()
	dialStream(t, srv.Listener.Addr().String(), &tls.Config{InsecureSkipVerify: true}, "event: hb")
	st := <-streams
	is.Equal(streamGoroutines(), 1) // Serve's
	st.Stop()
	is.NoErr(<-ended)
}
