package sse

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/matryer/is"
)

// countingSource is a logSource that counts the wake-ups TrySend needed.
type countingSource struct {
	*logSource
	signals int
}

// publishTry appends an event and delivers it as lt does: TrySend first,
// a signal to Serve's goroutine only when that could not write it.
func (s *countingSource) publishTry(st *Stream, data string) {
	s.mu.Lock()
	s.log.Append(Event{Type: "m", Data: []byte(data)})
	s.mu.Unlock()
	if !st.TrySend(s) {
		s.signals++
		select {
		case s.changed <- struct{}{}:
		default:
		}
	}
}

// serveTaken runs Serve on a stream taken over with Take and hands the
// stream to the test with a bare client (dialStream) that has read the
// first heartbeat, so Serve is running.
func serveTaken(t *testing.T, src Source) (*Stream, *bufio.Reader) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	streams := make(chan *Stream, 1)
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		st, err := Take(w)
		if err != nil {
			t.Error(err)
			close(done)
			return
		}
		streams <- st
		go func() {
			defer close(done)
			defer st.Close()
			_ = Serve(ctx, st, src, Options{HeartbeatEvent: "hb"})
		}()
	}))
	t.Cleanup(func() {
		cancel()
		<-done
		srv.Close()
	})
	_, r := dialStream(t, srv.Listener.Addr().String(), nil, "data: 15000")
	return <-streams, r
}

// readData returns the next n data lines of "m" events.
func readData(t *testing.T, r *bufio.Reader, n int) []string {
	t.Helper()
	var got []string
	for len(got) < n {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("after %d events: %v", len(got), err)
		}
		if d, ok := strings.CutPrefix(strings.TrimRight(line, "\n"), "data: "); ok && d != "15000" {
			got = append(got, d)
		}
	}
	return got
}

// The publishing goroutine writes the events itself while the socket takes
// them and no other write holds the stream: nothing is left for Serve's
// goroutine. (Serve is not run here, so that nothing else ever holds the
// stream's lock; the next test runs it.)
func TestTrySendWritesFromTheCaller(t *testing.T) {
	is := is.New(t)
	src := &countingSource{logSource: &logSource{changed: make(chan struct{}, 1), log: Log{MaxEvents: 64}}}
	streams := make(chan *Stream, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		st, err := Take(w)
		if err != nil {
			t.Error(err)
			return
		}
		st.mu.Lock()
		st.serving = true // as Serve does once its first heartbeat is out
		st.mu.Unlock()
		streams <- st
	}))
	defer srv.Close()
	_, r := dialStream(t, srv.Listener.Addr().String(), nil, "")
	st := <-streams
	defer st.Close()
	for i := range 10 {
		src.publishTry(st, fmt.Sprint("e", i))
		is.Equal(readData(t, r, 1), []string{fmt.Sprint("e", i)})
	}
	is.Equal(src.signals, 0)
	is.Equal(len(src.changed), 0)
}

// A socket that takes only part of a burst leaves the rest to Serve's
// goroutine, and the reader still gets every event once, in order.
func TestTrySendLeavesWhatBlocksToServe(t *testing.T) {
	is := is.New(t)
	src := &countingSource{logSource: &logSource{changed: make(chan struct{}, 1), log: Log{MaxEvents: 4096, MaxBytes: 64 << 20}}}
	st, r := serveTaken(t, src)
	// (Tiny buffers on both ends would fill sooner, but loopback TCP then
	// stalls on zero-window probes for seconds; this just sends more.)
	big := strings.Repeat("x", 16<<10)
	const n = 1000 // 16 MiB: far more than loopback buffers hold while nobody reads
	for i := range n {
		src.publishTry(st, fmt.Sprint(i, big))
	}
	is.True(src.signals > 0) // some of it waited for Serve's goroutine
	got := readData(t, r, n)
	for i, d := range got {
		is.Equal(d, fmt.Sprint(i, big))
	}
}

// Streams made by Open cannot write without blocking: TrySend declines.
func TestTrySendDeclinesForOpen(t *testing.T) {
	is := is.New(t)
	res := make(chan bool, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		st, err := Open(w)
		is.NoErr(err)
		res <- st.TrySend(&logSource{changed: make(chan struct{}, 1)})
	}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	is.NoErr(err)
	resp.Body.Close()
	is.Equal(<-res, false)
}

// A taken stream whose client closed the connection ends at the next
// heartbeat with ErrClientGone, not a write or two later.
func TestTakenStreamNoticesClientGone(t *testing.T) {
	is := is.New(t)
	src := &logSource{changed: make(chan struct{}, 1)}
	served := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		st, err := Take(w)
		if err != nil {
			served <- err
			return
		}
		go func() {
			defer st.Close()
			served <- Serve(context.Background(), st, src, Options{Heartbeat: 20 * time.Millisecond})
		}()
	}))
	defer srv.Close()
	client, _ := dialStream(t, srv.Listener.Addr().String(), nil, ": ok") // the first heartbeat: Serve runs
	is.NoErr(client.Close())
	is.True(errors.Is(<-served, ErrClientGone))
}
