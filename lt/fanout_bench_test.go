package lt_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/livesse/livesse/lt"
)

type tickState struct{ N int }

type tickCtrl struct{}

func (*tickCtrl) Tick(s tickState, ctx *lt.Context) (tickState, error) {
	s.N = ctx.GetInt("n")
	return s, nil
}

// BenchmarkFanOut measures one TriggerAll reaching streams tabs, each its
// own session on its own loopback connection, until every tab has read its
// update. Per delivery it reports the time (both ends share the process
// and the machine, as in cmd/ltload) and the allocations, nearly all of
// them the server's: the readers count update events in a fixed buffer.
func BenchmarkFanOut(b *testing.B) {
	const streams = 500
	page := lt.Must(lt.Parse("tick", `<!DOCTYPE html><html><head><title>t</title></head><body><p>tick {{.N}}</p></body></html>`))
	h := lt.Must(lt.New(page, &tickCtrl{}, tickState{}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.Close()

	var mu sync.Mutex
	cond := sync.NewCond(&mu)
	updates := 0 // update events read, all streams
	var wg sync.WaitGroup
	for range streams {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 4096)
			var carry []byte
			rendered := false
			for {
				n, err := c.Read(buf)
				if err != nil {
					return
				}
				chunk := append(carry, buf[:n]...)
				k := bytes.Count(chunk, []byte("event: update\n"))
				if !rendered && bytes.Contains(chunk, []byte("event: render\n")) {
					rendered = true
					k++ // the stream's first render counts as ready
				}
				carry = append(carry[:0], chunk[max(0, len(chunk)-13):]...)
				if k > 0 {
					mu.Lock()
					updates += k
					cond.Broadcast()
					mu.Unlock()
				}
			}
		}()
	}
	wait := func(n int) {
		mu.Lock()
		for updates < n {
			cond.Wait()
		}
		mu.Unlock()
	}
	wait(streams) // every stream rendered
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := h.TriggerAll(context.Background(), "tick", map[string]any{"n": i + 1}); err != nil {
			b.Fatal(err)
		}
		wait(streams * (i + 2))
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*streams), "ns/delivery")

	h.Close()
	srv.CloseClientConnections()
	wg.Wait()
}
