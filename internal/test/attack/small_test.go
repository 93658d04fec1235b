package attack

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
)

// rawRequest writes req, bytes as they go on the wire, to the server at
// srvURL and returns its answer.
func rawRequest(t *testing.T, srvURL, req string) answer {
	t.Helper()
	u, _ := url.Parse(srvURL)
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the answer to %.80q: %v", req, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return answer{Status: resp.StatusCode, Header: resp.Header, Body: string(body)}
}

// A plain form POST to a catch-all route at //evil.example/x redirects to
// a path of this site, never to evil.example.
func TestPlainPostRedirectStaysOnSite(t *testing.T) {
	is := is.New(t)
	g := newGauge()
	h, err := lt.New(lt.Must(lt.Parse("count", countPage)), &countCtrl{g: g}, countState{}, lt.WithLogger(newLogBook().logger()))
	is.NoErr(err)
	r := chi.NewRouter()
	r.Handle("/*", h)
	srv := httptest.NewServer(r)
	t.Cleanup(func() { _ = h.Close(); srv.Close() })
	host := strings.TrimPrefix(srv.URL, "http://")

	for _, tc := range []struct{ target, location string }{
		{"//evil.example/x", "/evil.example/x"},
		{"///evil.example/x", "/evil.example/x"},
		{`/\evil.example/x`, "/%5Cevil.example/x"},
		{`//\evil.example`, "/%5Cevil.example"},
		{"//evil.example/x?next=//evil.example", "/evil.example/x?next=//evil.example"},
		{"/%2F%2Fevil.example/x", "/%2F%2Fevil.example/x"},
		{"/board/1?tab=2", "/board/1?tab=2"},
	} {
		body := "bump="
		a := rawRequest(t, srv.URL, fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
			tc.target, host, len(body), body))
		is.Equal(a.Status, http.StatusSeeOther)
		is.Equal(a.Header.Get("Location"), tc.location)
		loc, err := url.Parse(srv.URL + "/")
		is.NoErr(err)
		next, err := loc.Parse(a.Header.Get("Location"))
		is.NoErr(err)
		is.Equal(next.Host, host) // the browser stays here
	}
}

// A megabyte of action name is clipped in the answer and in the log.
func TestHugeActionNameClipped(t *testing.T) {
	is := is.New(t)
	srv, _, _, log := countApp(t)
	tab := lttest.Open(t, srv.URL+"/")
	name := strings.Repeat("x", 1_000_000)
	want := `lt: unknown action: "` + strings.Repeat("x", 64) + `…(1000000 bytes)" (actions: Bump)`

	before := len(log.all())
	r := tab.Act(name, nil)
	is.Equal(r.Status, http.StatusBadRequest)
	sameText(t, "the JSON answer", r.Body, `{"error":"`+strings.ReplaceAll(want, `"`, `\"`)+`"}`)
	a := postForm(t, withJar(tab.Jar()), srv.URL+"/", url.Values{"_lt_action": {name}}, nil)
	is.Equal(a.Status, http.StatusBadRequest)
	sameText(t, "the plain answer", a.Body, want+"\n")
	recs := log.all()[before:]
	is.Equal(len(recs), 2)
	for _, rec := range recs {
		is.Equal(rec.Level, slog.LevelWarn)
		is.Equal(rec.Msg, "lt: request refused")
		sameText(t, "the log's err", rec.Attrs["err"], want)
	}

	// A huge Content-Type and a huge path are clipped too.
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/"+strings.Repeat("p", 100_000), strings.NewReader("bump="))
	req.Header.Set("Content-Type", "application/"+strings.Repeat("c", 100_000))
	a = send(t, nil, req)
	is.Equal(a.Status, http.StatusUnsupportedMediaType)
	sameText(t, "the 415 answer", a.Body, `lt: bad request: Content-Type "application/`+strings.Repeat("c", 52)+`…(100012 bytes)"; send a form (application/x-www-form-urlencoded or multipart/form-data)`+"\n")
	for _, rec := range log.all() {
		for k, v := range rec.Attrs {
			if len(v) > 1000 {
				t.Errorf("log record %q has %s of %d bytes", rec.Msg, k, len(v))
			}
		}
	}
}

