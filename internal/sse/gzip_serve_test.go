package sse

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/matryer/is"
)

// gzipTranscript serves a stream (taken over, or in its handler; gzipped
// when gzip is set and the client accepts it) with Go's HTTP client at
// the other end, which asks for gzip and inflates unless told not to.
// It publishes the events one at a time, as lt does (TrySend, else a
// signal to Serve), and reads each from the decoded body before it
// publishes the next. It returns the response and everything read, the
// body's end included: Serve ends the gzip member when its context
// ends, so a whole body reads to its end without error.
func gzipTranscript(t *testing.T, take, gzip, clientAccepts bool, events []string) (*http.Response, string) {
	t.Helper()
	is := is.New(t)
	src := &countingSource{logSource: &logSource{changed: make(chan struct{}, 1), log: Log{MaxEvents: 1000, MaxBytes: 1 << 22}}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	streams := make(chan *Stream, 1)
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		if gzip && AcceptsGzip(r) {
			w.Header().Set("Content-Encoding", "gzip")
		}
		start := Open
		if take {
			start = Take
		}
		st, err := start(w)
		if err != nil {
			t.Error(err)
			return
		}
		defer st.Close()
		streams <- st
		_ = Serve(ctx, st, src, Options{Heartbeat: time.Hour, HeartbeatEvent: "hb"})
	}))
	defer srv.Close()
	tr := &http.Transport{DisableCompression: !clientAccepts}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
	is.NoErr(err)
	defer resp.Body.Close()
	st := <-streams
	br := bufio.NewReader(resp.Body)
	var got strings.Builder
	block := func() string { // one event, up to its blank line
		var b strings.Builder
		for {
			line, err := br.ReadString('\n')
			is.NoErr(err)
			b.WriteString(line)
			if line == "\n" {
				got.WriteString(b.String())
				return b.String()
			}
		}
	}
	is.Equal(block(), "event: hb\ndata: 3600000\n\n") // the first heartbeat
	for i, data := range events {
		src.publishTry(st, data)
		is.Equal(block(), fmt.Sprintf("id: %d\nevent: m\ndata: %s\n\n", i+1, data)) // arrived whole, before the next
	}
	cancel() // Serve ends the body
	<-done
	rest, err := io.ReadAll(br)
	is.NoErr(err) // a gzipped body ends whole: final block, CRC and size checked
	got.Write(rest)
	return resp, got.String()
}

// A gzipped stream decodes to exactly the events of the same stream sent
// as is, each readable before the next is written, whether the stream is
// taken over or stays in its handler; a client that does not accept gzip
// gets it as is.
func TestGzipStreamMatchesIdentity(t *testing.T) {
	events := []string{
		`{"c":"q2Hs8dPz0kQx","s":1,"d":{"0":"tick:1:1765000000000000001"}}`,
		`{"c":"q2Hs8dPz0kQx","s":2,"d":{"0":"tick:2:1765000000000123456"}}`,
		`{"c":"q2Hs8dPz0kQx","s":3,"d":{"0":"tick:3:1765000000000234567"}}`,
		strings.Repeat(`<tr><td>row</td><td>value</td></tr>`, 3000), // a large render: heap table, many blocks
		`{"c":"q2Hs8dPz0kQx","s":5,"d":{"0":"tick:5:1765000000000345678"}}`,
		"ünïcödé ✓ " + strings.Repeat("\xff\xfe", 400), // bytes the fixed codes grow: stored
		`{"c":"q2Hs8dPz0kQx","s":7,"d":{"0":"tick:7:1765000000000456789"}}`,
	}
	for _, tc := range []struct {
		name          string
		take          bool
		clientAccepts bool
		wantGzip      bool
	}{
		{"taken", true, true, true},
		{"in handler", false, true, true},
		{"taken, client without gzip", true, false, false},
		{"in handler, client without gzip", false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			is := is.New(t)
			_, want := gzipTranscript(t, tc.take, false, tc.clientAccepts, events)
			resp, got := gzipTranscript(t, tc.take, true, tc.clientAccepts, events)
			is.Equal(resp.Uncompressed, tc.wantGzip) // Go's client inflated it
			is.Equal(resp.Header.Get("Vary") == "Accept-Encoding", tc.wantGzip)
			is.Equal(got, want)
		})
	}
}

// What goes on the wire, and what Options.Written counts, is the
// compressed stream: gzip's header with the first heartbeat, then a
// fraction of each repetitive update.
func TestGzipStreamWireBytes(t *testing.T) {
	is := is.New(t)
	src := &logSource{changed: make(chan struct{}, 1)}
	var wire []int
	written := make(chan int, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		w.Header().Set("Content-Encoding", "gzip")
		st, err := Take(w)
		if err != nil {
			t.Error(err)
			return
		}
		defer st.Close()
		_ = Serve(ctx, st, src, Options{Heartbeat: time.Hour, Written: func(_, b int, _ bool) { written <- b }})
	}))
	defer srv.Close()
	defer func() {
		cancel()
		<-done
	}()
	dialStream(t, srv.Listener.Addr().String(), nil, "")
	wire = append(wire, <-written)
	update := `{"c":"q2Hs8dPz0kQx","s":%d,"d":{"0":"n=%d"}}`
	for i := range 3 {
		src.publish(fmt.Sprintf(update, i, i))
		wire = append(wire, <-written)
	}
	plain := len(fmt.Sprintf("id: 3\nevent: m\ndata: "+update+"\n\n", 2, 2))
	t.Logf("wire bytes: first heartbeat %d, updates %v, the update as is %d", wire[0], wire[1:], plain)
	is.True(wire[0] > len(gzipHeader))
	is.True(wire[3] < plain/2)
}

func TestAcceptsGzip(t *testing.T) {
	for _, tc := range []struct {
		accept []string
		want   bool
	}{
		{nil, false},
		{[]string{"gzip"}, true},
		{[]string{"gzip, deflate, br, zstd"}, true},
		{[]string{"br", "GZip;q=0.5"}, true},
		{[]string{"x-gzip"}, true},
		{[]string{"deflate, br"}, false},
		{[]string{"gzip;q=0"}, false},
		{[]string{"gzip; q=0.0, *"}, false},
		{[]string{"*"}, true},
		{[]string{"*;q=0"}, false},
		{[]string{"identity"}, false},
		{[]string{"gzip;q=bad"}, false},
	} {
		t.Run(strings.Join(tc.accept, "|"), func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			for _, v := range tc.accept {
				r.Header.Add("Accept-Encoding", v)
			}
			is.New(t).Equal(AcceptsGzip(r), tc.want)
		})
	}
}

// Open and Take refuse a Content-Encoding they cannot produce.
func TestUnsupportedEncoding(t *testing.T) {
	is := is.New(t)
	for _, start := range []func(http.ResponseWriter) (*Stream, error){Open, Take} {
		w := httptest.NewRecorder()
		w.Header().Set("Content-Encoding", "br")
		_, err := start(w)
		is.True(err != nil)
		is.True(strings.Contains(err.Error(), "br"))
	}
}
