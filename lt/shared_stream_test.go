package lt_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
)

// sseEvent is one event read off a raw stream.
type sseEvent struct {
	ID, Type string
	Msg      struct {
		C string `json:"c"`
		O string `json:"o"`
		S uint64 `json:"s"`
	}
}

// openRaw opens a stream with the given query and returns a reader of its
// events (heartbeats skipped).
func openRaw(t *testing.T, client *http.Client, base string, q url.Values) (*http.Response, func() sseEvent) {
	t.Helper()
	req, _ := http.NewRequestWithContext(waitCtx(t), http.MethodGet, base+"?"+q.Encode(), nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	br := bufio.NewReader(resp.Body)
	return resp, func() sseEvent {
		t.Helper()
		for {
			var ev sseEvent
			for {
				line, err := br.ReadString('\n')
				if err != nil {
					t.Fatalf("reading stream: %v", err)
				}
				line = strings.TrimSuffix(line, "\n")
				if line == "" {
					break
				}
				k, v, _ := strings.Cut(line, ": ")
				switch k {
				case "id":
					ev.ID = v
				case "event":
					ev.Type = v
				case "data":
					_ = json.Unmarshal([]byte(v), &ev.Msg)
				}
			}
			if ev.Type != "hb" {
				return ev
			}
		}
	}
}

// One stream carries the events of several tabs of a browser, each tab's
// in its own sequence.
func TestOneStreamCarriesSeveralTabs(t *testing.T) {
	is := is.New(t)
	f := newFixture(t)
	a := lttest.Get(t, f.URL+"/page")
	b := lttest.Get(t, f.URL+"/page", lttest.WithJar(a.Jar()))
	client := &http.Client{Jar: a.Jar()}
	resp, next := openRaw(t, client, f.URL+"/page", url.Values{
		"_lt_conn": {a.Conn(), b.Conn()}, "_lt_seq": {"", ""}, // fresh pages: renders
	})
	is.Equal(resp.StatusCode, http.StatusOK)
	got := map[string]sseEvent{}
	for range 2 {
		ev := next()
		is.Equal(ev.Type, "render")
		got[ev.Msg.C] = ev
	}
	is.True(got[a.Conn()].Type == "render" && got[b.Conn()].Type == "render")

	group := lt.AnonymousIdentity(cookie(t, a, f.URL)).SessionID
	is.NoErr(f.H.TriggerSession(context.Background(), group, "increment", nil))
	seen := map[string]uint64{}
	for range 2 {
		ev := next()
		is.Equal(ev.Type, "update")
		seen[ev.Msg.C] = ev.Msg.S
	}
	is.Equal(seen, map[string]uint64{a.Conn(): 1, b.Conn(): 1})

	// b's own action arrives on the shared stream, in b's sequence; the
	// Sync it causes reaches a.
	is.Equal(b.Act("increment", nil).Status, http.StatusOK)
	seen = map[string]uint64{}
	for range 2 {
		ev := next()
		seen[ev.Msg.C] = ev.Msg.S
	}
	is.Equal(seen, map[string]uint64{a.Conn(): 2, b.Conn(): 2})
}

// A stream that names a connection it cannot have gets a fresh one, and
// the render says which id it replaces so that the right tab adopts it.
func TestStreamRenderNamesReplacedConnection(t *testing.T) {
	is := is.New(t)
	f := newFixture(t)
	a := lttest.Get(t, f.URL+"/page")
	_, next := openRaw(t, &http.Client{Jar: a.Jar()}, f.URL+"/page", url.Values{
		"_lt_conn": {a.Conn(), "AAAAAAAAAAAAAAAAAAAAAA"}, "_lt_seq": {"0", "3"},
	})
	ev := next()
	is.Equal(ev.Type, "render")
	is.Equal(ev.Msg.O, "AAAAAAAAAAAAAAAAAAAAAA")
	is.True(ev.Msg.C != "AAAAAAAAAAAAAAAAAAAAAA" && ev.Msg.C != a.Conn())
}

func TestStreamLimits(t *testing.T) {
	is := is.New(t)
	f := newFixture(t, lt.WithMaxStreams(1))
	tab := lttest.Open(t, f.URL+"/page") // holds the one stream
	resp, _ := openRaw(t, http.DefaultClient, f.URL+"/page", url.Values{})
	is.Equal(resp.StatusCode, http.StatusServiceUnavailable)
	is.Equal(resp.Header.Get("Retry-After"), "5")
	tab.Act("increment", nil) // the existing client was not evicted
	tab.WaitFor("n=1")

	many := url.Values{}
	for range 65 {
		many.Add("_lt_conn", "x")
	}
	resp, _ = openRaw(t, http.DefaultClient, f.URL+"/page", many)
	is.Equal(resp.StatusCode, http.StatusBadRequest)
}

// A stream that ended gives its place back exactly once: the limit still
// holds afterwards.
func TestStreamLimitAfterStreamsEnd(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			is := is.New(t)
			opts := append(slices.Clone(m.opts), lt.WithMaxStreams(1), lt.WithReconnectGrace(1), lt.WithHeartbeat(20*time.Millisecond))
			f := newFixture(t, opts...)
			a := lttest.Open(t, f.URL+"/page")
			f.J.waitFor(t, "connect")
			is.Equal(f.H.Streams(), 1)
			a.Close()
			f.J.waitFor(t, "disconnect") // after the stream gave its place back
			is.Equal(f.H.Streams(), 0)
			b := lttest.Open(t, f.URL+"/page")
			is.Equal(f.H.Streams(), 1)
			resp, _ := openRaw(t, http.DefaultClient, f.URL+"/page", url.Values{})
			is.Equal(resp.StatusCode, http.StatusServiceUnavailable) // b holds the one place
			b.Act("increment", nil)
			b.WaitFor("n=1")
		})
	}
}
