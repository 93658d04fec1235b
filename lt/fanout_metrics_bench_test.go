//go:build unix

package lt_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/ltprom"
	"github.com/prometheus/client_golang/prometheus"
)

// BenchmarkFanOutMetrics measures what lt/ltprom's metrics cost a fan-out:
// BenchmarkFanOut's (one TriggerAll reaching 500 streams, each its own
// session on its own loopback connection, until every stream has read its
// update) on two Handlers side by side, one without metrics and one with
// ltprom's, which then measures every action, render and write and the
// fan-out itself. Each iteration fans out on both, in turn, so that a
// noisy machine weighs on both alike. It reports, per delivery, the wall
// time and the process's CPU time (server and readers) of each, the
// median over the iterations, and their ratios (with/without); ns/op is
// the two fan-outs together:
//
//	go test ./lt -run '^$' -bench FanOutMetrics -benchtime 400x -count 5
func BenchmarkFanOutMetrics(b *testing.B) {
	reg := prometheus.NewRegistry()
	off := newFanOut(b)
	on := newFanOut(b, lt.WithMetrics(ltprom.New(reg)))
	var wall, cpu [2][]time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		order := [2]*fanOut{off, on}
		if i%2 == 1 {
			order = [2]*fanOut{on, off} // who goes first alternates too
		}
		for _, f := range order {
			w, c := f.run(b, i)
			j := 0
			if f == on {
				j = 1
			}
			wall[j], cpu[j] = append(wall[j], w), append(cpu[j], c)
		}
	}
	b.StopTimer()
	per := func(ds []time.Duration) float64 {
		return float64(slices.Sorted(slices.Values(ds))[len(ds)/2].Nanoseconds()) / fanOutStreams
	}
	b.ReportMetric(per(wall[0]), "off-ns/delivery")
	b.ReportMetric(per(wall[1]), "ltprom-ns/delivery")
	b.ReportMetric(per(wall[1])/per(wall[0]), "wall-ratio")
	b.ReportMetric(per(cpu[0]), "off-cpu-ns/delivery")
	b.ReportMetric(per(cpu[1]), "ltprom-cpu-ns/delivery")
	b.ReportMetric(per(cpu[1])/per(cpu[0]), "cpu-ratio")

	// The metrics saw every fan-out, each reaching every stream.
	mfs, err := reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "livesse_fanout_connections_total" {
			if got, want := mf.GetMetric()[0].GetCounter().GetValue(), float64(fanOutStreams*b.N); got != want {
				b.Fatalf("livesse_fanout_connections_total = %v, want %v", got, want)
			}
			return
		}
	}
	b.Fatal("no livesse_fanout_connections_total")
}

const fanOutStreams = 500

// fanOut is BenchmarkFanOut's set-up: a tick page with its Handler's
// options, and fanOutStreams streams that count the updates they read.
type fanOut struct {
	h       *lt.Handler
	mu      sync.Mutex
	cond    *sync.Cond
	updates int // update events read, all streams
}

func newFanOut(b *testing.B, opts ...lt.Option) *fanOut {
	page := lt.Must(lt.Parse("tick", `<!DOCTYPE html><html><head><title>t</title></head><body><p>tick {{.N}}</p></body></html>`))
	f := &fanOut{h: lt.Must(lt.New(page, &tickCtrl{}, tickState{}, opts...))}
	f.cond = sync.NewCond(&f.mu)
	srv := httptest.NewServer(f.h)
	var wg sync.WaitGroup
	b.Cleanup(func() {
		f.h.Close()
		srv.CloseClientConnections()
		srv.Close()
		wg.Wait()
	})
	for range fanOutStreams {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
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
					f.mu.Lock()
					f.updates += k
					f.cond.Broadcast()
					f.mu.Unlock()
				}
			}
		}()
	}
	f.wait(fanOutStreams) // every stream rendered
	return f
}

func (f *fanOut) wait(n int) {
	f.mu.Lock()
	for f.updates < n {
		f.cond.Wait()
	}
	f.mu.Unlock()
}

// run fans tick i out to every stream and waits until each has read it; it
// returns the wall time and the process's CPU time that took.
func (f *fanOut) run(b *testing.B, i int) (wall, cpu time.Duration) {
	c0, t0 := cpuTime(), time.Now()
	if err := f.h.TriggerAll(context.Background(), "tick", map[string]any{"n": i + 1}); err != nil {
		b.Fatal(err)
	}
	f.wait(fanOutStreams * (i + 2))
	return time.Since(t0), cpuTime() - c0
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru) // cannot fail with these arguments
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
