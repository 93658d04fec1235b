package attack

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind: every
// Handler, server, stream and browser a probe starts is ended by its
// cleanups.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// timeout bounds every wait of this package (the same as lttest's).
const timeout = lttest.Timeout

// secret is the app's secret in tests that run several instances.
var secret = []byte("livesse attack suite secret, 32 bytes or more")

// record is one log record a Handler wrote.
type record struct {
	Level slog.Level
	Msg   string
	Attrs map[string]string
}

func (r record) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %q", r.Level, r.Msg)
	for k, v := range r.Attrs {
		fmt.Fprintf(&b, " %s=%.200q", k, v)
	}
	return b.String()
}

// logBook records everything a Handler logs, Debug included, for a test
// to await and inspect.
type logBook struct {
	mu      sync.Mutex
	recs    []record
	changed chan struct{}
}

func newLogBook() *logBook { return &logBook{changed: make(chan struct{}, 1)} }

// logger returns a logger that writes to the book.
func (b *logBook) logger() *slog.Logger { return slog.New(bookHandler{b}) }

func (b *logBook) all() []record {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]record(nil), b.recs...)
}

// await waits until a record matching match is written and returns it.
func (b *logBook) await(t testing.TB, what string, match func(record) bool) record {
	t.Helper()
	deadline := time.After(timeout)
	seen := 0
	for {
		recs := b.all()
		for _, r := range recs[seen:] {
			if match(r) {
				return r
			}
		}
		seen = len(recs)
		select {
		case <-b.changed:
		case <-deadline:
			t.Fatalf("no log record %s within %v; the log has:\n%s", what, timeout, b.dump())
			return record{}
		}
	}
}

// find returns the records matching match written so far.
func (b *logBook) find(match func(record) bool) []record {
	var out []record
	for _, r := range b.all() {
		if match(r) {
			out = append(out, r)
		}
	}
	return out
}

func (b *logBook) dump() string {
	var s strings.Builder
	for _, r := range b.all() {
		s.WriteString(clipText(r.String(), 600))
		s.WriteByte('\n')
	}
	return s.String()
}

type bookHandler struct{ b *logBook }

func (h bookHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h bookHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h bookHandler) WithGroup(string) slog.Handler            { return h }

func (h bookHandler) Handle(_ context.Context, r slog.Record) error {
	rec := record{Level: r.Level, Msg: r.Message, Attrs: map[string]string{}}
	r.Attrs(func(a slog.Attr) bool {
		rec.Attrs[a.Key] = a.Value.Resolve().String()
		return true
	})
	h.b.mu.Lock()
	h.b.recs = append(h.b.recs, rec)
	h.b.mu.Unlock()
	select {
	case h.b.changed <- struct{}{}:
	default:
	}
	return nil
}

// waitUntil polls cond, a check of a counter the library or a controller
// keeps, until it holds, for at most timeout.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: not within %v", what, timeout)
		}
		time.Sleep(time.Millisecond) // polling a counter, not standing in for an event
	}
}

// answer is an HTTP response, read whole.
type answer struct {
	Status int
	Header http.Header
	Body   string
}

// openStream is the Body send reports for an event stream that opened:
// it does not wait for the end of a stream, which has none.
const openStream = "(an open event stream)"

// send makes a request and reads its answer, within timeout; a transport
// error fails the test.
func send(t testing.TB, c *http.Client, req *http.Request) answer {
	t.Helper()
	if c == nil {
		c = &http.Client{}
	}
	ctx, cancel := context.WithTimeout(req.Context(), timeout)
	defer cancel()
	resp, err := c.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, clipText(req.URL.String(), 200), err)
	}
	defer resp.Body.Close()
	if req.Method == http.MethodGet && resp.StatusCode == http.StatusOK && strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		return answer{Status: resp.StatusCode, Header: resp.Header, Body: openStream}
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", req.Method, clipText(req.URL.String(), 200), err)
	}
	return answer{Status: resp.StatusCode, Header: resp.Header, Body: string(body)}
}

// postForm posts form urlencoded to u with the client's cookies; hdr adds
// headers (Accept: application/json makes it a JavaScript client's POST).
func postForm(t testing.TB, c *http.Client, u string, form url.Values, hdr http.Header) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	return send(t, c, req)
}

// postAs posts a JavaScript client's action for connection conn to u
// with the jar's cookies and the given extra header and fields.
func postAs(t testing.TB, jar http.CookieJar, u, conn, action string, fields url.Values, hdr http.Header) answer {
	t.Helper()
	f := url.Values{"_lt_conn": {conn}, "_lt_action": {action}}
	for k, v := range fields {
		f[k] = v
	}
	h := http.Header{"Accept": {"application/json"}}
	for k, v := range hdr {
		h[k] = v
	}
	return postForm(t, withJar(jar), u, f, h)
}

// withJar is a client with jar that does not follow redirects.
func withJar(jar http.CookieJar) *http.Client {
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// cookieOf returns the value of lt's session cookie that jar sends to u.
func cookieOf(t testing.TB, jar http.CookieJar, u string) string {
	t.Helper()
	pu, _ := url.Parse(u)
	for _, c := range jar.Cookies(pu) {
		if c.Name == "lt_session" {
			return c.Value
		}
	}
	t.Fatalf("no lt_session cookie for %s", u)
	return ""
}

// shareSession makes jar hold, for URL b, the cookies it holds for URL a:
// one browser behind one load balancer.
func shareSession(jar http.CookieJar, a, b string) {
	ua, _ := url.Parse(a)
	ub, _ := url.Parse(b)
	jar.SetCookies(ub, jar.Cookies(ua))
}

func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + fmt.Sprintf("…(%d bytes)", len(s))
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// streamRequest is a stream GET of u naming conns (none: a fresh one).
func streamRequest(t testing.TB, u string, conns ...string) *http.Request {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	q := pu.Query()
	q["_lt_conn"] = conns
	pu.RawQuery = q.Encode()
	req, err := http.NewRequest(http.MethodGet, pu.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	return req
}

// groupOf is the session of the session cookie jar sends to u.
func groupOf(t testing.TB, jar http.CookieJar, u string) string {
	t.Helper()
	return lt.AnonymousIdentity(cookieOf(t, jar, u)).SessionID
}

func mustGet(t testing.TB, u string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// nextChange reads the tab's stream until an event changes what the tab
// shows (events it had already applied, from its own POSTs' answers, are
// skipped) and returns it.
func nextChange(tab *lttest.Tab) lttest.Event {
	seq := tab.Seq()
	for {
		ev := tab.Next()
		if ev.Changed && tab.Seq() > seq {
			return ev
		}
	}
}

// sameText fails the test if got is not want, showing both clipped: the
// texts of these probes can be a megabyte long.
func sameText(t testing.TB, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s: got %q, want %q", what, clipText(got, 300), clipText(want, 300))
	}
}

// newJar is an empty cookie jar: a new browser.
func newJar() http.CookieJar {
	j, _ := cookiejar.New(nil)
	return j
}
