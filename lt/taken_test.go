package lt_test

import (
	"bufio"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
)

// A stream outlives its handler on a connection taken from net/http (the
// default), and with WithStreamsInHandler it stays in its handler;
// everything a stream does works either way.
func TestStreamsTakenAndInHandler(t *testing.T) {
	for _, c := range []struct {
		name string
		opts []lt.Option
	}{{"taken", nil}, {"in handler", []lt.Option{lt.WithStreamsInHandler()}}} {
		t.Run(c.name, func(t *testing.T) { streamWorks(t, c.opts...) })
	}
}

func streamWorks(t *testing.T, opts ...lt.Option) {
	is := is.New(t)
	f := newFixture(t, append(opts, lt.WithReconnectGrace(time.Minute))...)
	a := lttest.Open(t, f.URL+"/page")
	b := lttest.Open(t, f.URL+"/page", lttest.WithJar(a.Jar()))
	group := "anon:" + cookie(t, a, f.URL)

	r := a.Act("increment", nil)
	is.Equal(r.Status, http.StatusOK)
	ev := a.Next() // the same update on the stream
	is.Equal(ev.Seq, uint64(1))
	b.WaitFor("msg=synced after increment")

	is.NoErr(f.H.TriggerGroup(group, "add_item", map[string]any{"item": "x"}))
	a.WaitFor("<li>x</li>")
	b.WaitFor("<li>x</li>")

	// A cut and a resume: what was missed is replayed in order.
	a.Close()
	for i := range 3 {
		is.NoErr(f.H.TriggerGroup(group, "add_item", map[string]any{"item": strconv.Itoa(i)}))
	}
	b.WaitFor("<li>2</li>") // all three ran
	a.Connect()
	for i := range 3 {
		ev := a.Next()
		is.Equal(ev.Seq, uint64(3+i))
		is.True(strings.Contains(ev.HTML, "<li>"+strconv.Itoa(i)+"</li>"))
	}
}

// The taken connection answers with the stream's headers, the cookie lt
// set, and a body delimited by closing the connection.
func TestTakenStreamHeaders(t *testing.T) {
	is := is.New(t)
	f := newFixture(t, lt.WithHeartbeat(20*time.Millisecond))
	req, _ := http.NewRequestWithContext(waitCtx(t), http.MethodGet, f.URL+"/page", nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	is.NoErr(err)
	defer resp.Body.Close()
	is.Equal(resp.StatusCode, http.StatusOK)
	is.Equal(resp.Header.Get("Content-Type"), "text/event-stream; charset=utf-8")
	is.Equal(resp.Header.Get("Cache-Control"), "no-cache, no-transform")
	is.Equal(resp.Header.Get("X-Accel-Buffering"), "no")
	is.True(resp.Close) // Connection: close
	is.True(strings.Contains(resp.Header.Get("Set-Cookie"), "lt_session="))
	br := bufio.NewReader(resp.Body)
	is.Equal(readLine(t, br), "event: hb")
	is.Equal(readLine(t, br), "retry: 1000")
	is.Equal(readLine(t, br), "data: 20 1000")
	beats := 0
	for beats < 2 {
		if readLine(t, br) == "event: hb" {
			beats++
		}
	}
}

// Closing the handler ends taken streams too, and leaves no goroutine
// (TestMain checks with goleak).
func TestTakenStreamsEndOnClose(t *testing.T) {
	is := is.New(t)
	f := newFixture(t)
	tab := lttest.Open(t, f.URL+"/page")
	f.J.waitFor(t, "connect")
	is.NoErr(f.H.Close())
	tab.WaitClosed()
	f.J.waitFor(t, "disconnect")
}
