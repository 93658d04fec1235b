package attack

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
	"go.uber.org/goleak"
)

// sseEvent is one event of a stream, as read off the wire.
type sseEvent struct {
	ID, Type string
	Data     struct {
		C string          `json:"c"`
		O string          `json:"o"`
		S uint64          `json:"s"`
		R json.RawMessage `json:"r"`
		D json.RawMessage `json:"d"`
		// encoding/json matches keys without case when no field has the
		// exact name: statics must not land in S.
		Statics json.RawMessage `json:"S"`
	}
}

// firstEvent opens req as a stream and returns its first event that is not
// a heartbeat, then ends the stream.
func firstEvent(t *testing.T, c *http.Client, req *http.Request) sseEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	resp, err := c.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("stream: %d %s", resp.StatusCode, body)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	var ev sseEvent
	var data string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "id: "):
			ev.ID = line[4:]
		case strings.HasPrefix(line, "event: "):
			ev.Type = line[7:]
		case strings.HasPrefix(line, "data: "):
			data += line[6:]
		case line == "":
			if ev.Type != "" && ev.Type != "hb" {
				if err := json.Unmarshal([]byte(data), &ev.Data); err != nil {
					t.Fatalf("event %s: %v: %q", ev.Type, err, data)
				}
				return ev
			}
			ev, data = sseEvent{}, ""
		}
	}
	t.Fatalf("stream ended without an event: %v", sc.Err())
	return ev
}

// Forged, huge, negative or malformed resume positions (Last-Event-ID or
// _lt_seq) get one full render of the connection at its newest sequence
// number, never a panic and never a partial replay.
func TestForgedResumePositionsGetFullRender(t *testing.T) {
	is := is.New(t)
	srv, h, _, log := countApp(t)
	page := lttest.Get(t, srv.URL+"/")
	client := &http.Client{Jar: page.Jar()}
	conn := page.Conn()
	for range 3 {
		is.Equal(postAs(t, page.Jar(), srv.URL+"/", conn, "bump", nil, nil).Status, http.StatusOK)
	}

	bad := []string{
		"-1", "18446744073709551616", "18446744073709551615", "99999999999999999999999",
		"abc", "1e3", "+1", "0x1", "1.0", "४", "1 2", "%00",
		strings.Repeat("9", 60_000),
	}
	for _, v := range bad {
		for _, inHeader := range []bool{true, false} {
			var req *http.Request
			if inHeader {
				req = streamRequest(t, srv.URL+"/", conn)
				req.Header.Set("Last-Event-ID", v)
			} else {
				req = streamRequest(t, srv.URL+"/?_lt_seq="+url.QueryEscape(v), conn)
			}
			ev := firstEvent(t, client, req)
			if ev.Type != "render" || ev.Data.C != conn || ev.Data.S != 3 || ev.ID != "3" || ev.Data.R == nil {
				t.Errorf("resume at %.40q (header %v): first event %s id=%s c=%s s=%d, want a full render of %s at 3",
					v, inHeader, ev.Type, ev.ID, ev.Data.C, ev.Data.S, conn)
			}
		}
	}
	// Positions that repeat, or outnumber the connections, are ignored
	// beyond the first.
	ev := firstEvent(t, client, streamRequest(t, srv.URL+"/?_lt_seq=-5&_lt_seq=1&_lt_seq=2", conn))
	is.Equal(ev.Type, "render")

	// Whitespace around a number in the query is no number either (in a
	// header, HTTP itself trims it).
	for _, v := range []string{" 1", "1\t", "1 "} {
		ev := firstEvent(t, client, streamRequest(t, srv.URL+"/?_lt_seq="+url.QueryEscape(v), conn))
		is.Equal(ev.Type, "render")
	}

	// A true position replays what follows it: the probes above are not
	// answered with a render whatever they send.
	ev = firstEvent(t, client, streamRequest(t, srv.URL+"/?_lt_seq=1", conn))
	is.Equal(ev.Type, "update")
	is.Equal(ev.Data.S, uint64(2))

	// The connection is still the same and live.
	waitUntil(t, "the probes' streams to end", func() bool { return h.Streams() == 0 })
	tab := lttest.Get(t, srv.URL+"/", lttest.WithJar(page.Jar()))
	is.Equal(postAs(t, tab.Jar(), srv.URL+"/", conn, "bump", nil, nil).Status, http.StatusOK)
	for _, r := range log.all() {
		if r.Level >= slog.LevelError || strings.Contains(strings.ToLower(r.String()), "panic") {
			t.Errorf("log: %s", r)
		}
	}
}

// bigState carries a large value, so that a few updates fill a socket.
type bigState struct {
	Big string
	I   int
}

type bigCtrl struct{}

func (bigCtrl) Grow(s bigState, ctx *lt.Context) (bigState, error) {
	s.I = ctx.GetInt("i")
	s.Big = strings.Repeat(string(rune('a'+s.I%26)), bigSize)
	return s, nil
}

// bigSize is the size of one update: over the sockets' buffers, under
// what lttest's SSE client reads as one line (64 KiB).
const bigSize = 16 << 10