// A session cookie the client made up, however well-formed, is not a
// session: lt issues a new one, and the made-up group never gets a
// connection or a state.
func TestForgedSessionCookieReplaced(t *testing.T) {
	is := is.New(t)
	srv, h, g, _ := countApp(t)
	other, _, _, _ := countApp(t, lt.WithSecret([]byte("another app's secret, also 32 bytes long")))
	theirs := lttest.Get(t, other.URL+"/")
	real := lttest.Open(t, srv.URL+"/") // the victim, live
	good := cookieOf(t, real.Jar(), srv.URL)
	id, sig, _ := strings.Cut(good, ".")
	flipped := []byte(sig)
	flipped[0] ^= 1

	for _, forged := range []string{
		"AAAAAAAAAAAAAAAAAAAAAA",                                  // an id alone
		"AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA",           // a made-up signature
		id + "." + string(flipped),                                // a real id, a tampered signature
		"BBBBBBBBBBBBBBBBBBBBBB." + sig,                           // another id, a real signature
		cookieOf(t, theirs.Jar(), other.URL),                      // signed by another app
		id + "." + sig + "." + sig,                                // trailing junk
		strings.Repeat("A", 22) + "." + strings.Repeat("A", 4000), // oversize
	} {
		group := lt.AnonymousIdentity(forged).SessionID // the real group, for a real id
		mounted, live := g.mountsOf(group), g.now(group)
		for _, req := range []*http.Request{mustGet(t, srv.URL+"/"), streamRequest(t, srv.URL+"/")} {
			req.Header.Set("Cookie", "lt_session="+forged)
			resp, err := http.DefaultClient.Do(req)
			is.NoErr(err)
			var issued string
			for _, c := range resp.Cookies() {
				if c.Name == "lt_session" {
					issued = c.Value
				}
			}
			resp.Body.Close()
			is.Equal(resp.StatusCode, http.StatusOK)
			is.True(issued != "" && issued != forged)
			is.True(lt.AnonymousIdentity(issued).SessionID != group)
		}
		// A plain POST with it runs in a new session, not the forged one.
		a := postForm(t, withJar(nil), srv.URL+"/", url.Values{"bump": {""}}, http.Header{"Cookie": {"lt_session=" + forged}})
		is.Equal(a.Status, http.StatusSeeOther)
		is.Equal(g.mountsOf(group), mounted)
		is.Equal(g.now(group), live)
	}
	// The victim's tab saw none of it.
	is.NoErr(h.TriggerSession(context.Background(), lt.AnonymousIdentity(good).SessionID, "bump", nil))
	ev := real.Next()
	is.True(contains(ev.HTML, "n=1"))
	// The real cookie is accepted as it is.
	a := send(t, &http.Client{Jar: real.Jar()}, mustGet(t, srv.URL+"/"))
	is.Equal(a.Status, http.StatusOK)
	is.Equal(a.Header.Get("Set-Cookie"), "")
	is.Equal(g.mountsOf(lt.AnonymousIdentity(good).SessionID), 2)
	is.Equal(g.now(lt.AnonymousIdentity(good).SessionID), 1)
}

// serialCtrl notices two plain posts of one session inside its methods at
// once; each method yields a few times, so that posts that are not
// serialized overlap.
type serialCtrl struct{ inside, overlaps *atomic.Int32 }

func (c *serialCtrl) enter() {
	if c.inside.Add(1) > 1 {
		c.overlaps.Add(1)
	}
	for range 20 {
		runtime.Gosched()
	}
}

func (c *serialCtrl) Mount(s countState, ctx *lt.Context) (countState, error) {
	c.enter()
	c.inside.Add(-1)
	return s, nil
}

func (c *serialCtrl) Bump(s countState, ctx *lt.Context) (countState, error) {
	c.enter()
	defer c.inside.Add(-1)
	s.N++
	return s, nil
}

