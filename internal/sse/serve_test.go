package sse

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/matryer/is"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// logSource is the simplest Source: a locked Log and a snapshot of "all".
type logSource struct {
	mu      sync.Mutex
	log     Log
	changed chan struct{}
	seq     uint64 // what the reader has been given
}

func (s *logSource) publish(data string) {
	s.mu.Lock()
	s.log.Append(Event{Type: "m", Data: []byte(data)})
	s.mu.Unlock()
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

func (s *logSource) Next() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	evs, ok := s.log.AppendSince(nil, s.seq)
	s.seq = s.log.Head()
	if ok {
		return evs
	}
	return []Event{{Seq: s.log.Head(), Type: "snapshot", Data: []byte("all")}}
}

func (s *logSource) Changed() <-chan struct{} { return s.changed }

func TestServe(t *testing.T) {
	is := is.New(t)
	src := &logSource{changed: make(chan struct{}, 1), log: Log{MaxEvents: 2}}
	src.publish("one")
	srvCtx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	var wmu sync.Mutex
	var events, heartbeats, bytes int
	written := func(e, b int, hb bool) {
		wmu.Lock()
		defer wmu.Unlock()
		if hb {
			heartbeats += e
		} else {
			events += e
		}
		bytes += b
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, err := Open(w)
		if err != nil {
			served <- err
			return
		}
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		go func() {
			select {
			case <-srvCtx.Done():
				cancel()
			case <-ctx.Done():
			}
		}()
		served <- Serve(ctx, st, src, Options{Heartbeat: 30 * time.Millisecond, Written: written})
	}))
	defer srv.Close()

	resp, err := http.Get(srv.URL)
	is.NoErr(err)
	defer resp.Body.Close()
	is.Equal(resp.Header.Get("X-Accel-Buffering"), "no")
	br := bufio.NewReader(resp.Body)
	read := 0
	next := func() string { // one event block, or a comment
		var b strings.Builder
		for {
			line, err := br.ReadString('\n')
			is.NoErr(err)
			read += len(line)
			if line == "\n" {
				return b.String()
			}
			b.WriteString(line)
		}
	}
	is.Equal(next(), ": ok\n")
	is.Equal(next(), "id: 1\nevent: m\ndata: one\n")
	src.publish("two")
	is.Equal(next(), "id: 2\nevent: m\ndata: two\n")
	is.Equal(next(), ": hb\n") // quiet: a heartbeat
	// Three events at once: the log keeps two, so it no longer reaches
	// back to the reader at 2, who gets one snapshot instead.
	src.mu.Lock()
	for _, d := range []string{"3", "4", "5"} {
		src.log.Append(Event{Type: "m", Data: []byte(d)})
	}
	src.mu.Unlock()
	src.changed <- struct{}{}
	is.Equal(next(), "id: 5\nevent: snapshot\ndata: all\n") // 3 was dropped: resync
	stop()
	is.NoErr(<-served) // ended by its context: no error
	// Options.Written was told of every write, to the byte (heartbeats
	// may have come after the last event read).
	rest, err := io.ReadAll(br)
	is.NoErr(err)
	is.Equal(events, 3)
	is.Equal(heartbeats, 2+strings.Count(string(rest), ": hb\n"))
	is.Equal(bytes, read+len(rest))
}

func TestOpenWithoutFlusher(t *testing.T) {
	_, err := Open(noFlush{httptest.NewRecorder()})
	is.New(t).Equal(err, ErrStreamingUnsupported)
}

type noFlush struct{ w http.ResponseWriter }

func (n noFlush) Header() http.Header         { return n.w.Header() }
func (n noFlush) Write(b []byte) (int, error) { return n.w.Write(b) }
func (n noFlush) WriteHeader(code int)        { n.w.WriteHeader(code) }

func TestHeartbeatEvents(t *testing.T) {
	cases := []struct {
		name   string
		opt    Options
		blocks []string // the first heartbeat, then one per quiet interval
	}{
		{"event", Options{HeartbeatEvent: "hb"}, []string{"event: hb\ndata: 20\n", "event: hb\ndata: 20\n"}},
		{"event with retry", Options{HeartbeatEvent: "hb", Retry: 1500 * time.Millisecond},
			[]string{"event: hb\nretry: 1500\ndata: 20 1500\n", "event: hb\nretry: 1500\ndata: 20 1500\n"}},
		{"comment with retry", Options{Retry: time.Second}, []string{": ok\nretry: 1000\n", ": hb\nretry: 1000\n"}},
		{"comment", Options{}, []string{": ok\n", ": hb\n"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			is := is.New(t)
			src := &logSource{changed: make(chan struct{}, 1)}
			opt := c.opt
			opt.Heartbeat = 20 * time.Millisecond
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				st, err := Open(w)
				if err != nil {
					return
				}
				_ = Serve(r.Context(), st, src, opt)
			}))
			defer srv.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
			resp, err := http.DefaultClient.Do(req)
			is.NoErr(err)
			defer resp.Body.Close()
			br := bufio.NewReader(resp.Body)
			for _, want := range c.blocks {
				var block strings.Builder
				for {
					line, err := br.ReadString('\n')
					is.NoErr(err)
					if line == "\n" {
						break
					}
					block.WriteString(line)
				}
				is.Equal(block.String(), want) // heartbeat events are outside the sequence: no id
			}
		})
	}
}
