//go:build attackdefects

package attack

// Probes of defects found by this suite and not fixed yet. Each fails
// now and passes once its defect is fixed; then it moves into the suite
// proper. Run them with:
//
//	go test -tags attackdefects -run Defect ./internal/attack/

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/go-chi/chi/v5"
	"github.com/livesse/livesse/internal/browsertest"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/livesse/livesse/middleware"
	"github.com/matryer/is"
)

// D1. A forwarded POST's ctx.Request() is not the same request: its Form
// lacks the URL's query values (r.FormValue("q") is "" on the owner for
// a POST to ?q=1 forwarded by another instance, "1" when it lands on the
// owner), and chi's route context carries no pattern.
func TestDefectForwardedRequestFormAndRoute(t *testing.T) {
	is := is.New(t)
	bus := lt.NewBus()
	a, b := newFwdInstance(t, bus.Instance("a")), newFwdInstance(t, bus.Instance("b"))
	tab := lttest.Open(t, a.URL+"/boards/1")
	shareSession(tab.Jar(), a.URL, b.URL)
	var seen [2]call
	for i, in := range []*fwdInstance{a, b} {
		probe := http.Header{"X-Probe": {in.URL}}
		postAs(t, tab.Jar(), in.URL+"/boards/1?q=1", tab.Conn(), "echo", url.Values{"note": {"x"}}, probe)
		seen[i] = a.calls.nextWhere(t, "Echo", func(k call) bool { return k.Req.Header.Get("X-Probe") == in.URL })
	}
	direct, forwarded := seen[0].Req, seen[1].Req
	is.Equal(direct.Form.Get("q"), "1")
	is.Equal(forwarded.Form.Get("q"), direct.Form.Get("q")) // r.FormValue("q") differs
	is.Equal(forwarded.Pattern, direct.Pattern)             // chi.RouteContext(r.Context()).RoutePattern()
}

// D2. Behind middleware.Session, a stream request without a cookie is a
// session this very response starts, but lt does not know it: naming 64
// connections it gets 32 (Mount runs for each, and they stay for the
// reconnect grace after the 429) instead of a 429 before anything is made.
// Every such request adds 32 connections no limit counts together.
func TestDefectCookielessStreamBehindSessionMiddleware(t *testing.T) {
	is := is.New(t)
	g := newGauge()
	h, err := lt.New(lt.Must(lt.Parse("count", countPage)), &countCtrl{g: g}, countState{}, lt.WithLogger(newLogBook().logger()))
	is.NoErr(err)
	srv := httptest.NewServer(middleware.Session(h))
	t.Cleanup(func() { _ = h.Close(); srv.Close() })
	for i := range 10 {
		ids := make([]string, 64)
		for j := range ids {
			ids[j] = fmt.Sprintf("made-up-%d-%d", i, j)
		}
		a := send(t, nil, streamRequest(t, srv.URL+"/", ids...))
		is.Equal(a.Status, http.StatusTooManyRequests)
		is.Equal(a.Body, "lt: too many live connections: a new session opens one connection per stream; reconnect with its cookie\n")
	}
	is.Equal(g.mounts.Load(), int64(0)) // now 320
}