// A hundred plain (JavaScript-free) increments of one session at once
// give exactly a hundred: they run one at a time, each on the state the
// one before saved, so none is lost to another's read of the state.
func TestConcurrentPlainPostsSerialized(t *testing.T) {
	is := is.New(t)
	ctrl := &serialCtrl{inside: new(atomic.Int32), overlaps: new(atomic.Int32)}
	h, err := lt.New(lt.Must(lt.Parse("count", countPage)), ctrl, countState{}, lt.WithLogger(newLogBook().logger()))
	is.NoErr(err)
	srv := httptest.NewServer(h)
	t.Cleanup(func() { _ = h.Close(); srv.Close() })
	page := lttest.Get(t, srv.URL+"/")
	client := withJar(page.Jar())
	const n = 100
	statuses := make(chan answer, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader("bump="))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			<-start
			resp, err := client.Do(req)
			if err != nil {
				statuses <- answer{Body: err.Error()}
				return
			}
			resp.Body.Close()
			statuses <- answer{Status: resp.StatusCode, Header: resp.Header}
		}()
	}
	close(start)
	wg.Wait()
	close(statuses)
	for a := range statuses {
		is.Equal(a.Status, http.StatusSeeOther)
		is.Equal(a.Header.Get("Location"), "/")
	}
	is.Equal(ctrl.overlaps.Load(), int32(0)) // one at a time
	a := send(t, client, mustGet(t, srv.URL+"/"))
	is.True(contains(a.Body, `<p id="n">n=100</p>`))
}

// HEAD of the event stream answers its headers and opens nothing: no
// stream, no connection, and a live tab's stream is not taken over.
func TestHeadOfStreamOpensNothing(t *testing.T) {
	is := is.New(t)
	srv, h, g, _ := countApp(t)
	tab := lttest.Open(t, srv.URL+"/")
	mounts := g.mounts.Load()
	for _, conns := range [][]string{nil, {tab.Conn()}, {"made-up"}} {
		req := streamRequest(t, srv.URL+"/", conns...)
		req.Method = http.MethodHead
		a := send(t, &http.Client{Jar: tab.Jar()}, req)
		is.Equal(a.Status, http.StatusOK)
		is.Equal(a.Header.Get("Content-Type"), "text/event-stream; charset=utf-8") // as GET answers
		is.Equal(a.Body, "")
		is.Equal(h.Streams(), 1) // the tab's own
		is.Equal(g.mounts.Load(), mounts)
	}
	is.NoErr(h.TriggerAll(context.Background(), "bump", nil))
	tab.WaitFor("n=1") // still the tab's stream
}

