package proxytest_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/go-chi/chi/v5"
	"github.com/livesse/livesse/internal/test/proxytest"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/ltbrowser"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind: the live
// handlers, the test servers, the raw stream readers, nginx's waiter and
// the browser must all be shut down by the tests' cleanups.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// count is the state of the test page: one counter per tab.
type count struct{ Count int }

// counter is the test page's controller; every copy reports to one
// progress.
type counter struct{ p *progress }

func (c *counter) Increment(s count, ctx *lt.Context) (count, error) {
	s.Count++
	c.p.saw(s.Count)
	return s, nil
}

func (c *counter) OnConnect(s count, ctx *lt.Context) (count, error) {
	c.p.mu.Lock()
	c.p.connects++
	c.p.mu.Unlock()
	return s, nil
}

func (c *counter) OnDisconnect() {
	c.p.mu.Lock()
	c.p.disconnects++
	c.p.mu.Unlock()
}

// progress is what the server side of the test page has done.
type progress struct {
	mu          sync.Mutex
	max         int // highest count any Increment produced
	connects    int
	disconnects int
	changed     chan struct{}
}

func (p *progress) saw(n int) {
	p.mu.Lock()
	p.max = max(p.max, n)
	p.mu.Unlock()
	select {
	case p.changed <- struct{}{}:
	default:
	}
}

// waitCount waits until an Increment on the server has produced count n.
func (p *progress) waitCount(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(lttest.Timeout)
	for {
		p.mu.Lock()
		got := p.max
		p.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-p.changed:
		case <-deadline:
			t.Fatalf("the server never counted to %d (it is at %d)", n, got)
		}
	}
}

