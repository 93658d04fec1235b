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
	"github.com/livesse/livesse/lt/ltprom"
	"github.com/prometheus/client_golang/prometheus"
)

// BenchmarkFanOutMetrics is BenchmarkFanOut's fan-out (one TriggerAll
// reaching 500 streams, each its own session and loopback connection,
// until every tab has read its update) without metrics ("off") and with
// lt/ltprom's ("ltprom"), which measures every action, render, write and
// the fan-out itself. Each run measures off, then ltprom: run it several
// times (not -count, which repeats off before ltprom), so that the two
// alternate and a noisy machine weighs on both alike, and compare their
// ns/delivery (docs/metrics.md reports the ratio):
//
//	go test -c -o /tmp/lt.test ./lt
//	for i in $(seq 10); do /tmp/lt.test -test.run '^$' -test.bench FanOutMetrics -test.benchtime 200x; done
func BenchmarkFanOutMetrics(b *testing.B) {
	b.Run("off", func(b *testing.B) { benchFanOut(b) })
	b.Run("ltprom", func(b *testing.B) {
		reg := prometheus.NewRegistry()
		benchFanOut(b, lt.WithMetrics(ltprom.New(reg)))
		// The metrics saw the fan-outs: each of b.N reached every stream.
		mfs, err := reg.Gather()
		if err != nil {
			b.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "livesse_fanout_connections_total" {
				if got := mf.GetMetric()[0].GetCounter().GetValue(); got != float64(fanOutStreams*b.N) {
					b.Fatalf("livesse_fanout_connections_total = %v, want %d", got, fanOutStreams*b.N)
				}
				return
			}
		}
		b.Fatal("no livesse_fanout_connections_total")
	})
}

const fanOutStreams = 500

// benchFanOut is BenchmarkFanOut's body with the Handler's options.
func benchFanOut(b *testing.B, opts ...lt.Option) {
	page := lt.Must(lt.Parse("tick", `<!DOCTYPE html><html><head><title>t</title></head><body><p>tick {{.N}}</p></body></html>`))
	h := lt.Must(lt.New(page, &tickCtrl{}, tickState{}, opts...))
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.Close()

	var mu sync.Mutex
	cond := sync.NewCond(&mu)
	updates := 0 // update events read, all streams
	var wg sync.WaitGroup
	for range fanOutStreams {
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
	wait(fanOutStreams) // every stream rendered
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := h.TriggerAll(context.Background(), "tick", map[string]any{"n": i + 1}); err != nil {
			b.Fatal(err)
		}
		wait(fanOutStreams * (i + 2))
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*fanOutStreams), "ns/delivery")

	h.Close()
	srv.CloseClientConnections()
	wg.Wait()
}
