package lt_test

import (
	"bufio"
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
)

// A stream answers with headers that keep proxies from buffering it and
// the session cookie lt set, both when it takes its connection over (the
// default: the body then ends when the connection closes) and when it
// stays in its handler (chunked).
func TestStreamHeaders(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) { streamHeaders(t, m.name == "taken", m.opts...) })
	}
}

func streamHeaders(t *testing.T, wantClose bool, opts ...lt.Option) {
	is := is.New(t)
	f := newFixture(t, opts...)
	req, _ := http.NewRequestWithContext(waitCtx(t), http.MethodGet, f.URL+"/page", nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	is.NoErr(err)
	defer resp.Body.Close()
	is.Equal(resp.StatusCode, http.StatusOK)
	is.Equal(resp.Header.Get("Content-Type"), "text/event-stream; charset=utf-8")
	is.Equal(resp.Header.Get("Cache-Control"), "no-cache, no-transform")
	is.Equal(resp.Header.Get("X-Accel-Buffering"), "no")
	is.Equal(resp.Close, wantClose)
	is.Equal(len(resp.TransferEncoding) > 0, !wantClose) // chunked in the handler
	is.True(strings.Contains(resp.Header.Get("Set-Cookie"), "HttpOnly"))
	is.True(strings.Contains(resp.Header.Get("Set-Cookie"), "SameSite=Lax"))

	// A stream that names no connection gets one, with a full render that
	// carries an id like every event.
	br := bufio.NewReader(resp.Body)
	is.Equal(readLine(t, br), "event: hb")        // a first heartbeat at once, with the interval
	is.Equal(readLine(t, br), "retry: 1000")      // the reconnection time, for EventSource
	is.Equal(readLine(t, br), "data: 15000 1000") // and both for scripts
	is.Equal(readLine(t, br), "")
	is.Equal(readLine(t, br), "id: 0")
	is.Equal(readLine(t, br), "event: render")
	data := readLine(t, br)
	is.True(strings.HasPrefix(data, `data: {"c":"`))
	is.True(strings.Contains(data, `"r":{"f":`)) // a full tree
	is.True(strings.Contains(data, `"S":{`))     // with its statics
}

func TestHeartbeat(t *testing.T) {
	is := is.New(t)
	f := newFixture(t, lt.WithHeartbeat(20*time.Millisecond), lt.WithRetry(2500*time.Millisecond))
	req, _ := http.NewRequestWithContext(waitCtx(t), http.MethodGet, f.URL+"/page", nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	is.NoErr(err)
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	beats := 0
	for beats < 3 { // the first at once, then one per quiet interval
		if line := readLine(t, br); line == "event: hb" {
			is.Equal(readLine(t, br), "retry: 2500")
			is.Equal(readLine(t, br), "data: 20 2500")
			beats++
		}
	}
}

func readLine(t *testing.T, br *bufio.Reader) string {
	t.Helper()
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("reading stream: %v", err)
	}
	return strings.TrimSuffix(line, "\n")
}

func TestActionUpdatesStreamInOrder(t *testing.T) {
	is := is.New(t)
	f := newFixture(t)
	tab := lttest.Open(t, f.URL+"/page")
	is.True(strings.Contains(tab.HTML(), `<p id="n">n=0</p>`))

	resp := tab.Act("increment", nil)
	is.Equal(resp.Status, http.StatusOK)
	is.Equal(resp.Seq, uint64(1))
	is.True(strings.Contains(resp.HTML, `<p id="n">n=1</p>`))

	ev := tab.Next() // the same update arrives on the stream, with its id
	is.Equal(ev.Type, "update")
	is.Equal(ev.ID, "1")
	is.Equal(ev.Seq, uint64(1))
	is.Equal(ev.Conn, tab.Conn())
	is.True(strings.Contains(ev.HTML, `<p id="n">n=1</p>`))

	for i := 2; i <= 5; i++ {
		tab.Act("add_item", url.Values{"item": {"item" + strconv.Itoa(i)}})
	}
	for i := 2; i <= 5; i++ {
		ev := tab.Next()
		is.Equal(ev.ID, strconv.Itoa(i)) // stream ids are the per-connection sequence
		is.True(strings.Contains(ev.HTML, "<li>item"+strconv.Itoa(i)+"</li>"))
	}

	// An action that changes nothing answers with the current sequence
	// number and no HTML, and sends nothing on the stream.
	resp = tab.Act("set_msg", url.Values{"msg": {""}})
	is.Equal(resp.Seq, uint64(5))
	is.True(!resp.Changed)
}

// A change made after the page was rendered and before its stream opened
// still reaches the page.
func TestNoGapBetweenPageAndStream(t *testing.T) {
	is := is.New(t)
	f := newFixture(t)
	tab := lttest.Get(t, f.URL+"/page")
	group := lt.AnonymousIdentity(cookie(t, tab, f.URL)).SessionID
	is.NoErr(f.H.TriggerSession(context.Background(), group, "increment", nil))
	f.J.waitFor(t, "increment") // the action ran; its update may still be on its way
	tab.Connect()               // the page's first stream event is a full render, at the head
	if !strings.Contains(tab.HTML(), "n=1") {
		tab.WaitFor("n=1") // the update published after that render
	}
	is.Equal(tab.Seq(), uint64(1))
}

// A tab that reconnects within the grace period gets what it missed,
// replayed in order; one that missed more than the log holds gets one full
// render instead.
func TestResume(t *testing.T) {
	is := is.New(t)
	f := newFixture(t)
	tab := lttest.Open(t, f.URL+"/page")
	group := lt.AnonymousIdentity(cookie(t, tab, f.URL)).SessionID
	tab.Close()
	for range 3 {
		is.NoErr(f.H.TriggerSession(context.Background(), group, "increment", nil))
	}
	f.J.waitFor(t, "increment") // at least one ran while no stream was attached
	tab.Connect()
	for want := uint64(1); want <= 3; want++ {
		ev := tab.Next()
		is.Equal(ev.Type, "update")
		is.Equal(ev.Seq, want)
		is.True(strings.Contains(ev.HTML, "n="+strconv.Itoa(int(want))))
	}

	tab.Close()
	for i := range 100 { // far more than the replay log keeps
		is.NoErr(f.H.TriggerSession(context.Background(), group, "add_item", map[string]any{"item": strconv.Itoa(i)}))
	}
	is.NoErr(f.H.TriggerSession(context.Background(), group, "set_msg", map[string]any{"msg": "last"}))
	tab.Connect()
	ev := tab.WaitFor("msg=last")
	is.True(strings.Contains(tab.HTML(), "<li>99</li>"))
	is.Equal(tab.Seq(), uint64(3+100+1))
	_ = ev
}

func cookie(t *testing.T, tab *lttest.Tab, base string) string {
	t.Helper()
	u, _ := url.Parse(base)
	for _, c := range tab.Jar().Cookies(u) {
		if c.Name == "lt_session" {
			return c.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}
