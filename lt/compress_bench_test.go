package lt_test

import (
	"bufio"
	"compress/gzip"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/livesse/livesse/lt"
)

// BenchmarkWireBytesPerUpdate measures what one one-value update (the
// counter's increment, pushed with TriggerAll) puts on the socket: the
// bytes a client reads per update, before inflating (wire-B/update), and
// the SSE event they decode to (event-B/update), for streams sent as they
// are and gzipped, taken over (the default) and in their handlers
// (chunked). A figure, not a timing:
//
//	go test ./lt -run '^$' -bench WireBytesPerUpdate -benchtime 200x
func BenchmarkWireBytesPerUpdate(b *testing.B) {
	for _, m := range modes {
		for _, gz := range []bool{false, true} {
			name := m.name + "/identity"
			if gz {
				name = m.name + "/gzip"
			}
			b.Run(name, func(b *testing.B) { wireBytesPerUpdate(b, m.opts, gz) })
		}
	}
}

func wireBytesPerUpdate(b *testing.B, opts []lt.Option, gz bool) {
	page := lt.Must(lt.Parse("counter", `<!DOCTYPE html><html><head><title>Counter</title></head><body><main><h1>Counter</h1>`+
		`<output id="count">{{.Count}}</output><form method="post"><button name="increment">+</button></form></main></body></html>`))
	h := lt.Must(lt.New(page, &countCtrl{}, countState{}, append(slices.Clone(opts), lt.WithStreamCompression())...))
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.Close()
	var wire atomic.Int64
	tr := &http.Transport{
		DisableCompression: true, // the body as sent; inflated below
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &countedConn{Conn: c, read: &wire}, nil
		},
	}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
	req.Header.Set("Accept", "text/event-stream")
	if gz {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var body io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		if body, err = gzip.NewReader(resp.Body); err != nil {
			b.Fatal(err)
		}
	} else if gz {
		b.Fatal("the stream is not gzipped")
	}
	br := bufio.NewReader(body)
	event := func(typ string) int { // reads up to the next event of typ; its size
		n, match := 0, false
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				b.Fatal(err)
			}
			n += len(line)
			match = match || line == "event: "+typ+"\n"
			if line == "\n" {
				if match {
					return n
				}
				n = 0 // another event (a heartbeat)
			}
		}
	}
	event("render")
	b.ResetTimer()
	wire0, decoded := wire.Load(), 0
	for range b.N {
		if err := h.TriggerAll(context.Background(), "increment", nil); err != nil {
			b.Fatal(err)
		}
		decoded += event("update")
	}
	b.ReportMetric(float64(wire.Load()-wire0)/float64(b.N), "wire-B/update")
	b.ReportMetric(float64(decoded)/float64(b.N), "event-B/update")
}

// countedConn adds the bytes read from a connection to read.
type countedConn struct {
	net.Conn
	read *atomic.Int64
}

func (c *countedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}