// Too many form fields is 413, whichever way they come.
func TestTooManyFields(t *testing.T) {
	is := is.New(t)
	srv, _, _, _ := countApp(t)
	small, _, _, _ := countApp(t, lt.WithMaxFields(5))
	large, _, _, _ := countApp(t, lt.WithMaxFields(20_000)) // over net/url's own 10,000
	fields := func(n int) string {
		var b strings.Builder
		b.WriteString("bump=")
		for i := 1; i < n; i++ {
			fmt.Fprintf(&b, "&f%d=v", i)
		}
		return b.String()
	}
	for _, tc := range []struct {
		url  string
		n    int
		want string
	}{
		{srv.URL, 1001, "lt: bad request: over 1000 form fields\n"},
		{srv.URL, 10_001, "lt: bad request: over 1000 form fields\n"},
		{srv.URL, 100_000, "lt: bad request: over 1000 form fields\n"},
		{small.URL, 6, "lt: bad request: over 5 form fields\n"},
		{large.URL, 10_001, "lt: bad request: over 10000 form fields\n"},
	} {
		req, _ := http.NewRequest(http.MethodPost, tc.url+"/", strings.NewReader(fields(tc.n)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		a := send(t, nil, req)
		is.Equal(a.Status, http.StatusRequestEntityTooLarge)
		is.Equal(a.Body, tc.want)
	}
	// Up to net/url's 10,000 a larger WithMaxFields is honoured.
	req, _ := http.NewRequest(http.MethodPost, large.URL+"/", strings.NewReader(fields(10_000)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	is.Equal(send(t, withJar(nil), req).Status, http.StatusSeeOther)

	// The same in multipart.
	for _, tc := range []struct {
		url  string
		n    int
		want string
	}{
		{srv.URL, 1001, "lt: bad request: multipart form too large\n"},
		{small.URL, 6, "lt: bad request: 6 form fields, limit 5\n"},
	} {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		_ = mw.WriteField("bump", "")
		for i := 1; i < tc.n; i++ {
			_ = mw.WriteField(fmt.Sprintf("f%d", i), "v")
		}
		_ = mw.Close()
		req, _ := http.NewRequest(http.MethodPost, tc.url+"/", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		a := send(t, nil, req)
		is.Equal(a.Status, http.StatusRequestEntityTooLarge)
		is.Equal(a.Body, tc.want)
	}
}

// lt.New refuses option values that cannot work.
func TestNewRefusesNonsenseOptions(t *testing.T) {
	page := countPage
	for _, tc := range []struct {
		opt  lt.Option
		want string
	}{
		{lt.WithMaxBodyBytes(0), "lt: option WithMaxBodyBytes(0): must be positive"},
		{lt.WithMaxBodyBytes(-1), "lt: option WithMaxBodyBytes(-1): must be positive"},
		{lt.WithMaxFields(0), "lt: option WithMaxFields(0): must be positive"},
		{lt.WithHeartbeat(-time.Second), "lt: option WithHeartbeat(-1s): must not be negative (0 is the default, 15 s)"},
		{lt.WithRetry(0), "lt: option WithRetry(0s): must be positive"},
		{lt.WithWriteTimeout(-time.Second), "lt: option WithWriteTimeout(-1s): must not be negative (0 is the default, 10 s)"},
		{lt.WithConnectTimeout(0), "lt: option WithConnectTimeout(0s): must be positive"},
		{lt.WithReconnectGrace(-time.Second), "lt: option WithReconnectGrace(-1s): must be positive"},
		{lt.WithMaxSavedStates(0), "lt: option WithMaxSavedStates(0): must be positive"},
		{lt.WithMaxStreams(-1), "lt: option WithMaxStreams(-1): must not be negative (0: no limit)"},
		{lt.WithMaxConnections(-5), "lt: option WithMaxConnections(-5): must not be negative (0: no limit)"},
		{lt.WithClientLimits(0, 8), "lt: option WithClientLimits(0, 8): both must be positive"},
		{lt.WithClientLimits(32, -1), "lt: option WithClientLimits(32, -1): both must be positive"},
		{lt.WithMaxForwardBytes(0), "lt: option WithMaxForwardBytes(0): must be positive"},
		{lt.WithSecret([]byte("short")), "lt: option WithSecret: 5 bytes; use at least 32 random bytes"},
		{lt.WithBroadcaster(&blockingBroadcaster{id: "solo"}), "lt: WithBroadcaster needs WithSecret: every instance must sign session cookies with the same secret, or a browser moving between instances loses its session"},
	} {
		h, err := lt.New(lt.Must(lt.Parse("count", page)), &countCtrl{g: newGauge()}, countState{}, tc.opt)
		if err == nil || err.Error() != tc.want || h != nil {
			t.Errorf("New with a nonsense option: a Handler: %v, error %v; want no Handler and the error %q", h != nil, err, tc.want)
		}
	}
	h, err := lt.New(lt.Must(lt.Parse("count", page)), &countCtrl{g: newGauge()}, countState{},
		lt.WithBroadcaster(&blockingBroadcaster{id: "a.b"}), lt.WithSecret(secret))
	if err == nil || err.Error() != `lt: broadcaster instance id "a.b": use 1 to 32 letters, digits, '_' or '-'` || h != nil {
		t.Errorf("New with a bad instance id: a Handler: %v, error %v", h != nil, err)
	}
}

// blockingBroadcaster's Publish blocks until its context is done, like a
// database that does not answer.
type blockingBroadcaster struct {
	id      string
	entered chan lt.Message
}

func (b *blockingBroadcaster) Instance() string { return b.id }

func (b *blockingBroadcaster) Publish(ctx context.Context, m lt.Message) error {
	b.entered <- m
	<-ctx.Done()
	return ctx.Err()
}

func (b *blockingBroadcaster) Subscribe(lt.Subscriber) func() { return func() {} }

// Server actions and closes give up on a broadcaster that does not
// answer as soon as their context is done; this instance's own tabs are
// updated all the same.
func TestTriggerReturnsWhenContextDone(t *testing.T) {
	is := is.New(t)
	b := &blockingBroadcaster{id: "solo", entered: make(chan lt.Message, 1)}
	srv, h, _, log := countApp(t, lt.WithBroadcaster(b), lt.WithSecret(secret))
	tab := lttest.Open(t, srv.URL+"/")
	group := groupOf(t, tab.Jar(), srv.URL)

	for i, trigger := range []func(context.Context) error{
		func(ctx context.Context) error { return h.TriggerAll(ctx, "bump", nil) },
		func(ctx context.Context) error { return h.TriggerSession(ctx, group, "bump", nil) },
		func(ctx context.Context) error { return h.TriggerUser(ctx, "nobody", "bump", nil) },
		func(ctx context.Context) error { return h.CloseUser(ctx, "nobody") },
	} {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- trigger(ctx) }()
		<-b.entered // publishing, and blocked
		if i < 2 {
			tab.WaitFor(fmt.Sprintf("n=%d", i+1)) // the local tab did not wait
		}
		cancel()
		select {
		case err := <-done:
			is.True(errors.Is(err, context.Canceled))
			is.True(strings.HasPrefix(err.Error(), "lt: telling other instances: "))
		case <-time.After(timeout):
			t.Fatalf("trigger %d did not return after its context was cancelled", i)
		}
	}
	is.True(len(log.find(func(r record) bool {
		return r.Level == slog.LevelError && r.Msg == "lt: publishing to other instances failed"
	})) == 4)
}

// An event stream requested by a page of another origin is refused
// before it makes anything (a stream runs Mount in the session its
// cookie names); the page's own, non-browser clients and trusted origins
// are served.
func TestCrossOriginStreamsRefused(t *testing.T) {
	is := is.New(t)
	srv, h, g, _ := countApp(t, lt.WithTrustedOrigins("https://admin.example"))
	self := srv.URL
	for _, tc := range []struct {
		site, origin string
		refused      string // the 403's reason, "" when served
	}{
		{"same-site", "http://127.0.0.1:1", `Sec-Fetch-Site "same-site"`},
		{"cross-site", "https://evil.example", `Sec-Fetch-Site "cross-site"`},
		{"", "https://evil.example", `Origin "https://evil.example"`},
		{"", "null", `Origin "null"`},
		{"same-origin", "", ""},
		{"same-origin", self, ""},
		{"none", "", ""},
		{"", "", ""}, // not a browser
		{"cross-site", "https://admin.example", ""},
	} {
		mounts := g.mounts.Load()
		req := streamRequest(t, srv.URL+"/")
		if tc.site != "" {
			req.Header.Set("Sec-Fetch-Site", tc.site)
		}
		if tc.origin != "" {
			req.Header.Set("Origin", tc.origin)
		}
		a := send(t, nil, req)
		if tc.refused == "" {
			is.Equal(a.Status, http.StatusOK)
			is.Equal(a.Body, openStream)
			is.Equal(g.mounts.Load(), mounts+1)
			continue
		}
		is.Equal(a.Status, http.StatusForbidden)
		is.Equal(a.Body, "lt: cross-site request refused: origin: stream requested by another origin refused: "+tc.refused+"\n")
		is.Equal(g.mounts.Load(), mounts)
	}
	waitUntil(t, "the served streams to end", func() bool { return h.Streams() == 0 })
}