const bigPage = `<body><p id="i">i={{.I}}</p><pre>{{.Big}}</pre></body>`

// smallBuffers is a listener whose connections have small send buffers,
// so that a client that does not read blocks the server's writes at once.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(8 << 10)
	}
	return c, err
}

// stalledClient opens an event stream on u and never reads it, with a
// small receive buffer.
func stalledClient(t *testing.T, u string) net.Conn {
	t.Helper()
	pu, _ := url.Parse(u)
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var err error
		_ = rc.Control(func(fd uintptr) { err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		return err
	}}
	c, err := d.Dial("tcp", pu.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "GET /?_lt_conn= HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n", pu.Host)
	return c
}

func bigApp(t *testing.T, opts ...lt.Option) (*httptest.Server, *lt.Handler, *logBook) {
	t.Helper()
	log := newLogBook()
	h, err := lt.New(lt.Must(lt.Parse("big", bigPage)), &bigCtrl{}, bigState{}, append(opts, lt.WithLogger(log.logger()))...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = smallBuffers{srv.Listener}
	srv.Start()
	t.Cleanup(func() { _ = h.Close(); srv.Close() })
	return srv, h, log
}

// A client that opens a stream and never reads does not hold up anyone
// else's updates, and with WithWriteTimeout it is cut.
func TestStalledReaderCutWithoutDelayingOthers(t *testing.T) {
	is := is.New(t)
	const updates = 30

	// With a write timeout far longer than the test, the stalled stream is
	// stuck for the whole test: the other tab gets every update all the
	// same.
	srv, h, log := bigApp(t, lt.WithWriteTimeout(time.Hour))
	tab := lttest.Open(t, srv.URL+"/")
	stalled := stalledClient(t, srv.URL)
	waitUntil(t, "the stalled stream to open", func() bool { return h.Streams() == 2 })
	for i := 1; i <= updates; i++ {
		is.NoErr(h.TriggerAll(context.Background(), "grow", map[string]any{"i": i}))
	}
	tab.WaitFor(fmt.Sprintf("i=%d<", updates))
	is.Equal(h.Streams(), 2) // the stalled one is still there, stuck
	is.Equal(len(log.find(func(r record) bool { return r.Msg == "lt: stream ended" })), 0)
	stalled.Close()

	// With a short one it is cut, and the others go on.
	srv, h, log = bigApp(t, lt.WithWriteTimeout(200*time.Millisecond))
	tab = lttest.Open(t, srv.URL+"/")
	stalled = stalledClient(t, srv.URL)
	waitUntil(t, "the stalled stream to open", func() bool { return h.Streams() == 2 })
	for i := 1; i <= updates; i++ {
		is.NoErr(h.TriggerAll(context.Background(), "grow", map[string]any{"i": i}))
	}
	rec := log.await(t, "of the stalled stream's end", func(r record) bool { return r.Msg == "lt: stream ended" })
	is.True(strings.Contains(rec.Attrs["err"], "i/o timeout"))
	waitUntil(t, "the stalled stream to be cut", func() bool { return h.Streams() == 1 })
	tab.WaitFor(fmt.Sprintf("i=%d<", updates))
	is.NoErr(h.TriggerAll(context.Background(), "grow", map[string]any{"i": updates + 1}))
	tab.WaitFor(fmt.Sprintf("i=%d<", updates+1))

	// The stalled client, reading at last, finds its stream ended long
	// before the updates it missed.
	_ = stalled.SetReadDeadline(time.Now().Add(timeout))
	n, err := io.Copy(io.Discard, stalled)
	is.True(err == nil || errors.Is(err, syscall.ECONNRESET))
	is.True(n < updates*bigSize)
}

// 200 tabs connect and go away: nothing is left behind, no connection,
// no stream, no goroutine.
func TestConnectDisconnectCyclesLeaveNothing(t *testing.T) {
	is := is.New(t)
	srv, h, g, _ := countApp(t, lt.WithReconnectGrace(20*time.Millisecond))
	warm := lttest.Open(t, srv.URL+"/")                   // starts what lives as long as the Handler
	is.Equal(warm.Act("bump", nil).Status, http.StatusOK) // after OnConnect: its OnDisconnect is owed
	warm.Close()
	waitUntil(t, "the warm-up connection to end", func() bool { return g.total() == 0 && g.gone.Load() == 1 })
	base := goleak.IgnoreCurrent()

	const cycles = 200
	jars := [2]http.CookieJar{newJar(), newJar()} // two browsers, coming and going
	for i := range cycles {
		tab := lttest.Open(t, srv.URL+"/", lttest.WithJar(jars[i%2]))
		// An action: it runs after OnConnect, so every connection had
		// its OnConnect and is owed its OnDisconnect.
		is.Equal(tab.Act("bump", nil).Status, http.StatusOK)
		tab.Close()
	}
	waitUntil(t, "every stream to end", func() bool { return h.Streams() == 0 })
	waitUntil(t, "every connection to end", func() bool { return g.gone.Load() == cycles+1 })
	is.Equal(g.total(), 0)
	is.Equal(g.mounts.Load(), int64(cycles+1))
	is.NoErr(goleak.Find(base))
}
