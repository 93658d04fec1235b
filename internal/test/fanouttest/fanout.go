// Package fanouttest is the fan-out that the benchmarks of lt and of its
// metrics adapters measure: a tick page, Streams streams each its own
// session on its own loopback connection, and a TriggerAll that reaches
// them all, timed until every stream has read its update.
package fanouttest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/livesse/livesse/lt"
)

// Streams is the number of streams a FanOut reaches.
const Streams = 500

// Page is the name of the tick page (its Handler's name).
const Page = "tick"

type tickState struct{ N int }

type tickCtrl struct{}

func (*tickCtrl) Tick(s tickState, ctx *lt.Context) (tickState, error) {
	s.N = ctx.GetInt("n")
	return s, nil
}

// FanOut is a tick page's Handler with Streams streams that count the
// updates they read.
type FanOut struct {
	H       *lt.Handler
	mu      sync.Mutex
	cond    *sync.Cond
	updates int // update events read, all streams
}

// New serves a tick page made with opts and opens Streams streams to it,
// each rendered before New returns; all of it ends when b ends.
func New(b testing.TB, opts ...lt.Option) *FanOut {
	b.Helper()
	page := lt.Must(lt.Parse(Page, `<!DOCTYPE html><html><head><title>t</title></head><body><p>tick {{.N}}</p></body></html>`))
	f := &FanOut{H: lt.Must(lt.New(page, &tickCtrl{}, tickState{}, opts...))}
	f.cond = sync.NewCond(&f.mu)
	srv := httptest.NewServer(f.H)
	var wg sync.WaitGroup
	b.Cleanup(func() {
		f.H.Close()
		srv.CloseClientConnections()
		srv.Close()
		wg.Wait()
	})
	for range Streams {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.read(c)
		}()
	}
	f.wait(Streams) // every stream rendered
	return f
}

// read counts the update events of one stream in a fixed buffer, so that
// the readers allocate next to nothing.
func (f *FanOut) read(c net.Conn) {
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
}

func (f *FanOut) wait(n int) {
	f.mu.Lock()
	for f.updates < n {
		f.cond.Wait()
	}
	f.mu.Unlock()
}

// Run fans tick i (0, 1, ... in order) out to every stream and waits until
// each has read it; it returns the wall time and the process's CPU time
// (0 where it cannot be read) that took.
func (f *FanOut) Run(b testing.TB, i int) (wall, cpu time.Duration) {
	c0, t0 := cpuTime(), time.Now()
	if err := f.H.TriggerAll(context.Background(), "tick", map[string]any{"n": i + 1}); err != nil {
		b.Fatal(err)
	}
	f.wait(Streams * (i + 2))
	return time.Since(t0), cpuTime() - c0
}

// Compare runs b.N fan-outs on each of off and on, in turn (who goes
// first alternates), so that a noisy machine weighs on both alike, and
// reports the median wall time and CPU time per delivery of each, with
// label naming on's, and their ratios (on/off).
func Compare(b *testing.B, label string, off, on *FanOut) {
	var wall, cpu [2][]time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for k := range 2 {
			j := (i + k) % 2 // 0 is off, 1 is on
			f := off
			if j == 1 {
				f = on
			}
			w, c := f.Run(b, i)
			wall[j], cpu[j] = append(wall[j], w), append(cpu[j], c)
		}
	}
	b.StopTimer()
	per := func(ds []time.Duration) float64 {
		return float64(slices.Sorted(slices.Values(ds))[len(ds)/2].Nanoseconds()) / Streams
	}
	b.ReportMetric(per(wall[0]), "off-ns/delivery")
	b.ReportMetric(per(wall[1]), label+"-ns/delivery")
	b.ReportMetric(per(wall[1])/per(wall[0]), "wall-ratio")
	b.ReportMetric(per(cpu[0]), "off-cpu-ns/delivery")
	b.ReportMetric(per(cpu[1]), label+"-cpu-ns/delivery")
	b.ReportMetric(per(cpu[1])/per(cpu[0]), "cpu-ratio")
}
