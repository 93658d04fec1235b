package ssehub_test

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/livesse/livesse/ssehub"
	"github.com/matryer/is"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// source hands out what the test queues, signalling each time.
type source struct {
	events  chan []ssehub.Event
	changed chan struct{}
}

func (s *source) Next() []ssehub.Event {
	select {
	case e := <-s.events:
		return e
	default:
		return nil
	}
}

func (s *source) Changed() <-chan struct{} { return s.changed }

func (s *source) publish(e ...ssehub.Event) {
	s.events <- e
	s.changed <- struct{}{}
}

// Serve writes a heartbeat first, then what the Source publishes, until
// its context ends (nil), and a client that leaves ends it too.
func TestServe(t *testing.T) {
	is := is.New(t)
	src := &source{events: make(chan []ssehub.Event, 4), changed: make(chan struct{}, 4)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := ssehub.Open(w)
		if err != nil {
			served <- err
			return
		}
		defer s.Close()
		served <- ssehub.Serve(ctx, s, src, ssehub.Options{HeartbeatEvent: "hb", Heartbeat: time.Hour})
	}))
	defer srv.Close()

	resp, err := http.Get(srv.URL)
	is.NoErr(err)
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	next := func() string {
		t.Helper()
		var ev []string
		for lines.Scan() {
			if lines.Text() == "" {
				return strings.Join(ev, "|")
			}
			ev = append(ev, lines.Text())
		}
		t.Fatalf("stream ended: %v", lines.Err())
		return ""
	}
	is.Equal(next(), "event: hb|data: 3600000") // the first heartbeat, at once
	src.publish(ssehub.Event{Seq: 7, Type: "update", Data: []byte("x")})
	is.Equal(next(), "id: 7|event: update|data: x")
	cancel()
	is.NoErr(<-served)
}

// The zero Log keeps the default bounds; NewLog's are its own.
func TestLogBounds(t *testing.T) {
	is := is.New(t)
	var zero ssehub.Log
	for range 100 {
		zero.Append(ssehub.Event{Data: []byte("e")})
	}
	_, ok := zero.AppendSince(nil, 100-64)
	is.True(ok) // 64 kept
	_, ok = zero.AppendSince(nil, 100-65)
	is.True(!ok)

	few := ssehub.NewLog(2, 0)
	tiny := ssehub.NewLog(100, 1)
	for range 5 {
		few.Append(ssehub.Event{Data: []byte("12345")})
		tiny.Append(ssehub.Event{Data: []byte("12345")})
	}
	got, ok := few.AppendSince(nil, 3)
	is.True(ok)
	is.Equal(len(got), 2)
	_, ok = few.AppendSince(nil, 2)
	is.True(!ok)
	got, ok = tiny.AppendSince(nil, 4) // the newest is kept, whatever its size
	is.True(ok)
	is.Equal(string(got[0].Data), "12345")
	_, ok = tiny.AppendSince(nil, 3)
	is.True(!ok)
	is.Equal(tiny.Head(), uint64(5))
}

// A Content-Encoding other than gzip is refused by Open.
func TestOpenRefusesOtherEncodings(t *testing.T) {
	rec := httptest.NewRecorder()
	rec.Header().Set("Content-Encoding", "br")
	_, err := ssehub.Open(rec)
	if !errors.Is(err, ssehub.ErrUnsupportedEncoding) {
		t.Fatalf("Open with br: %v, want ErrUnsupportedEncoding", err)
	}
}
