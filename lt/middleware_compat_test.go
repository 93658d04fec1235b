package lt_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
)

// Which chi middleware may wrap a live page, whose GET with Accept:
// text/event-stream is a response that lasts as long as the tab is open
// (docs/deploying-nginx.md sums this up). By default a stream takes its
// connection over and its handler returns at once, so middleware sees a
// short request; with lt.WithStreamsInHandler the response lasts, and
// some middleware must be kept off it. Tests run in the mode they are
// about.

type mwState struct{ N int }

type mwCtrl struct{}

func (mwCtrl) Increment(s mwState, ctx *lt.Context) (mwState, error) {
	s.N++
	return s, nil
}

const mwPage = `<!DOCTYPE html><html><head><title>mw</title></head><body><p id="n">n={{.N}}</p></body></html>`

// mwServer serves a live page at / behind mws on srv, an unstarted
// httptest server (so the test can set srv.Config first) that mwServer
// starts. The server's own log is returned: net/http reports misuse of a
// ResponseWriter there.
func mwServer(t *testing.T, srv *httptest.Server, opts []lt.Option, mws ...func(http.Handler) http.Handler) (*lt.Handler, *mwLog) {
	t.Helper()
	h, err := lt.New(lt.Must(lt.Parse("mw", mwPage)), &mwCtrl{}, mwState{}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	r.Use(mws...)
	r.Handle("/", h)
	r.Get("/plain", plainStream)
	srv.Config.Handler = r
	l := &mwLog{}
	srv.Config.ErrorLog = log.New(l, "", 0)
	srv.Start()
	t.Cleanup(func() {
		_ = h.Close() // ends the streams, so the server can close
		srv.Close()
	})
	return h, l
}

func newMWServer(t *testing.T, opts []lt.Option, mws ...func(http.Handler) http.Handler) (*lt.Handler, *httptest.Server) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	h, _ := mwServer(t, srv, opts, mws...)
	return h, srv
}

// mwLog is a log destination safe for concurrent writes.
type mwLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *mwLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *mwLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// plainStream is a streaming handler that does nothing about the server's
// WriteTimeout: it writes a line, then another one after the duration in
// ?after= (1.5 s without it), unless the client's request ends first.
func plainStream(w http.ResponseWriter, r *http.Request) {
	after, err := time.ParseDuration(r.URL.Query().Get("after"))
	if err != nil {
		after = 1500 * time.Millisecond
	}
	w.Header().Set("Content-Type", "text/plain")
	rc := http.NewResponseController(w)
	fmt.Fprintln(w, "first")
	_ = rc.Flush()
	select {
	case <-time.After(after): // past the server's WriteTimeout
	case <-r.Context().Done():
		return
	}
	fmt.Fprintln(w, "second")
	_ = rc.Flush()
}

// mwStream is a stream read line by line in the background.
type mwStream struct {
	resp  *http.Response
	lines chan string // closed when the stream ends
}

// mwOpen GETs the stream of the page at base (a fresh connection) and
// reads it in the background until the test ends.
func mwOpen(t *testing.T, base string) *mwStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/", nil)
	req.Header.Set("Accept", "text/event-stream")
	tr := &http.Transport{}
	resp, err := (&http.Client{Transport: tr, Timeout: 0}).Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	s := &mwStream{resp: resp, lines: make(chan string, 1024)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(s.lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			select {
			case s.lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		resp.Body.Close()
		<-done
		tr.CloseIdleConnections()
	})
	return s
}

// until reads lines until one starts with prefix (true), the stream ends
// or within passes (false).
func (s *mwStream) until(prefix string, within time.Duration) bool {
	deadline := time.After(within)
	for {
		select {
		case line, ok := <-s.lines:
			if !ok {
				return false
			}
			if strings.HasPrefix(line, prefix) {
				return true
			}
		case <-deadline:
			return false
		}
	}
}

// ended waits up to within for the stream to end.
func (s *mwStream) ended(within time.Duration) bool {
	deadline := time.After(within)
	for {
		select {
		case _, ok := <-s.lines:
			if !ok {
				return true
			}
		case <-deadline:
			return false
		}
	}
}