const pageHTML = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>count</title></head><body>` +
	`<output id="count">{{.Count}}</output>` +
	`<form method="post"><button id="inc" name="increment">+</button></form></body></html>`

// shows is the HTML of the count as the page shows it.
func shows(n int) string { return `<output id="count">` + strconv.Itoa(n) + `</output>` }

// app is the test page served by a Go server on loopback.
type app struct {
	H   *lt.Handler
	Srv *httptest.Server
	P   *progress
}

func newHandler(t *testing.T, opts ...lt.Option) (*lt.Handler, *progress) {
	t.Helper()
	p := &progress{changed: make(chan struct{}, 1)}
	h, err := lt.New(lt.Must(lt.Parse("count", pageHTML)), &counter{p: p}, count{}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return h, p
}

// newApp serves the test page at / (and any extra routes) until the test
// ends; its cleanup closes the handler first so that streams end.
func newApp(t *testing.T, extra func(chi.Router), opts ...lt.Option) *app {
	t.Helper()
	h, p := newHandler(t, opts...)
	r := chi.NewRouter()
	r.Handle("/", h)
	if extra != nil {
		extra(r)
	}
	srv := httptest.NewServer(r)
	t.Cleanup(func() {
		_ = h.Close()
		srv.Close()
	})
	return &app{H: h, Srv: srv, P: p}
}

// rawStream reads a response line by line, as sent, with nothing between
// the test and the wire but net/http.
type rawStream struct {
	lines  chan string // every line received; closed when the stream ends
	cancel context.CancelFunc
	done   chan struct{}
	err    error // why it ended; read after lines is closed

	// resp is the response, headers only, once header is closed (nil if
	// the request failed); opened is when the client had its headers.
	header chan struct{}
	resp   *http.Response
	opened time.Time
}

var (
	errEnded   = errors.New("the stream ended")
	errTimeout = errors.New("nothing within the bound")
)

// openRaw GETs url as an event stream in the background; the stream is
// closed when the test ends.
func openRaw(t *testing.T, url string) *rawStream {
	t.Helper()
	return openRawWith(t, &http.Transport{}, url)
}

// openRawWith is openRaw through tr (whose idle connections it closes
// when the test ends).
func openRawWith(t *testing.T, tr *http.Transport, url string) *rawStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &rawStream{lines: make(chan string, 4096), cancel: cancel, done: make(chan struct{}), header: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer close(s.lines)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		req.Header.Set("Accept", "text/event-stream")
		resp, err := (&http.Client{Transport: tr}).Do(req)
		s.resp, s.opened = resp, time.Now()
		close(s.header)
		if err != nil {
			s.err = err
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			s.err = fmt.Errorf("status %s", resp.Status)
			return
		}
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			select {
			case s.lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
		s.err = sc.Err()
	}()
	t.Cleanup(func() {
		cancel()
		<-s.done
		tr.CloseIdleConnections()
	})
	return s
}

// waitLine reads lines until one starts with prefix and returns it;
// errEnded if the stream ends first, errTimeout after within.
func (s *rawStream) waitLine(prefix string, within time.Duration) (string, error) {
	deadline := time.After(within)
	for {
		select {
		case line, ok := <-s.lines:
			if !ok {
				return "", fmt.Errorf("%w (%v)", errEnded, s.err)
			}
			if strings.HasPrefix(line, prefix) {
				return line, nil
			}
		case <-deadline:
			return "", errTimeout
		}
	}
}

// waitEnd reads lines until the stream ends (nil), or errTimeout after
// within. It returns the lines read.
func (s *rawStream) waitEnd(within time.Duration) ([]string, error) {
	deadline := time.After(within)
	var got []string
	for {
		select {
		case line, ok := <-s.lines:
			if !ok {
				return got, nil
			}
			got = append(got, line)
		case <-deadline:
			return got, errTimeout
		}
	}
}

// The configuration forwards the original Host and the X-Forwarded-*
// headers, and speaks HTTP/1.1 to the upstream over kept-alive
// connections (the empty Connection header): nginx's own default is
// HTTP/1.0 with Connection: close, a new upstream connection per request.
func TestConfigForwardsHeadersOverKeptAliveHTTP11(t *testing.T) {
	is := is.New(t)
	type seen struct {
		Proto, Host, XFF, XFProto, XFHost, Connection, Remote string
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(seen{
			Proto: r.Proto, Host: r.Host, XFF: r.Header.Get("X-Forwarded-For"),
			XFProto: r.Header.Get("X-Forwarded-Proto"), XFHost: r.Header.Get("X-Forwarded-Host"),
			Connection: r.Header.Get("Connection"), Remote: r.RemoteAddr,
		})
	}))
	t.Cleanup(srv.Close)
	px := proxytest.Start(t, srv.URL, proxytest.Options{})
	get := func() seen {
		tr := &http.Transport{DisableKeepAlives: true} // a new client connection each time
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr, Timeout: lttest.Timeout}).Get(px.URL + "/echo")
		is.NoErr(err)
		defer resp.Body.Close()
		is.Equal(resp.StatusCode, http.StatusOK)
		var s seen
		is.NoErr(json.NewDecoder(resp.Body).Decode(&s))
		return s
	}
	first, second := get(), get()
	is.Equal(first.Proto, "HTTP/1.1")                                     // HTTP/1.1 upstream
	is.Equal(first.Connection, "")                                        // not "close"
	is.Equal(first.Host, px.Addr)                                         // the Host the browser sent, port included (lt's origin check compares it)
	is.Equal(first.XFF, "127.0.0.1")                                      // the client's address
	is.Equal(first.XFProto, "http")                                       // the scheme the client used
	is.Equal(first.XFHost, px.Addr)                                       // and the host
	is.Equal(second.Remote, first.Remote)                                 // the second request reused the kept-alive upstream connection
	is.True(strings.Contains(px.ConfigText(), "proxy_read_timeout 75s;")) // production timeout by default
}

// proxies are the nginx configurations the stream tests run behind: the
// documented one, and two common ones under which nginx holds back a
// stream that does not send X-Accel-Buffering: no.
var proxies = []struct {
	name string
	opts proxytest.Options
	// holds: nginx holds back a stream without X-Accel-Buffering: no.
	holds bool
}{
	{"documented config", proxytest.Options{}, false},
	{"HTTP/1.0 upstream", proxytest.Options{UpstreamHTTP10: true}, true},
	{"gzip on for text/event-stream", proxytest.Options{GzipEventStream: true}, true},
}

// An update reaches the tab through nginx at once, with nginx's default
// buffering on, behind each configuration: lt's stream asks nginx not to
// buffer it (X-Accel-Buffering: no).
func TestEventsArriveThroughProxyWithoutDelay(t *testing.T) {
	for _, px := range proxies {
		t.Run(px.name, func(t *testing.T) { eventsArrive(t, px.opts) })
		// By default streams take their connections over from net/http
		// and are delimited by closing the connection; kept in their
		// handlers they are chunked: the same through nginx.
		t.Run(px.name+"/in handler", func(t *testing.T) { eventsArrive(t, px.opts, lt.WithStreamsInHandler()) })
	}
}

func eventsArrive(t *testing.T, popts proxytest.Options, opts ...lt.Option) {
	is := is.New(t)
	// No heartbeat for an hour: an update nginx held in its buffer would
	// wait for more bytes that do not come, and Next would fail.
	a := newApp(t, nil, append([]lt.Option{lt.WithHeartbeat(time.Hour)}, opts...)...)
	p := proxytest.Start(t, a.Srv.URL, popts)
	tab := lttest.Open(t, p.URL+"/") // Open waits for the first heartbeat and the render: both came through
	is.True(strings.Contains(tab.HTML(), shows(0)))
	for n := 1; n <= 3; n++ {
		start := time.Now()
		is.NoErr(a.H.TriggerAll(context.Background(), "increment", nil))
		ev := tab.Next()
		took := time.Since(start)
		is.Equal(ev.Type, "update")
		is.Equal(ev.Seq, uint64(n))
		is.True(strings.Contains(ev.HTML, shows(n)))
		t.Logf("update %d through nginx in %v", n, took)
	}
}

// The control: a tiny stream handler, with and without X-Accel-Buffering:
// no, behind each configuration. Without the header, nginx holds the
// flushed event until the response ends behind an HTTP/1.0 upstream or
// gzip; with it, the event passes at once everywhere. Behind the
// documented configuration (HTTP/1.1, chunked responses) nginx passes
// each chunk on even with buffering on: there the header is a safeguard,
// not a necessity.
func TestProxyBuffersStreamWithoutAccelHeader(t *testing.T) {
	for _, px := range proxies {
		for _, accel := range []bool{true, false} {
			name := px.name + "/without X-Accel-Buffering"
			if accel {
				name = px.name + "/with X-Accel-Buffering: no"
			}
			t.Run(name, func(t *testing.T) { bufferControl(t, px.opts, accel, px.holds) })
		}
	}
}

// bufferControl runs a tiny stream handler behind nginx configured by
// popts, with X-Accel-Buffering: no if accel, and checks that nginx holds
// its flushed event until the response ends if holds and the header is
// missing, and passes it at once otherwise.
func bufferControl(t *testing.T, popts proxytest.Options, accel, holds bool) {
	is := is.New(t)
	send, wrote, end := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var endOnce sync.Once
	finish := func() { endOnce.Do(func() { close(end) }) }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		if accel {
			w.Header().Set("X-Accel-Buffering", "no")
		}
		rc := http.NewResponseController(w)
		w.WriteHeader(http.StatusOK)
		_ = rc.Flush()
		select {
		case <-send:
		case <-r.Context().Done():
			return
		}
		_, _ = io.WriteString(w, "id: 1\ndata: one\n\n")
		_ = rc.Flush() // on the wire to nginx now
		close(wrote)
		select {
		case <-end:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(finish) // runs before srv.Close: the handler returns
	p := proxytest.Start(t, srv.URL, popts)
	tr := &http.Transport{}
	if p.Cert != nil {
		tr = p.Cert.Transport() // HTTP/2 to nginx
	}
	s := openRawWith(t, tr, p.URL+"/")
	close(send)
	select {
	case <-wrote:
	case <-time.After(lttest.Timeout):
		t.Fatal("the upstream handler was never reached")
	}
	_, err := s.waitLine("data: one", time.Second)
	if accel || !holds {
		is.NoErr(err) // passed through at once
		finish()
		return
	}
	is.Equal(err, errTimeout) // flushed by the server, yet held back by nginx
	finish()                  // the response ends: nginx lets it go
	line, err := s.waitLine("data: ", 5*time.Second)
	is.NoErr(err)
	is.Equal(line, "data: one")
	rest, err := s.waitEnd(5 * time.Second)
	is.NoErr(err) // and the response is over
	is.Equal(strings.Join(rest, "|"), "")
}

// With proxy_read_timeout 1s and a heartbeat every 300 ms (the ratio of
// nginx's 60 s to lt's 15 s), an idle stream lives on through nginx, and an
// update reaches the same stream after 3.5 s of silence.
func TestHeartbeatKeepsIdleStreamThroughReadTimeout(t *testing.T) {
	is := is.New(t)
	a := newApp(t, nil, lt.WithHeartbeat(300*time.Millisecond))
	px := proxytest.Start(t, a.Srv.URL, proxytest.Options{ReadTimeout: time.Second})
	is.True(strings.Contains(px.ConfigText(), "proxy_read_timeout 1s;"))
	tab := lttest.Open(t, px.URL+"/") // lttest never reconnects on its own:
	raw := openRaw(t, px.URL+"/")     // a cut would end these streams for good
	_, err := raw.waitLine("event: render", lttest.Timeout)
	is.NoErr(err)

	// The idle period is what is under test: 3.5 s, over three read
	// timeouts, with nothing but heartbeats.
	idle := time.After(3500 * time.Millisecond)
	heartbeats := 0
wait:
	for {
		select {
		case line, ok := <-raw.lines:
			if !ok {
				t.Fatalf("the idle stream was cut after %d heartbeats: %v\n%s", heartbeats, raw.err, px.ErrorLog())
			}
			if line == "event: hb" {
				heartbeats++
			}
		case <-idle:
			break wait
		}
	}
	t.Logf("%d heartbeats through nginx in 3.5 s", heartbeats)
	is.True(heartbeats >= 5) // the heartbeats are what crossed nginx

	is.NoErr(a.H.TriggerAll(context.Background(), "increment", nil))
	ev := tab.Next() // fails the test if the tab's stream had ended
	is.Equal(ev.Type, "update")
	is.Equal(ev.Seq, uint64(1))
	is.True(strings.Contains(ev.HTML, shows(1)))
	// The update's data, not a heartbeat's ("data: 1000 ..."), which may
	// still be on its way when the idle period ends.
	line, err := raw.waitLine("data: {", lttest.Timeout)
	is.NoErr(err) // the raw stream, the same since the start, got it too
	is.True(strings.Contains(line, `"s":1,`))
	is.True(!strings.Contains(px.ErrorLog(), "upstream timed out"))
}

// The control: with a heartbeat (10 s) longer than proxy_read_timeout
// (1 s), nginx cuts the idle stream after the read timeout.
func TestProxyCutsIdleStreamWithoutHeartbeat(t *testing.T) {
	is := is.New(t)
	a := newApp(t, nil, lt.WithHeartbeat(10*time.Second))
	px := proxytest.Start(t, a.Srv.URL, proxytest.Options{ReadTimeout: time.Second})
	raw := openRaw(t, px.URL+"/")
	_, err := raw.waitLine("event: render", lttest.Timeout) // the stream is up
	is.NoErr(err)
	_, err = raw.waitLine("data: ", lttest.Timeout) // the render's data
	is.NoErr(err)
	idleFrom := time.Now()
	rest, err := raw.waitEnd(5 * time.Second)
	is.NoErr(err) // the stream ended
	idle := time.Since(idleFrom)
	t.Logf("nginx cut the idle stream after %v", idle)
	is.Equal(strings.Join(rest, "|"), "")                          // nothing more was sent (but the blank line ending the render)
	is.True(idle >= 900*time.Millisecond)                          // by the read timeout, not before
	is.True(strings.Contains(px.ErrorLog(), "upstream timed out")) // as nginx says
}

// logReach is how many updates a connection's replay log keeps (at the
// sizes of these updates): a reader further behind gets a full render.
const logReach = 64

// nginx restarts in the middle of a burst of 200 updates: the tab's
// stream is cut, and the tab reconnects naming the last update it applied.
// It gets every later update exactly once and in order, replayed from the
// connection's log, and ends up showing the final count. Updates are
// applied 1, 2, 3, ... with no gap, duplicate or reordering; the only jumps
// allowed are full renders, which the server sends to a reader more than
// the log's reach behind (a stream that fell behind the burst, or a tab
// that was away for long), and which show the count of their seq.
func TestReconnectAfterProxyRestartMidBurst(t *testing.T) {
	is := is.New(t)
	a := newApp(t, nil)
	px := proxytest.Start(t, a.Srv.URL, proxytest.Options{})
	tab := lttest.Open(t, px.URL+"/")
	is.Equal(tab.Seq(), uint64(0))

	var applied []uint64 // the sequence numbers the tab showed, in order
	renders := 0
	// read applies the next event and checks it; the tab shows count ==
	// seq after every event.
	read := func() lttest.Event {
		t.Helper()
		before := tab.Seq()
		ev := tab.Next()
		switch ev.Type {
		case "update":
			if ev.Seq != before+1 {
				t.Fatalf("update %d after %d: a gap, duplicate or reordering (applied so far: %v)", ev.Seq, before, applied)
			}
		case "render":
			renders++
			t.Logf("render at %d after %d", ev.Seq, before)
			if ev.Seq <= before+logReach {
				t.Fatalf("render at %d after %d: the log still reached back; want the updates replayed", ev.Seq, before)
			}
		default:
			t.Fatalf("unexpected %q event", ev.Type)
		}
		applied = append(applied, tab.Seq())
		if !strings.Contains(tab.HTML(), shows(int(tab.Seq()))) {
			t.Fatalf("at seq %d the tab shows:\n%s", tab.Seq(), tab.HTML())
		}
		return ev
	}

	// The burst: 200 increments, the last 50 released at the moment the
	// proxy restarts.
	release := make(chan struct{})
	var releaseOnce sync.Once
	releaseBurst := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(releaseBurst)
	burst := make(chan error, 1)
	go func() {
		for i := 1; i <= 200; i++ {
			if i == 151 {
				<-release
			}
			if err := a.H.TriggerAll(context.Background(), "increment", nil); err != nil {
				burst <- err
				return
			}
		}
		burst <- nil
	}()
	for tab.Seq() < 140 {
		read()
	}
	cutAt := tab.Seq()
	releaseBurst()
	px.Restart() // cuts the stream, with updates in flight and more coming
	tab.Connect()
	// At most 60 behind (the server is at 200 at most): the log reaches
	// back, so the missed updates are replayed.
	ev := read()
	is.Equal(ev.Type, "update")
	is.Equal(ev.Seq, cutAt+1)
	for tab.Seq() < 200 {
		read()
	}
	is.NoErr(<-burst)
	t.Logf("cut at seq %d, resumed by replay; %d renders on the way", cutAt, renders)
	for i := 1; i < len(applied); i++ {
		is.True(applied[i] > applied[i-1]) // strictly increasing: nothing applied twice or out of order
	}
	is.Equal(applied[len(applied)-1], uint64(200))
	is.True(strings.Contains(tab.HTML(), shows(200)))

	// A larger gap than the log keeps: the tab gets one full render at
	// the newest count, then live updates again.
	px.Stop()
	for range 100 {
		is.NoErr(a.H.TriggerAll(context.Background(), "increment", nil))
	}
	a.P.waitCount(t, 300)
	px.Start()
	tab.Connect()
	ev = read()
	is.Equal(ev.Type, "render")
	is.Equal(ev.Seq, uint64(300))
	is.NoErr(a.H.TriggerAll(context.Background(), "increment", nil))
	ev = read()
	is.Equal(ev.Type, "update")
	is.Equal(ev.Seq, uint64(301))
}

// 1,000 stream connects and disconnects straight against the Go server
// (new pages and resumed streams), then Handler.Close: every connection
// ran OnDisconnect and no goroutine is left.
func TestNoGoroutineLeftAfterThousandStreams(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	is := is.New(t)
	h, p := newHandler(t)
	r := chi.NewRouter()
	r.Handle("/", h)
	srv := httptest.NewServer(r)

	const cycles = 1000
	var tab *lttest.Tab
	pages := 0
	start := time.Now()
	for i := range cycles {
		if i%10 == 0 { // a new page: page GET, new connection, first stream
			tab = lttest.Open(t, srv.URL+"/")
			pages++
		} else { // the same page's stream again, resuming its connection
			tab.Connect()
		}
		if i%10 == 5 {
			resp := tab.Act("increment", nil)
			is.Equal(resp.Status, http.StatusOK)
			is.True(strings.Contains(resp.HTML, shows(1)))
		}
		tab.Close()
	}
	t.Logf("%d stream cycles (%d pages) in %v", cycles, pages, time.Since(start))

	is.NoErr(h.Close())
	srv.Close()
	http.DefaultTransport.(*http.Transport).CloseIdleConnections() // lttest's client side
	p.mu.Lock()
	connects, disconnects := p.connects, p.disconnects
	p.mu.Unlock()
	is.Equal(connects, pages)    // one connection per page, resumed by every other stream
	is.Equal(disconnects, pages) // each one ended by Close
	goleak.VerifyNone(t, ignore)
}

// Graceful shutdown behind nginx: with Handler.Close registered through
// RegisterOnShutdown, http.Server.Shutdown ends the open streams and
// returns at once. Without it, streams taken from net/http (the default)
// outlive the server's Shutdown until Handler.Close, and streams kept in
// their handlers make Shutdown wait until its context gives up.
func TestGracefulShutdownBehindProxy(t *testing.T) {
	for _, c := range []struct {
		name       string
		registered bool
		opts       []lt.Option
	}{
		{"taken/RegisterOnShutdown", true, nil},
		{"taken/not registered", false, nil},
		{"in handler/RegisterOnShutdown", true, []lt.Option{lt.WithStreamsInHandler()}},
		{"in handler/not registered", false, []lt.Option{lt.WithStreamsInHandler()}},
	} {
		t.Run(c.name, func(t *testing.T) {
			is := is.New(t)
			h, _ := newHandler(t, c.opts...)
			t.Cleanup(func() { _ = h.Close() })
			srv := httptest.NewUnstartedServer(h)
			if c.registered {
				srv.Config.RegisterOnShutdown(func() { _ = h.Close() })
			}
			srv.Start()
			t.Cleanup(srv.Close)
			px := proxytest.Start(t, srv.URL, proxytest.Options{})
			raw := openRaw(t, px.URL+"/")
			_, err := raw.waitLine("event: render", lttest.Timeout)
			is.NoErr(err)

			// A Shutdown that should return has lttest's whole timeout, so
			// a loaded machine cannot fail it; one that the open stream
			// holds up waits out 1.5 s, and must.
			wait := lttest.Timeout
			if !c.registered && c.opts != nil {
				wait = 1500 * time.Millisecond
			}
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			start := time.Now()
			err = srv.Config.Shutdown(ctx)
			took := time.Since(start)
			t.Logf("Shutdown returned %v after %v", err, took)
			switch {
			case c.registered:
				is.NoErr(err) // before ctx's end: the registered Close ended the stream
			case c.opts == nil:
				is.NoErr(err) // net/http no longer holds the stream
				is.NoErr(h.TriggerAll(context.Background(), "increment", nil))
				_, err = raw.waitLine("event: update", lttest.Timeout)
				is.NoErr(err) // still live, until the handler closes
				is.NoErr(h.Close())
			default:
				is.True(errors.Is(err, context.DeadlineExceeded)) // the open stream held the shutdown
				return
			}
			_, err = raw.waitEnd(5 * time.Second)
			is.NoErr(err) // the stream through nginx ended (the client reconnects elsewhere)
		})
	}
}

// docs/deploying-nginx.md shows the configuration these tests run, with
// its production values.
func TestDocumentedConfigIsTheTestedOne(t *testing.T) {
	is := is.New(t)
	doc, err := os.ReadFile("../../../docs/deploying-nginx.md")
	is.NoErr(err)
	_, after, ok := strings.Cut(string(doc), "```nginx\n")
	is.True(ok) // the doc has an nginx block
	block, _, ok := strings.Cut(after, "```")
	is.True(ok)
	want := proxytest.Config("127.0.0.1:8080", "80", proxytest.Options{})
	if block != want {
		t.Fatalf("docs/deploying-nginx.md's first nginx block differs from proxytest.Config(\"127.0.0.1:8080\", \"80\", Options{}):\n--- doc\n%s--- want\n%s", block, want)
	}
}

