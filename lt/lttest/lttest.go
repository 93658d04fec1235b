// Package lttest drives live pages over the real wire in tests, the way a
// browser tab does: a page GET with a cookie jar, the Server-Sent Events
// stream (read with the github.com/r3labs/sse/v2 client), and action POSTs.
//
//	srv := httptest.NewServer(router)
//	tab := lttest.Open(t, srv.URL+"/")
//	tab.Act("increment", nil)
//	tab.WaitFor(`<output id="count">1</output>`)
package lttest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livesse/livesse/internal/livetree"
	"github.com/r3labs/sse/v2"
	"gopkg.in/cenkalti/backoff.v1"
)

// Timeout bounds every wait of a Tab; a wait that runs out fails the test.
const Timeout = 10 * time.Second

// Event is one event received on a tab's stream (or a POST answer),
// decoded and applied as the browser client applies it.
type Event struct {
	ID      string // the SSE id: field
	Type    string // "update" or "render" ("response" for a POST answer)
	Conn    string // the connection it is for
	Seq     uint64
	Changed bool   // it carried a change (a tree, a diff or HTML)
	Kind    string // "r" (full tree), "d" (diff), "h" (HTML), or "" (no change)
	Size    int    // bytes of its JSON data
	HTML    string // the live region the tab shows after it
	Error   string
	// URL is where the update moves the tab (ctx.PushURL, ReplaceURL: the
	// update's "u"), nil when it moves it nowhere. The tab follows a URL
	// of the same path itself, as the client's pushState does: its later
	// posts go there. For another path (Navigate), call Patch with it, as
	// the client does.
	URL *URLChange
	raw []byte
}

// URLChange is the URL an update moves its tab to (docs/protocol.md,
// "URL changes").
type URLChange struct {
	Path     string `json:"p"` // path and query, as the browser shows them
	Replace  bool   `json:"r"` // replace the history entry instead of adding one
	Navigate bool   `json:"n"` // another path: the client posts _lt_params to it (Patch)
}

// Raw is the event's JSON data as received.
func (e Event) Raw() []byte { return e.raw }

// wireMsg is the JSON of an update (docs/protocol.md).
type wireMsg struct {
	C       string          `json:"c"`
	S       uint64          `json:"s"`
	R       json.RawMessage `json:"r"`
	D       json.RawMessage `json:"d"`
	H       *string         `json:"h"`
	Statics json.RawMessage `json:"S"`
	Error   string          `json:"error"`
	U       *URLChange      `json:"u"`
	L       json.RawMessage `json:"L"`
}

// Tab is one browser tab on a live page. Its methods fail the test (with
// t.Fatal) on transport errors; they must be called from the test's own
// goroutine.
type Tab struct {
	t       testing.TB
	url     string
	client  *http.Client
	conn    string
	seq     uint64
	html    string           // the live region the tab shows
	page    string           // the page as loaded
	tree    *livetree.Client // nil until a full render arrives, and after an HTML fallback
	lists   lists            // the items of the live lists the tab shows (lists.go)
	restart bool             // the render being applied starts the lists over
	pending map[uint64]wireMsg
	events  chan Event
	cancel  context.CancelFunc
	done    chan struct{}
	mu      sync.Mutex
	err     error
}

// Option configures Open.
type Option func(*Tab)

// WithJar makes the tab share a cookie jar (and so a session) with another
// tab: lttest.Open(t, u, lttest.WithJar(first.Jar())).
func WithJar(j http.CookieJar) Option { return func(tb *Tab) { tb.client.Jar = j } }

var scriptRE = regexp.MustCompile(`data-lt-conn="([^"]*)" data-lt-seq="(\d+)"`)

// Open loads the page at pageURL, then opens its stream and waits until the
// stream is connected. The tab is closed when the test ends.
func Open(t testing.TB, pageURL string, opts ...Option) *Tab {
	t.Helper()
	tab := Get(t, pageURL, opts...)
	tab.Connect()
	return tab
}