// mwPost posts action for the tab with its cookies, as the client does,
// and returns the status; unlike tab.Act it accepts any answer.
func mwPost(t *testing.T, tab *lttest.Tab, base, action string) int {
	t.Helper()
	f := url.Values{"_lt_conn": {tab.Conn()}, "_lt_action": {action}}
	req, _ := http.NewRequest(http.MethodPost, base+"/", strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Jar: tab.Jar(), Transport: tr, Timeout: lttest.Timeout}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// exceptStreams applies mw to every request but event streams: the way
// to keep a middleware that must not wrap a stream (Timeout, Throttle,
// Compress) for the rest of the app.
func exceptStreams(mw func(http.Handler) http.Handler) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		wrapped := mw(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
				next.ServeHTTP(w, r)
				return
			}
			wrapped.ServeHTTP(w, r)
		})
	}
}

// mwLive checks that a tab on the page at base is live: a server update
// and an action's update both arrive on its stream, promptly: Next waits
// lttest.Timeout (10 s), less than the heartbeat (15 s), so an update a
// middleware held back until the next write would not arrive in time.
func mwLive(t *testing.T, h *lt.Handler, base string) *lttest.Tab {
	t.Helper()
	is := is.New(t)
	tab := lttest.Open(t, base+"/") // the first heartbeat and the render came through
	is.True(strings.Contains(tab.HTML(), "n=0"))
	is.NoErr(h.TriggerAll(context.Background(), "increment", nil))
	ev := tab.Next()
	is.Equal(ev.Type, "update")
	is.True(strings.Contains(ev.HTML, "n=1"))
	resp := tab.Act("increment", nil)
	is.Equal(resp.Status, http.StatusOK)
	ev = tab.Next() // the action's update on the stream too
	is.Equal(ev.Seq, uint64(2))
	is.True(strings.Contains(ev.HTML, "n=2"))
	return tab
}

// Logger, RequestID, Recoverer, ClientIPFromXFF and RealIP wrap the
// stream harmlessly:
// chi's wrapped ResponseWriter flushes (and unwraps), so updates arrive.
func TestMiddlewareThatWorksAroundStreams(t *testing.T) {
	for _, tc := range []struct {
		name string
		mws  []func(http.Handler) http.Handler
	}{
		{"Logger", []func(http.Handler) http.Handler{middleware.Logger}},
		{"RequestID", []func(http.Handler) http.Handler{middleware.RequestID}},
		{"Recoverer", []func(http.Handler) http.Handler{middleware.Recoverer}},
		{"ClientIPFromXFF", []func(http.Handler) http.Handler{middleware.ClientIPFromXFF("127.0.0.0/8")}},
		//lint:ignore SA1019 chi deprecates RealIP (it trusts forwarding headers); applications still use it, and it must not break streams
		{"RealIP", []func(http.Handler) http.Handler{middleware.RealIP}},
		//lint:ignore SA1019 as above
		{"all four", []func(http.Handler) http.Handler{middleware.RequestID, middleware.RealIP, middleware.Logger, middleware.Recoverer}},
		{"the four the docs show", []func(http.Handler) http.Handler{middleware.RequestID, middleware.ClientIPFromXFF("127.0.0.0/8"), middleware.Logger, middleware.Recoverer}},
	} {
		for _, m := range modes {
			t.Run(tc.name+"/"+m.name, func(t *testing.T) {
				h, srv := newMWServer(t, m.opts, tc.mws...)
				mwLive(t, h, srv.URL)
			})
		}
	}
}