// Twenty tabs of one Chromium on a page behind nginx (HTTP/1.1, where a
// browser opens at most six connections per origin) all show a server
// update, and a click in the twentieth tab gets its update. This needs the
// client to share one stream among a browser's tabs: with a stream per
// tab, the seventh tab cannot even load its page.
func TestTwentyBrowserTabsThroughProxy(t *testing.T) {
	is := is.New(t)
	a := newApp(t, nil)
	px := proxytest.Start(t, a.Srv.URL, proxytest.Options{})
	browser := ltbrowser.New(t)
	tabs := []context.Context{browser}
	for len(tabs) < 20 {
		tabs = append(tabs, ltbrowser.NewTab(t, browser))
	}
	for i, tab := range tabs {
		if err := ltbrowser.Do(tab, chromedp.Navigate(px.URL+"/")); err != nil {
			t.Fatalf("tab %d of 20 could not load the page: %v", i+1, err)
		}
		if err := ltbrowser.WaitStatus(tab, "online"); err != nil {
			t.Fatalf("tab %d of 20: %v", i+1, err)
		}
	}
	is.NoErr(a.H.TriggerAll(context.Background(), "increment", nil))
	for i, tab := range tabs {
		if err := ltbrowser.WaitText(tab, "#count", "1"); err != nil {
			t.Fatalf("tab %d of 20 missed the update: %v", i+1, err)
		}
	}
	last := tabs[19]
	is.NoErr(ltbrowser.Do(last, chromedp.Click(chromedp.ID("inc"))))
	if err := ltbrowser.WaitText(last, "#count", "2"); err != nil {
		t.Fatalf("the click in tab 20 did not land: %v", err)
	}
}
