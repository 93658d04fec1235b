package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/r3labs/sse/v2"
	"gopkg.in/cenkalti/backoff.v1"
)

// loopbackTransport is an http.Transport that dials loopback addresses
// only and never goes through a proxy. It asks for no compression.
func loopbackTransport() *http.Transport { return streamTransport(nil, false) }

// streamTransport is loopbackTransport for the streams: with gzip it asks
// for gzip and inflates it (Go's transport does both), and when wire is
// not nil it adds to it every byte read from a socket, before inflating.
func streamTransport(wire *atomic.Int64, gzip bool) *http.Transport {
	d := &net.Dialer{Timeout: 10 * time.Second}
	return &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if err := checkLoopback(addr); err != nil {
				return nil, err
			}
			c, err := d.DialContext(ctx, network, addr)
			if err != nil || wire == nil {
				return c, err
			}
			return &countingConn{Conn: c, read: wire}, nil
		},
		MaxIdleConns:          16,
		IdleConnTimeout:       30 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		DisableCompression:    !gzip,
	}
}

// countingConn counts the bytes read from a connection.
type countingConn struct {
	net.Conn
	read *atomic.Int64
}

func (c *countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.read.Add(int64(n))
	return n, err
}

// recorder counts deliveries per action across all streams, so that the
// action loop knows when every stream has one.
type recorder struct {
	target  atomic.Int64 // streams expected to receive each action
	got     []atomic.Int64
	done    []chan struct{}
	resyncs atomic.Int64 // render events after a stream's first
}

func newRecorder(k int) *recorder {
	r := &recorder{got: make([]atomic.Int64, k), done: make([]chan struct{}, k)}
	for i := range r.done {
		r.done[i] = make(chan struct{})
	}
	return r
}

func (r *recorder) delivered(i int) {
	if r.got[i].Add(1) == r.target.Load() {
		close(r.done[i])
	}
}

// stream is one client: one connection of the page, one SSE stream. Its
// fields are written by its own goroutine only and read once it has ended.
type stream struct {
	lat     []int64 // per action: receive time - send time, ns; -1 until received
	renders int     // render events (the first opens the stream)
	beats   int     // hb events (lt's heartbeats)
	others  int     // any other event (no tick, an unknown tick, a duplicate)
	err     error   // why the stream ended, if the server or network ended it

	start    time.Time
	openOnce sync.Once
	openErr  error
	openDur  time.Duration
	onOpen   func()
	cancel   context.CancelFunc
}

// open records the end of the stream's opening (its first render, or the
// reason it never came) and calls onOpen, once.
func (s *stream) open(err error) {
	s.openOnce.Do(func() {
		s.openErr, s.openDur = err, time.Since(s.start)
		s.onOpen()
	})
}

// maxEventBytes bounds one event the clients read: the table page's first
// render is about 60 KiB, over r3labs' default of 64 KiB with its JSON.
const maxEventBytes = 1 << 20

// run subscribes with the r3labs client, as lttest does: a fresh
// connection (no _lt_conn), its own cookie jar (its own session), no
// reconnection (a lost stream is a failure to report, not to hide).
func (s *stream) run(ctx context.Context, pageURL string, tr http.RoundTripper, rec *recorder) {
	jar, _ := cookiejar.New(nil)
	c := sse.NewClient(pageURL, sse.ClientMaxBufferSize(maxEventBytes))
	c.Connection = &http.Client{Jar: jar, Transport: tr}
	c.ReconnectStrategy = &backoff.StopBackOff{}
	err := c.SubscribeRawWithContext(ctx, func(m *sse.Event) { s.handle(m, rec) })
	if ctx.Err() == nil {
		if err == nil {
			err = errors.New("the server ended the stream")
		}
		s.err = err
	}
	if err == nil {
		err = ctx.Err()
	}
	s.open(fmt.Errorf("stream ended before its first render: %w", err))
}

func (s *stream) handle(m *sse.Event, rec *recorder) {
	now := time.Now().UnixNano()
	switch string(m.Event) {
	case "render":
		s.renders++
		if s.renders == 1 {
			s.open(nil)
		} else {
			rec.resyncs.Add(1)
		}
	case "update":
		n, sent, ok := parseStamp(m.Data)
		if ok && n >= 1 && n <= len(s.lat) && s.lat[n-1] < 0 {
			s.lat[n-1] = max(now-sent, 0)
			rec.delivered(n - 1)
			return
		}
		s.others++
	case "hb":
		s.beats++
	default:
		s.others++
	}
}

// parseStamp finds the page's "tick:<n>:<sent>" in an event's data.
func parseStamp(data []byte) (n int, sent int64, ok bool) {
	i := bytes.Index(data, []byte("tick:"))
	if i < 0 {
		return 0, 0, false
	}
	rest := data[i+len("tick:"):]
	num := func() (int64, bool) {
		j := 0
		for j < len(rest) && '0' <= rest[j] && rest[j] <= '9' {
			j++
		}
		v, err := strconv.ParseInt(string(rest[:j]), 10, 64)
		rest = rest[j:]
		return v, err == nil
	}
	a, ok1 := num()
	if !ok1 || len(rest) == 0 || rest[0] != ':' {
		return 0, 0, false
	}
	rest = rest[1:]
	b, ok2 := num()
	return int(a), b, ok2
}

// streamSet is the open streams of a run.
type streamSet struct {
	all    []*stream
	wg     sync.WaitGroup // the streams' goroutines
	cancel context.CancelFunc
}

// close ends every stream and waits for their goroutines.
func (ss *streamSet) close() {
	ss.cancel()
	ss.wg.Wait()
}

// openStreams opens cfg.N streams on pageURL (each its own order with
// cfg.Differ), at most cfg.Rate per second
// and cfg.Concurrency at a time, and returns once every one has rendered,
// failed or timed out. The streams live until close (or ctx ends).
func openStreams(ctx context.Context, cfg config, pageURL string, tr http.RoundTripper, rec *recorder) (*streamSet, time.Duration) {
	sctx, cancel := context.WithCancel(ctx)
	ss := &streamSet{cancel: cancel}
	sem := make(chan struct{}, cfg.Concurrency)
	var opening sync.WaitGroup
	start := time.Now()
	for i := range cfg.N {
		due := start.Add(time.Duration(float64(i) / cfg.Rate * float64(time.Second)))
		if d := time.Until(due); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
			}
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		s := &stream{lat: make([]int64, cfg.K), start: time.Now()}
		for j := range s.lat {
			s.lat[j] = -1
		}
		pctx, pcancel := context.WithCancel(sctx)
		s.cancel = pcancel
		timer := time.AfterFunc(cfg.OpenTimeout, func() {
			s.open(fmt.Errorf("no render within %v", cfg.OpenTimeout))
			pcancel()
		})
		opening.Add(1)
		s.onOpen = func() {
			timer.Stop()
			<-sem
			opening.Done()
		}
		ss.all = append(ss.all, s)
		ss.wg.Add(1)
		u := pageURL
		if cfg.Differ {
			u += "?sort=" + strconv.Itoa(i) // its own order of the rows
		}
		go func() {
			defer ss.wg.Done()
			defer pcancel()
			s.run(pctx, u, tr, rec)
		}()
	}
	opening.Wait()
	return ss, time.Since(start)
}
