package e2e

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/security"
	"github.com/chromedp/chromedp"
	"github.com/livesse/livesse/internal/test/proxytest"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/ltbrowser"
	"github.com/matryer/is"
)

// The tests of this file run Chromium against a live page over TLS and
// HTTP/2, two ways: straight to Go's server (net/http's HTTP/2, where a
// stream cannot take its connection over and stays in its handler, flushed
// event by event), and through nginx terminating TLS and HTTP/2 with
// HTTP/1.1 to Go (internal/test/proxytest's TLS mode, the configuration of
// docs/deploying-nginx.md). Chromium ignores certificate errors
// (Security.setIgnoreCertificateErrors): the certificates are made for the
// test. The page is still a secure context, so the tabs share one stream
// as they do on any HTTPS site.

// h2State is a tab's count.
type h2State struct{ N int }

type h2Ctrl struct{}

// Bump counts one in this tab; a click also counts one in every other tab
// of the browser (its session), through their streams.
func (*h2Ctrl) Bump(s h2State, ctx *lt.Context) (h2State, error) {
	s.N++
	if ctx.FromClient() {
		if err := ctx.BroadcastAction("bump", nil); err != nil {
			return s, err
		}
	}
	return s, nil
}

const h2HTML = `<!DOCTYPE html><html><head><title>h2</title></head><body>` +
	`<p id="n">{{.N}}</p><button id="bump" name="bump">bump</button></body></html>`

// h2Request is what the Go server saw of a request.
type h2Request struct {
	Proto, Method, Remote string
	Stream                bool
	Seqs                  []string // a stream's _lt_seq values
}

// h2Server is the page's handler, recording the requests it serves.
type h2Server struct {
	h    *lt.Handler
	mu   sync.Mutex
	reqs []h2Request
}

func (s *h2Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.reqs = append(s.reqs, h2Request{
		Proto: r.Proto, Method: r.Method, Remote: r.RemoteAddr,
		Stream: strings.Contains(r.Header.Get("Accept"), "text/event-stream"),
		Seqs:   r.URL.Query()["_lt_seq"],
	})
	s.mu.Unlock()
	s.h.ServeHTTP(w, r)
}

// requests returns what the server has seen, streams or other requests.
func (s *h2Server) requests(streams bool) []h2Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []h2Request
	for _, r := range s.reqs {
		if r.Stream == streams {
			out = append(out, r)
		}
	}
	return out
}

// h2Site is the page served over TLS and HTTP/2.
type h2Site struct {
	URL string
	// Cut closes every connection the browser has to the site, streams
	// and all, as a network failure would.
	Cut func()
	// Upstream is the protocol the Go server sees.
	Upstream string
}

// h2Sites are the two ways to the page.
var h2Sites = []struct {
	name  string
	start func(t *testing.T, h http.Handler) h2Site
}{
	{"Go server", func(t *testing.T, h http.Handler) h2Site {
		srv := httptest.NewUnstartedServer(h)
		srv.EnableHTTP2 = true
		// Chromium gives up a handshake or two on the test's certificate
		// before it takes it (a certificate error, then the override):
		// net/http logs each, which says nothing here.
		srv.Config.ErrorLog = log.New(dropHandshakeErrors{}, "", log.LstdFlags)
		srv.StartTLS()
		t.Cleanup(srv.Close)
		return h2Site{URL: srv.URL, Cut: srv.CloseClientConnections, Upstream: "HTTP/2.0"}
	}},
	{"nginx", func(t *testing.T, h http.Handler) h2Site {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		px := proxytest.Start(t, srv.URL, proxytest.Options{TLS: true})
		return h2Site{URL: px.URL, Cut: px.Restart, Upstream: "HTTP/1.1"}
	}},
}

// dropHandshakeErrors writes net/http's log lines to stderr, but for TLS
// handshake errors.
type dropHandshakeErrors struct{}

func (dropHandshakeErrors) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("TLS handshake error")) {
		return len(p), nil
	}
	return os.Stderr.Write(p)
}