// With streams in their handlers, chi's Compress with text/event-stream
// among its types gzips the stream.
// Events still arrive one by one, since its Flush flushes the gzip writer
// too (so this is not a buffering problem), but every open stream then
// holds a gzip writer for as long as the tab is open, and lt's
// "Cache-Control: no-transform" is ignored. Leave text/event-stream out of
// Compress's types, or keep Compress off streams.
func TestCompressAroundStreams(t *testing.T) {
	is := is.New(t)
	h, srv := newMWServer(t, inHandler, middleware.Compress(5, "text/html", "text/event-stream"))
	s := mwOpen(t, srv.URL)      // Go's transport asks for gzip and inflates
	is.True(s.resp.Uncompressed) // the stream was gzipped
	is.True(s.until("event: render", lttest.Timeout))
	is.True(s.until("data: ", lttest.Timeout))
	is.NoErr(h.TriggerAll(context.Background(), "increment", nil))
	is.True(s.until("event: update", 2*time.Second)) // flushed through gzip at once
	mwLive(t, h, srv.URL)                            // and a tab on it is live

	// Without text/event-stream in its types, Compress leaves the stream
	// alone and still compresses the page.
	h2, srv2 := newMWServer(t, inHandler, middleware.Compress(5, "text/html"))
	s2 := mwOpen(t, srv2.URL)
	is.True(!s2.resp.Uncompressed) // the stream is sent as is
	is.True(s2.until("event: render", lttest.Timeout))
	mwLive(t, h2, srv2.URL)
	resp, err := http.Get(srv2.URL + "/") // the page: compressed
	is.NoErr(err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	is.True(resp.Uncompressed)

	// What a gzipped stream costs, for docs/deploying-nginx.md (both ends
	// of the streams are in this process; a figure, not a check).
	perStream := func(base string) int64 {
		const n = 20
		before := heapInUse()
		for range n {
			s := mwOpen(t, base)
			is.True(s.until("event: render", lttest.Timeout))
		}
		return (int64(heapInUse()) - int64(before)) / n
	}
	t.Logf("heap per open stream: %d KiB gzipped, %d KiB as is", perStream(srv.URL)/1024, perStream(srv2.URL)/1024)
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// With streams in their handlers, chi's Timeout(1s) cancels the stream's
// request context after a second:
// the stream ends (and chi then writes a 504 header into a response that
// already began). A live page would reconnect every second. Keep Timeout
// off streams (exceptStreams), where it still bounds the other requests.
func TestTimeoutCutsStreams(t *testing.T) {
	is := is.New(t)
	srv := httptest.NewUnstartedServer(nil)
	_, errLog := mwServer(t, srv, inHandler, middleware.Timeout(time.Second))
	s := mwOpen(t, srv.URL)
	is.True(s.until("event: render", lttest.Timeout))
	start := time.Now()
	is.True(s.ended(5 * time.Second)) // cut
	took := time.Since(start)
	t.Logf("Timeout(1s) ended the stream after %v", took)
	is.True(took >= 800*time.Millisecond)                                          // by the timeout
	is.True(strings.Contains(errLog.String(), "superfluous response.WriteHeader")) // chi's 504 after the stream's 200

	// Kept off streams, the stream outlives the timeout.
	h2, srv2 := newMWServer(t, inHandler, exceptStreams(middleware.Timeout(time.Second)))
	tab := lttest.Open(t, srv2.URL+"/")
	<-time.After(1500 * time.Millisecond) // past the timeout: the duration under test
	is.NoErr(h2.TriggerAll(context.Background(), "increment", nil))
	ev := tab.Next() // the same stream (lttest does not reconnect by itself)
	is.True(strings.Contains(ev.HTML, "n=1"))
}

// With streams in their handlers, chi's Throttle(1): the open stream
// holds the only slot for as long as
// the tab is open, so the tab's action POST is refused with 429. When
// the stream ends the POST goes through. Keep Throttle off streams (and
// bound streams with lt.WithMaxStreams instead).
func TestThrottleStarvedByStream(t *testing.T) {
	is := is.New(t)
	_, srv := newMWServer(t, inHandler, middleware.Throttle(1))
	tab := lttest.Open(t, srv.URL+"/") // its stream takes the slot
	is.Equal(mwPost(t, tab, srv.URL, "increment"), http.StatusTooManyRequests)
	is.Equal(mwPost(t, tab, srv.URL, "increment"), http.StatusTooManyRequests)
	tab.Close()
	// The slot comes back once the server has seen the stream end.
	deadline := time.Now().Add(lttest.Timeout)
	status := 0
	for time.Now().Before(deadline) {
		if status = mwPost(t, tab, srv.URL, "increment"); status == http.StatusOK {
			break
		}
		<-time.After(10 * time.Millisecond) // poll interval
	}
	is.Equal(status, http.StatusOK) // refused only while the stream held the slot

	// Kept off streams, Throttle(1) lets the tab act while its stream is open.
	h2, srv2 := newMWServer(t, inHandler, exceptStreams(middleware.Throttle(1)))
	mwLive(t, h2, srv2.URL)
}

// http.Server.WriteTimeout (300 ms here) does not cut a stream: lt lifts
// the deadline for each stream and sets one per write instead, also
// through chi's wrapped ResponseWriter (and ReadTimeout, the same, does not
// cut it either). The control: a handler that streams without lifting the
// write deadline is cut by the same server. What is under test is a
// stream outliving the server's timeouts, whatever their length: the
// stream idles for twice the WriteTimeout, the control writes after 1.5
// times it.
func TestServerWriteTimeoutDoesNotCutStreams(t *testing.T) {
	const timeout = 300 * time.Millisecond
	for _, tc := range []struct {
		name string
		mws  []func(http.Handler) http.Handler
	}{
		{"bare", nil},
		{"behind Logger and Recoverer", []func(http.Handler) http.Handler{middleware.Logger, middleware.Recoverer}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			is := is.New(t)
			srv := httptest.NewUnstartedServer(nil)
			srv.Config.WriteTimeout = timeout
			srv.Config.ReadTimeout = timeout // harmless too
			h, _ := mwServer(t, srv, inHandler, tc.mws...)
			tab := lttest.Open(t, srv.URL+"/")
			<-time.After(2 * timeout) // twice the WriteTimeout: the duration under test
			is.NoErr(h.TriggerAll(context.Background(), "increment", nil))
			ev := tab.Next() // on the same stream: lttest does not reconnect by itself
			is.Equal(ev.Type, "update")
			is.True(strings.Contains(ev.HTML, "n=1"))
			tab.Act("increment", nil)
			is.True(strings.Contains(tab.Next().HTML, "n=2"))

			// The control: the same server cuts a stream that keeps its
			// deadline.
			resp, err := http.Get(srv.URL + "/plain?after=" + (3 * timeout / 2).String())
			is.NoErr(err)
			defer resp.Body.Close()
			br := bufio.NewReader(resp.Body)
			line, err := br.ReadString('\n')
			is.NoErr(err)
			is.Equal(line, "first\n")
			_, err = br.ReadString('\n')
			is.True(err != nil) // cut before "second"
			is.True(errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF))
		})
	}
}