// Get loads the page at pageURL without opening its stream, like a tab
// whose script has not run yet; Connect opens it.
func Get(t testing.TB, pageURL string, opts ...Option) *Tab {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	tab := &Tab{t: t, url: pageURL, client: &http.Client{Jar: jar, Timeout: Timeout}, events: make(chan Event, 256), done: make(chan struct{})}
	for _, o := range opts {
		o(tab)
	}
	resp, err := tab.client.Get(pageURL)
	if err != nil {
		t.Fatalf("lttest: GET %s: %v", pageURL, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("lttest: GET %s: %s: %s", pageURL, resp.Status, body)
	}
	m := scriptRE.FindSubmatch(body)
	if m == nil {
		t.Fatalf("lttest: GET %s: page has no livesse script tag", pageURL)
	}
	tab.conn = string(m[1])
	tab.seq, _ = strconv.ParseUint(string(m[2]), 10, 64)
	start, end, _ := livetree.Region(body)
	tab.html, tab.page = string(body[start:end]), string(body)
	t.Cleanup(tab.Close)
	return tab
}

// Connect opens the tab's stream for its connection and waits until the
// stream is live. A tab that holds a tree (it has been connected before)
// resumes after the newest update it applied, as the client does after a
// network failure; otherwise, like a freshly loaded page, it asks for a
// full render and waits for it.
func (tab *Tab) Connect() {
	tab.t.Helper()
	tab.Close()
	tab.done = make(chan struct{})
	if tab.tree != nil {
		tab.connect(url.Values{"_lt_conn": {tab.conn}, "_lt_seq": {strconv.FormatUint(tab.seq, 10)}})
		return
	}
	tab.connect(url.Values{"_lt_conn": {tab.conn}})
	if ev := tab.Next(); ev.Type != "render" {
		tab.t.Fatalf("lttest: first event of a page's stream is %q, want render", ev.Type)
	}
}

// OpenStream opens only the stream of the page at pageURL, as a client
// that never loaded the page: the server creates a connection and sends
// a full render first, which OpenStream waits for.
func OpenStream(t testing.TB, pageURL string, opts ...Option) *Tab {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	tab := &Tab{t: t, url: pageURL, client: &http.Client{Jar: jar}, events: make(chan Event, 256), done: make(chan struct{})}
	for _, o := range opts {
		o(tab)
	}
	t.Cleanup(tab.Close)
	tab.connect(url.Values{})
	ev := tab.Next()
	if ev.Type != "render" {
		t.Fatalf("lttest: first event of a fresh stream is %q, want render", ev.Type)
	}
	return tab
}

// OpenStreamFor opens a stream that presents connection id conn with this
// tab's cookies, as a reconnecting (or a forging) client would, and returns
// the first event the server sends.
func (tab *Tab) OpenStreamFor(conn string, seq uint64) (*Tab, Event) {
	tab.t.Helper()
	other := &Tab{t: tab.t, url: tab.url, client: &http.Client{Jar: tab.client.Jar}, events: make(chan Event, 256), done: make(chan struct{})}
	other.connect(url.Values{"_lt_conn": {conn}, "_lt_seq": {strconv.FormatUint(seq, 10)}})
	tab.t.Cleanup(other.Close)
	return other, other.Next()
}

func (tab *Tab) connect(q url.Values) {
	u, err := url.Parse(tab.url)
	if err != nil {
		tab.t.Fatalf("lttest: %v", err)
	}
	uq := u.Query()
	for k, v := range q {
		uq[k] = v
	}
	u.RawQuery = uq.Encode()
	// The client reads an event whole before handing it over, into a
	// buffer that grows as it needs to: a page or an update of any size
	// (the default bound is 64 KiB, and a 1 MB page is a 1 MB render).
	c := sse.NewClient(u.String(), sse.ClientMaxBufferSize(math.MaxInt))
	c.Connection = &http.Client{Jar: tab.client.Jar}
	c.ReconnectStrategy = &backoff.StopBackOff{}
	connected := make(chan struct{})
	var once sync.Once
	c.OnConnect(func(*sse.Client) { once.Do(func() { close(connected) }) })
	ctx, cancel := context.WithCancel(context.Background())
	tab.cancel = cancel
	go func() {
		defer close(tab.done)
		err := c.SubscribeRawWithContext(ctx, func(m *sse.Event) {
			if string(m.Event) == "hb" {
				return // a heartbeat: the stream is alive
			}
			ev := Event{ID: string(m.ID), Type: string(m.Event), Size: len(m.Data)}
			ev.raw = append([]byte(nil), m.Data...)
			select {
			case tab.events <- ev:
			case <-ctx.Done():
			}
		})
		if err != nil && ctx.Err() == nil {
			tab.mu.Lock()
			tab.err = err
			tab.mu.Unlock()
		}
	}()
	select {
	case <-connected:
	case <-tab.done:
		tab.t.Fatalf("lttest: stream %s did not connect: %v", u, tab.streamErr())
	case <-time.After(Timeout):
		tab.t.Fatalf("lttest: stream %s did not connect within %v", u, Timeout)
	}
}

func (tab *Tab) streamErr() error {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	return tab.err
}

// Page is the whole HTML document the tab loaded (Get), script tag included.
func (tab *Tab) Page() string { return tab.page }

// Jar is the tab's cookie jar, to open more tabs of the same session.
func (tab *Tab) Jar() http.CookieJar { return tab.client.Jar }

// Conn is the tab's connection id.
func (tab *Tab) Conn() string { return tab.conn }

// Seq is the sequence number of the newest update the tab applied.
func (tab *Tab) Seq() uint64 { return tab.seq }

// HTML is what the tab shows: the page as loaded, then the live region of
// the newest update applied.
func (tab *Tab) HTML() string { return tab.html }

// Next returns the next event on the stream and applies it as the client
// does (a render always; an update only if it is newer).
func (tab *Tab) Next() Event {
	tab.t.Helper()
	select {
	case ev := <-tab.events:
		tab.apply(&ev)
		return ev
	case <-tab.done:
		tab.t.Fatalf("lttest: stream ended: %v", tab.streamErr())
	case <-time.After(Timeout):
		tab.t.Fatalf("lttest: no event within %v", Timeout)
	}
	return Event{}
}

// apply decodes an event's data and applies it as the browser client does
// (web/src/gate.js): a render always; a full tree or HTML if newer; a diff
// only on top of the update before it, holding early ones back.
func (tab *Tab) apply(ev *Event) {
	tab.t.Helper()
	var m wireMsg
	if err := json.Unmarshal(ev.raw, &m); err != nil {
		tab.t.Fatalf("lttest: %s data is not JSON: %v: %q", ev.Type, err, ev.raw)
	}
	ev.Conn, ev.Seq, ev.Error, ev.URL = m.C, m.S, m.Error, m.U
	switch {
	case m.R != nil:
		ev.Kind = "r"
	case m.D != nil:
		ev.Kind = "d"
	case m.H != nil:
		ev.Kind = "h"
	}
	ev.Changed = ev.Kind != ""
	switch {
	case ev.Type == "render":
		tab.restart = m.C != tab.conn || startsOver(m.L)
		if m.C != tab.conn || tab.tree == nil {
			tab.tree = livetree.NewClient() // statics of another connection are no use
		}
		tab.conn, tab.seq = m.C, m.S
		tab.set(m)
	case m.C != tab.conn || !ev.Changed || m.S <= tab.seq:
	case ev.Kind != "d":
		tab.seq = m.S
		tab.set(m)
	case m.S > tab.seq+1:
		if tab.pending == nil {
			tab.pending = map[uint64]wireMsg{}
		}
		tab.pending[m.S] = m
	default:
		tab.seq = m.S
		tab.set(m)
	}
	for {
		next, ok := tab.pending[tab.seq+1]
		if !ok {
			break
		}
		delete(tab.pending, tab.seq+1)
		tab.seq++
		tab.set(next)
	}
	for s := range tab.pending {
		if s <= tab.seq {
			delete(tab.pending, s)
		}
	}
	ev.HTML = tab.html
}

// set applies the change m carries to the tab's tree and region.
func (tab *Tab) set(m wireMsg) {
	tab.t.Helper()
	if m.U != nil && !m.U.Navigate {
		tab.moveTo(m.U.Path)
	}
	restart := tab.restart
	tab.restart = false
	if m.H != nil {
		tab.tree = nil
		tab.html = tab.keepLists(m.L, *m.H, restart)
		return
	}
	if tab.tree == nil {
		if m.R == nil {
			tab.t.Fatalf("lttest: a diff arrived for a tab without a tree (seq %d)", m.S)
		}
		tab.tree = livetree.NewClient()
	}
	var err error
	if err = tab.tree.Learn(m.Statics); err == nil {
		if m.R != nil {
			err = tab.tree.Replace(m.R)
		} else {
			err = tab.tree.Patch(m.D)
		}
	}
	var doc string
	if err == nil {
		doc, err = tab.tree.HTML()
	}
	if err != nil {
		tab.t.Fatalf("lttest: applying update %d: %v", m.S, err)
	}
	start, end, _ := livetree.Region([]byte(doc))
	tab.html = tab.keepLists(m.L, doc[start:end], restart)
}

// moveTo makes u, a path and query, the tab's URL, as pushState does.
func (tab *Tab) moveTo(u string) {
	tab.t.Helper()
	base, err := url.Parse(tab.url)
	if err == nil {
		var ref *url.URL
		if ref, err = url.Parse(u); err == nil && ref.Host == "" && ref.Scheme == "" {
			tab.url = base.ResolveReference(ref).String()
			return
		}
	}
	tab.t.Fatalf("lttest: an update moves the tab to %q, not a path of %s: %v", u, tab.url, err)
}

// URL is the tab's URL: the page it loaded, then the URLs that updates and
// Patch moved it to.
func (tab *Tab) URL() string { return tab.url }

// Patch moves the tab to pageURL without loading it, as the client does
// for a link marked data-lt-patch, for Back and Forward, and for an
// update whose URL is another path (URLChange.Navigate): it posts
// _lt_conn and _lt_params=1 to pageURL (absolute, or relative to the
// tab's URL), which runs the page's Params with that URL on the tab's
// connection. On 200 it applies the answer and the tab's URL becomes
// pageURL; any other status is returned (410: pageURL is another live
// page, which the client would load).
func (tab *Tab) Patch(pageURL string) Response {
	tab.t.Helper()
	base, _ := url.Parse(tab.url)
	ref, err := url.Parse(pageURL)
	if err != nil || base == nil {
		tab.t.Fatalf("lttest: Patch %q: %v", pageURL, err)
	}
	target := base.ResolveReference(ref).String()
	f := url.Values{"_lt_conn": {tab.conn}, "_lt_params": {"1"}}
	req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := tab.client.Do(req)
	if err != nil {
		tab.t.Fatalf("lttest: Patch %s: %v", target, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	r := Response{Status: resp.StatusCode, Body: string(body)}
	r.Event = Event{Type: "response", Size: len(body), raw: body}
	if resp.StatusCode == http.StatusOK {
		tab.url = target
	}
	tab.apply(&r.Event)
	return r
}

// WaitClosed waits until the server ends the tab's stream, reading (and
// applying) the events before the end.
func (tab *Tab) WaitClosed() {
	tab.t.Helper()
	deadline := time.After(Timeout)
	for {
		select {
		case ev := <-tab.events:
			tab.apply(&ev)
		case <-tab.done:
			return
		case <-deadline:
			tab.t.Fatalf("lttest: the stream did not end within %v", Timeout)
		}
	}
}

// WaitFor reads events until the tab shows want, and returns that event.
func (tab *Tab) WaitFor(want string) Event {
	tab.t.Helper()
	deadline := time.Now().Add(Timeout)
	for time.Now().Before(deadline) {
		ev := tab.Next()
		if strings.Contains(tab.html, want) {
			return ev
		}
	}
	tab.t.Fatalf("lttest: tab never showed %q; it shows:\n%s", want, tab.html)
	return Event{}
}

// Response is the answer to an action POST.
type Response struct {
	Status int
	Event         // the update it carried, if any (HTML "" when nothing changed)
	Body   string // raw body
}

// Act posts action with fields as the JavaScript client does, applies the
// update it answers with, and returns the response. A 4xx is returned, not
// a failure: tests of refusals read Status.
func (tab *Tab) Act(action string, fields url.Values) Response {
	tab.t.Helper()
	return tab.ActAs(tab.conn, action, fields)
}

// ActAs is Act presenting connection id conn, e.g. a forged one.
func (tab *Tab) ActAs(conn, action string, fields url.Values) Response {
	tab.t.Helper()
	f := url.Values{}
	for k, v := range fields {
		f[k] = v
	}
	f.Set("_lt_conn", conn)
	if action != "" {
		f.Set("_lt_action", action)
	}
	req, _ := http.NewRequest(http.MethodPost, tab.url, strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := tab.client.Do(req)
	if err != nil {
		tab.t.Fatalf("lttest: POST %s: %v", action, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	r := Response{Status: resp.StatusCode, Body: string(body)}
	r.Event = Event{Type: "response", Size: len(body), raw: body}
	tab.apply(&r.Event)
	return r
}

// Close ends the tab's stream and waits for its reader to stop. Events
// received but not read are dropped, as a closed tab would.
func (tab *Tab) Close() {
	if tab.cancel != nil {
		tab.cancel()
		<-tab.done
		tab.cancel = nil
		for len(tab.events) > 0 {
			<-tab.events
		}
	}
	tab.client.CloseIdleConnections()
}

// String describes the tab for test messages.
func (tab *Tab) String() string { return fmt.Sprintf("tab(conn=%s seq=%d)", tab.conn, tab.seq) }