// serveH2 serves the page on site until the test ends; the Handler closes
// first, so that the streams end and the servers can stop. The session
// cookie is Secure, as deploying.md asks with TLS at a proxy.
func serveH2(t *testing.T, start func(*testing.T, http.Handler) h2Site, opts ...lt.Option) (*h2Server, h2Site) {
	t.Helper()
	opts = append([]lt.Option{lt.WithSessionCookie("lt_session", true)}, opts...)
	s := &h2Server{h: lt.Must(lt.New(lt.Must(lt.Parse("h2", h2HTML)), &h2Ctrl{}, h2State{}, opts...))}
	site := start(t, s)
	t.Cleanup(func() { _ = s.h.Close() }) // before the servers' cleanups
	return s, site
}

// h2Browser starts Chromium, ignoring certificate errors.
func h2Browser(t *testing.T) context.Context {
	t.Helper()
	b := ltbrowser.New(t)
	ctx, cancel := context.WithTimeout(b, ltbrowser.Timeout)
	defer cancel()
	if _, err := chromedp.CallBrowser(ctx, security.SetIgnoreCertificateErrors, security.SetIgnoreCertificateErrorsParams{Ignore: true}); err != nil {
		t.Fatalf("ignoring certificate errors: %v", err)
	}
	return b
}

// netLog records what Chromium's network layer says about a tab's event
// streams: their responses (protocol, connection) and the events on them.
type netLog struct {
	mu      sync.Mutex
	streams []network.RequestID // in the order they were requested
	urls    map[network.RequestID]string
	resp    map[network.RequestID]*network.Response
	events  map[network.RequestID][]string // "name id", in order
}