// D3. With WithMaxFields above 10,000, a form of 10,001 to that many
// fields is refused as a malformed body (400, "number of URL query
// parameters exceeded limit", net/url's cap) instead of 413.
func TestDefectFieldsOverNetURLCap(t *testing.T) {
	is := is.New(t)
	srv, _, _, _ := countApp(t, lt.WithMaxFields(20_000))
	var b strings.Builder
	b.WriteString("bump=")
	for i := 1; i < 10_001; i++ {
		fmt.Fprintf(&b, "&f%d=v", i)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(b.String()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	a := send(t, nil, req)
	is.Equal(a.Status, http.StatusRequestEntityTooLarge) // now 400
	is.True(!strings.Contains(a.Body, "malformed"))
}

// D4. A page of another origin of the same site (another port, another
// subdomain) makes the victim's browser open event streams with the
// victim's session cookie (EventSource with credentials). lt serves
// them: each makes a connection in the victim's session, runs Mount for
// it, and counts against (and evicts the idle ones of) the victim's own
// 32. The browser hides the events from the attacker (no CORS), but the
// server should refuse such a stream as it refuses such a POST (403).
func TestDefectCrossOriginStreamsInVictimSession(t *testing.T) {
	is := is.New(t)
	g := newGauge()
	h, err := lt.New(lt.Must(lt.Parse("count", clickPage)), &countCtrl{g: g}, countState{}, lt.WithLogger(newLogBook().logger()))
	is.NoErr(err)
	// Streams requested by another origin, once lt has answered them.
	foreign := make(chan int, 64)
	r := chi.NewRouter()
	r.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		if r.Header.Get("Accept") == "text/event-stream" && r.Header.Get("Origin") != "" {
			foreign <- rec.status
		}
	}))
	srv := browsertest.Serve(t, r, h)
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><script>for (let i = 0; i < 10; i++) new EventSource(%q, {withCredentials: true});</script>`, srv.URL+"/")
	}))
	t.Cleanup(evil.Close)

	ctx := browsertest.New(t)
	is.NoErr(browsertest.Do(ctx, chromedp.Navigate(srv.URL+"/")))
	is.NoErr(browsertest.WaitStatus(ctx, "online"))
	group := lt.AnonymousIdentity(mustCookie(t, ctx, srv.URL)).GroupID
	is.Equal(g.mountsOf(group), 1)

	attacker := browsertest.NewTab(t, ctx)
	is.NoErr(browsertest.Do(attacker, chromedp.Navigate(evil.URL+"/")))
	for range 10 {
		select {
		case status := <-foreign:
			is.Equal(status, http.StatusForbidden) // now 200
		case <-t.Context().Done():
			t.Fatal("the attacker's streams never reached the app")
		}
	}
	is.Equal(g.mountsOf(group), 1) // now 11: Mount ran for each of the attacker's streams
}

// pairCtrl records its lifecycle calls in order.
type pairCtrl struct{ calls chan string }

func (c *pairCtrl) OnConnect(s countState, ctx *lt.Context) (countState, error) {
	c.calls <- "OnConnect"
	return s, nil
}

func (c *pairCtrl) OnDisconnect() { c.calls <- "OnDisconnect" }

// Block holds the connection's worker until release is closed.
func (c *pairCtrl) Block(s countState, ctx *lt.Context) (countState, error) {
	c.calls <- "Block"
	<-ctx.Value(releaseKey{}).(chan struct{})
	return s, nil
}

type releaseKey struct{}

// D5. OnDisconnect runs for a connection whose OnConnect never ran: a
// connection that ends while its OnConnect is still queued (its worker
// busy, its stream just opened) drops OnConnect with the rest of its
// queue, but still gets OnDisconnect. An app that pairs them (presence:
// one more online in OnConnect, one less in OnDisconnect) counts wrong.
func TestDefectOnDisconnectWithoutOnConnect(t *testing.T) {
	is := is.New(t)
	ctrl := &pairCtrl{calls: make(chan string, 16)}
	release := make(chan struct{})
	h, err := lt.New(lt.Must(lt.Parse("count", countPage)), ctrl, countState{}, lt.WithLogger(newLogBook().logger()))
	is.NoErr(err)
	mw := func(next http.Handler) http.Handler { // every connection's context can reach release
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), releaseKey{}, release)))
		})
	}
	srv := httptest.NewServer(mw(h))
	t.Cleanup(func() { _ = h.Close(); srv.Close() })
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	defer unblock()

	page := lttest.Get(t, srv.URL+"/")
	group := groupOf(t, page.Jar(), srv.URL)
	is.NoErr(h.TriggerGroup(context.Background(), group, "block", nil))
	is.Equal(<-ctrl.calls, "Block") // the connection's worker is busy
	// Its stream opens (OnConnect is queued behind Block) ...
	resp, err := (&http.Client{Jar: page.Jar()}).Do(streamRequest(t, srv.URL+"/", page.Conn()))
	is.NoErr(err)
	defer resp.Body.Close()
	is.Equal(resp.StatusCode, http.StatusOK)
	// ... and the connection ends (sign-out) before OnConnect ran.
	is.NoErr(h.CloseGroup(context.Background(), group))
	unblock()
	is.NoErr(h.Close()) // waits for every job
	close(ctrl.calls)
	count := map[string]int{}
	for c := range ctrl.calls {
		count[c]++
	}
	is.Equal(count["OnDisconnect"], count["OnConnect"]) // now 1 and 0
}