// A taken stream (the default) leaves its handler at once, so middleware
// that must not wrap a stream in its handler does no harm: Compress does
// not gzip it, Timeout does not cut it, Throttle's slot comes back.
func TestTakenStreamsOutgrowStreamMiddleware(t *testing.T) {
	is := is.New(t)
	returned := make(chan struct{}, 1)
	signalReturn := func(next http.Handler) http.Handler { // tells when the stream's handler returned
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r)
			if strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
				returned <- struct{}{}
			}
		})
	}
	srv := httptest.NewUnstartedServer(nil)
	h, errLog := mwServer(t, srv, taken, signalReturn,
		middleware.Compress(5, "text/html", "text/event-stream"), middleware.Timeout(time.Second), middleware.Throttle(1))
	s := mwOpen(t, srv.URL)
	is.True(!s.resp.Uncompressed) // Compress never wrote it
	is.True(s.until("event: render", lttest.Timeout))
	<-returned

	tab := lttest.Open(t, srv.URL+"/")
	<-returned
	is.Equal(mwPost(t, tab, srv.URL, "increment"), http.StatusOK) // the streams hold no Throttle slot
	is.True(strings.Contains(tab.Next().HTML, "n=1"))
	<-time.After(1500 * time.Millisecond) // past Timeout's second: the duration under test
	is.NoErr(h.TriggerAll(context.Background(), "increment", nil))
	is.True(strings.Contains(tab.Next().HTML, "n=2")) // the same stream
	is.True(s.until("event: update", lttest.Timeout))
	is.True(!strings.Contains(errLog.String(), "superfluous")) // Timeout wrote nothing into the streams
}