// listenNet starts recording the tab's streams; call it before the tab
// loads the page.
func listenNet(t *testing.T, tab context.Context) *netLog {
	t.Helper()
	l := &netLog{urls: map[network.RequestID]string{}, resp: map[network.RequestID]*network.Response{}, events: map[network.RequestID][]string{}}
	err := chromedp.Listen(tab, func(ev any) {
		l.mu.Lock()
		defer l.mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			if ev.Type == network.ResourceTypeEventSource {
				l.streams = append(l.streams, ev.RequestID)
				l.urls[ev.RequestID] = ev.Request.URL
			}
		case *network.EventResponseReceived:
			if ev.Type == network.ResourceTypeEventSource {
				l.resp[ev.RequestID] = ev.Response
			}
		case *network.EventEventSourceMessageReceived:
			l.events[ev.RequestID] = append(l.events[ev.RequestID], ev.EventName+" "+ev.EventID)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// stream returns the response of the tab's ith stream (from 0) and the
// events that came on it so far.
func (l *netLog) stream(i int) (*network.Response, []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if i >= len(l.streams) {
		return nil, nil
	}
	id := l.streams[i]
	return l.resp[id], slices.Clone(l.events[id])
}

// streamsOf returns the responses of the tab's streams to site (nil for
// one not answered yet).
func (l *netLog) streamsOf(site string) []*network.Response {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*network.Response
	for _, id := range l.streams {
		if strings.HasPrefix(l.urls[id], site+"/") {
			out = append(out, l.resp[id])
		}
	}
	return out
}

// count is how many streams the tab has requested.
func (l *netLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.streams)
}

// openH2 navigates tab to url and waits until the client is online.
func openH2(t *testing.T, tab context.Context, url string, what string) {
	t.Helper()
	if err := ltbrowser.Do(tab, chromedp.Navigate(url)); err != nil {
		t.Fatalf("%s: loading the page: %v", what, err)
	}
	if err := ltbrowser.WaitStatus(tab, "online"); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// recordJS makes the page keep every update it applies, with its seq and
// when it was applied (milliseconds since the epoch).
const recordJS = `(() => {
	window.__h2 = [];
	document.addEventListener('lt:update', (e) => window.__h2.push({s: e.detail.seq, at: performance.timeOrigin + performance.now()}));
})()`

type applied struct {
	S  uint64  `json:"s"`
	At float64 `json:"at"`
}

func record(t *testing.T, tab context.Context) {
	t.Helper()
	if err := ltbrowser.Do(tab, chromedp.Evaluate[chromedp.Void](recordJS)); err != nil {
		t.Fatal(err)
	}
}

func recorded(t *testing.T, tab context.Context) []applied {
	t.Helper()
	got, err := ltbrowser.Eval[[]applied](tab, `window.__h2`)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// waitAtLeast waits until the tab's count is n or more.
func waitAtLeast(tab context.Context, n int) error {
	return ltbrowser.Wait(tab, fmt.Sprintf("#n to reach %d", n),
		fmt.Sprintf("Number(document.querySelector('#n').textContent) >= %d", n),
		"document.querySelector('#n').textContent")
}

// Over HTTP/2, to Go's server and through nginx: the page, its stream and
// its POSTs go over h2 (as Chromium reports them), a server update reaches
// both tabs of the browser, and an update that a click in one tab sends to
// the other reaches it with no heartbeat for an hour: neither Go's HTTP/2
// server nor nginx holds an event back until something else is written.
func TestHTTP2LiveUpdates(t *testing.T) {
	for _, site := range h2Sites {
		t.Run(site.name, func(t *testing.T) {
			is := is.New(t)
			// Nothing else is written on an idle stream for this long: an
			// update held back until the next write would not arrive
			// within the test's waits at all, which is what they check
			// (not how soon it came, which a loaded machine stretches).
			const heartbeat = time.Hour
			srv, s := serveH2(t, site.start, lt.WithHeartbeat(heartbeat))
			b := h2Browser(t)
			lead, other := b, ltbrowser.NewTab(t, b)
			net := listenNet(t, lead)
			openH2(t, lead, s.URL+"/", "the first tab")
			openH2(t, other, s.URL+"/", "the second tab")
			isLeader, err := ltbrowser.Eval[bool](lead, `window.livesse.leader`)
			is.NoErr(err)
			is.True(isLeader) // the first tab holds the stream the two share

			nav, err := ltbrowser.Eval[string](lead, `performance.getEntriesByType('navigation')[0].nextHopProtocol`)
			is.NoErr(err)
			is.Equal(nav, "h2") // the page came over HTTP/2
			// The leader's latest stream (it reconnects to name the second
			// tab) has its response.
			var resp *network.Response
			is.NoErr(waitFor(func() bool {
				resp, _ = net.stream(net.count() - 1)
				return resp != nil
			}, func() string { return fmt.Sprintf("stream %d has no response", net.count()) }))
			is.Equal(resp.Protocol, "h2")                                     // and so does the stream
			is.Equal(resp.Headers["cache-control"], "no-cache, no-transform") // lt's headers reach the browser
			for _, r := range srv.requests(true) {
				is.Equal(r.Proto, s.Upstream) // HTTP/2 to Go, or HTTP/1.1 from nginx
			}

			is.NoErr(srv.h.TriggerAll(context.Background(), "bump", nil))
			is.NoErr(ltbrowser.WaitText(lead, "#n", "1"))
			is.NoErr(ltbrowser.WaitText(other, "#n", "1"))

			// A click in the second tab: its POST answer brings its own
			// update, and the broadcast reaches the first tab on its stream.
			record(t, lead)
			for n := 2; n <= 6; n++ {
				is.NoErr(ltbrowser.Do(other, chromedp.Click("#bump")))
				is.NoErr(ltbrowser.WaitText(other, "#n", strconv.Itoa(n)))
				is.NoErr(ltbrowser.WaitText(lead, "#n", strconv.Itoa(n)))
				type post struct {
					End   float64 `json:"end"`
					Proto string  `json:"proto"`
				}
				// The update may come on the stream before the POST's own
				// answer has ended: await the answer's timing entry.
				const posts = `performance.getEntriesByType('resource').filter((e) => e.initiatorType === 'fetch' && e.responseEnd > 0).length`
				is.NoErr(ltbrowser.Wait(other, "the POST's answer", posts+` >= `+strconv.Itoa(n-1), posts))
				p, err := ltbrowser.Eval[post](other, `(() => {
					const e = performance.getEntriesByType('resource').filter((e) => e.initiatorType === 'fetch').pop();
					return {end: performance.timeOrigin + e.responseEnd, proto: e.nextHopProtocol};
				})()`)
				is.NoErr(err)
				is.Equal(p.Proto, "h2") // the POST went over HTTP/2 too
				got := recorded(t, lead)
				at := -1.0
				for _, a := range got {
					if a.S == uint64(n) {
						at = a.At
					}
				}
				is.True(at > 0) // the first tab applied update n
				late := time.Duration((at - p.End) * float64(time.Millisecond))
				t.Logf("click %d: the other tab had the update %v after the POST answer", n-1, late)
			}
			for _, r := range srv.requests(false) {
				is.Equal(r.Proto, s.Upstream)
			}
		})
	}
}

// noChannelJS hides BroadcastChannel from the page before its scripts
// run: the client then opens a stream of its own in every tab, as in a
// browser without it.
const noChannelJS = `delete window.BroadcastChannel;`

// Twenty tabs of one Chromium over HTTP/2, to Go's server and through
// nginx, first each with a stream of its own (BroadcastChannel hidden, so
// that the tabs cannot share one), then sharing one as the client does by default.
// Over HTTP/1.1 twenty streams of their own could not work: a browser
// opens at most six connections per origin and each stream holds one. Over
// HTTP/2 they are twenty streams of one connection (Chromium names the
// same connection for all), every tab shows a server update, and a click
// in each tab reaches every tab. Shared, the server holds one stream for
// the browser instead of twenty, and the same holds.
func TestHTTP2TwentyTabs(t *testing.T) {
	const tabs = 20
	// One browser for both ways to the page: its tabs go from one to the
	// other.
	b := h2Browser(t)
	ctxs := []context.Context{b}
	for len(ctxs) < tabs {
		ctxs = append(ctxs, ltbrowser.NewTab(t, b))
	}
	nets := make([]*netLog, tabs)
	for i, tab := range ctxs {
		nets[i] = listenNet(t, tab)
	}
	// hideChannel sets noChannelJS up in every tab for the pages they
	// load next; showChannel takes it away again.
	scripts := make([]page.ScriptIdentifier, tabs)
	hideChannel := func(t *testing.T) {
		for i, tab := range ctxs {
			ctx, cancel := context.WithTimeout(tab, ltbrowser.Timeout)
			res, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: noChannelJS})
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			scripts[i] = res.Identifier
		}
	}
	showChannel := func(t *testing.T) {
		for i, tab := range ctxs {
			ctx, cancel := context.WithTimeout(tab, ltbrowser.Timeout)
			_, err := chromedp.Call(ctx, page.RemoveScriptToEvaluateOnNewDocument, page.RemoveScriptToEvaluateOnNewDocumentParams{Identifier: scripts[i]})
			cancel()
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, site := range h2Sites {
		t.Run(site.name, func(t *testing.T) {
			is := is.New(t)
			// One client may hold 8 streams by default: one browser needs
			// one, but here each tab opens its own.
			srv, s := serveH2(t, site.start, lt.WithClientLimits(128, tabs))
			n := 0 // the count every tab shows

			// act checks that the tabs are live and that their actions
			// work: a server update reaches each, then each tab clicks
			// once, and its broadcast reaches the other nineteen.
			act := func(t *testing.T) {
				t.Helper()
				n++
				is.NoErr(srv.h.TriggerAll(context.Background(), "bump", nil))
				eachTab(t, ctxs, func(tab context.Context) error { return ltbrowser.WaitText(tab, "#n", strconv.Itoa(n)) })
				eachTab(t, ctxs, func(tab context.Context) error {
					return ltbrowser.Do(tab, ltbrowser.FillAndClick("#bump", map[string]string{}))
				})
				n += tabs
				eachTab(t, ctxs, func(tab context.Context) error { return ltbrowser.WaitText(tab, "#n", strconv.Itoa(n)) })
				for _, r := range srv.requests(false) {
					is.Equal(r.Proto, s.Upstream) // the pages and POSTs over HTTP/2 to Go, HTTP/1.1 from nginx
				}
			}

			t0 := time.Now()
			hideChannel(t)
			loadAll(t, ctxs, s.URL+"/")
			t.Logf("own loaded %v", time.Since(t0))
			is.Equal(srv.h.Streams(), tabs) // a stream per tab, all open at once
			conns := map[float64]bool{}
			for i, l := range nets {
				ss := l.streamsOf(s.URL)
				if len(ss) != 1 || ss[0] == nil || ss[0].Protocol != "h2" {
					t.Fatalf("tab %d: want one stream over h2, got %d: %+v", i+1, len(ss), ss)
				}
				conns[ss[0].ConnectionID] = true
			}
			t.Logf("%d streams over %d connection(s)", tabs, len(conns))
			is.Equal(len(conns), 1) // all on one connection
			act(t)
			t.Logf("own acted %v", time.Since(t0))
			for i, l := range nets {
				if got := len(l.streamsOf(s.URL)); got != 1 {
					t.Fatalf("tab %d opened %d streams: one was cut on the way", i+1, got)
				}
			}

			// Shared: the tabs load the page again, with BroadcastChannel.
			showChannel(t)
			loadAll(t, ctxs, s.URL+"/")
			t.Logf("shared loaded %v", time.Since(t0))
			// The new pages start from the session's saved state.
			shown, err := ltbrowser.Text(ctxs[0], "#n")
			is.NoErr(err)
			n, err = strconv.Atoi(shown)
			is.NoErr(err)
			is.NoErr(waitFor(func() bool {
				ss := srv.requests(true)
				return srv.h.Streams() == 1 && len(ss[len(ss)-1].Seqs) == tabs
			}, func() string {
				ss := srv.requests(true)
				return fmt.Sprintf("%d streams open, the latest for %d tabs", srv.h.Streams(), len(ss[len(ss)-1].Seqs))
			}))
			t.Logf("shared one stream %v", time.Since(t0))
			act(t)
			t.Logf("shared acted %v", time.Since(t0))
			is.Equal(srv.h.Streams(), 1) // one stream served the twenty tabs
		})
	}
}

// loadAll loads url in the first tab, which gets the session cookie, then
// in the others at once, and waits until every tab is online. (Loaded at
// once by a browser without the cookie, each page would start a session
// of its own, and the cookie would change under the tabs' streams and
// POSTs.)
func loadAll(t *testing.T, tabs []context.Context, url string) {
	t.Helper()
	openH2(t, tabs[0], url, "tab 1")
	eachTab(t, tabs[1:], func(tab context.Context) error {
		if err := ltbrowser.Do(tab, chromedp.Navigate(url)); err != nil {
			return err
		}
		return ltbrowser.WaitStatus(tab, "online")
	})
}

// eachTab runs f in every tab at once and fails the test with the first
// tab's error.
func eachTab(t *testing.T, tabs []context.Context, f func(tab context.Context) error) {
	t.Helper()
	errs := make([]error, len(tabs))
	var wg sync.WaitGroup
	for i, tab := range tabs {
		wg.Go(func() { errs[i] = f(tab) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("tab %d of %d: %v", i+1, len(tabs), err)
		}
	}
}

// waitFor polls cond until it holds, for at most ltbrowser.Timeout; the
// error says what show says then.
func waitFor(cond func() bool, show func() string) error {
	deadline := time.Now().Add(ltbrowser.Timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("still %s after %v", show(), ltbrowser.Timeout)
		}
		time.Sleep(5 * time.Millisecond) // poll interval
	}
	return nil
}

// A cut of the browser's HTTP/2 connection in the middle of a burst of
// updates, to Go's server (which closes its connections) and through nginx
// (which restarts): the two tabs of the browser, one holding the shared
// stream and one relayed its events, reconnect naming the updates they
// applied, get the ones they missed replayed (no render on the new
// stream), and apply 2, 3, 4, ... 80 with no gap, duplicate or
// reordering.
func TestHTTP2ResumeAfterCut(t *testing.T) {
	const total = 80
	for _, site := range h2Sites {
		t.Run(site.name, func(t *testing.T) {
			is := is.New(t)
			srv, s := serveH2(t, site.start, lt.WithRetry(100*time.Millisecond))
			b := h2Browser(t)
			lead, other := b, ltbrowser.NewTab(t, b)
			net := listenNet(t, lead)
			openH2(t, lead, s.URL+"/", "the first tab")
			openH2(t, other, s.URL+"/", "the second tab")
			// Update 1 reaches the second tab once the stream carries it
			// (the first tab's stream takes it in after it loaded, with a
			// render): from there on, every update is on the stream.
			is.NoErr(srv.h.TriggerAll(context.Background(), "bump", nil))
			is.NoErr(ltbrowser.WaitText(lead, "#n", "1"))
			is.NoErr(ltbrowser.WaitText(other, "#n", "1"))
			record(t, lead)
			record(t, other)

			// The burst: updates 2 to 80, the last 40 released once the
			// connection is cut, so that no tab can have them all before
			// the cut however the machine schedules it (released first, on
			// a loaded machine all 80 could arrive before a restarted nginx
			// went down). Each tab's connection keeps the last 64 in its
			// log, more than a tab can miss here (it has applied 30 when
			// the cut comes).
			release := make(chan struct{})
			var releaseOnce sync.Once
			releaseBurst := func() { releaseOnce.Do(func() { close(release) }) }
			t.Cleanup(releaseBurst)
			burst := make(chan error, 1)
			go func() {
				for i := 2; i <= total; i++ {
					if i == total/2+1 {
						<-release
					}
					if err := srv.h.TriggerAll(context.Background(), "bump", nil); err != nil {
						burst <- err
						return
					}
				}
				burst <- nil
			}()
			is.NoErr(waitAtLeast(lead, 30))
			streamsBefore := len(srv.requests(true))
			netBefore := net.count()
			s.Cut()
			releaseBurst()
			for _, tab := range []context.Context{lead, other} {
				is.NoErr(ltbrowser.WaitText(tab, "#n", strconv.Itoa(total)))
				is.NoErr(ltbrowser.WaitStatus(tab, "online"))
			}
			is.NoErr(<-burst)

			for i, tab := range []context.Context{lead, other} {
				var seqs []uint64
				for _, a := range recorded(t, tab) {
					seqs = append(seqs, a.S)
				}
				want := make([]uint64, total-1)
				for i := range want {
					want[i] = uint64(i + 2)
				}
				if !slices.Equal(seqs, want) {
					t.Fatalf("tab %d applied %v, want 2 to %d in order", i+1, seqs, total)
				}
			}
			// The new streams named the seq of both tabs (a resume), and
			// brought no render.
			after := srv.requests(true)[streamsBefore:]
			is.True(len(after) > 0)
			for _, r := range after {
				is.Equal(len(r.Seqs), 2) // the two tabs
				for _, q := range r.Seqs {
					n, err := strconv.Atoi(q)
					is.NoErr(err) // a seq, not a request for a render
					is.True(n >= 30)
				}
			}
			first, err := strconv.Atoi(after[0].Seqs[0])
			is.NoErr(err)
			is.True(first < total) // the cut came before the tab had everything: the rest was replayed
			renders := 0
			for i := netBefore; i < net.count(); i++ {
				_, evs := net.stream(i)
				for _, e := range evs {
					if strings.HasPrefix(e, "render ") {
						renders++
					}
				}
			}
			t.Logf("resumed at %v of %d; %d stream(s) after the cut, %d render(s) on them", after[0].Seqs, total, len(after), renders)
			is.Equal(renders, 0)
		})
	}
}
