package lt_test

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/livesse/livesse/lt"
)

// BenchmarkTablePage measures what a page with a 1,000-row table costs
// per stream (issue 16): streams of their own sessions on their own
// loopback connections, read as fanouttest reads them, then fan-outs
// (TriggerAll) that change one cell. It reports
//
//   - B/conn: the heap (runtime.MemStats.HeapAlloc after a GC) per stream
//     once every stream has its first render, minus the heap before any
//     stream opened (the readers' buffers are allocated before that);
//     beyond the app's own state, which is two ints here (the rows come
//     from a template function);
//   - after-B/conn: the same after the fan-outs;
//   - first-ns/delivery: the first fan-out after the streams mounted;
//   - later-ns/delivery: the median of the fan-outs after it.
//
// states=equal: every tab shows the same table; states=differ: each tab
// its own order (the rows rotated by its index), so no two render alike.
// The 10,000-stream case runs only with LTBENCH_TABLE_STREAMS=10000:
//
//	go test ./lt -run '^$' -bench 'TablePage' -benchtime 3x
//	LTBENCH_TABLE_STREAMS=10000 go test ./lt -run '^$' -bench 'TablePage/streams=10000/states=equal' -benchtime 3x -timeout 30m
func BenchmarkTablePage(b *testing.B) {
	counts := []int{1000}
	if n, _ := strconv.Atoi(os.Getenv("LTBENCH_TABLE_STREAMS")); n > 0 && n != 1000 {
		counts = append(counts, n)
	}
	for _, n := range counts {
		for _, differ := range []bool{false, true} {
			name := fmt.Sprintf("streams=%d/states=equal", n)
			if differ {
				name = fmt.Sprintf("streams=%d/states=differ", n)
			}
			b.Run(name, func(b *testing.B) { benchTablePage(b, n, differ) })
		}
	}
}

// tableRows is the rows the table shows: 1,000 of them, rotated by sort,
// with the price of row 0 set to n (the cell that changes).
type tableRows struct{ names []string }

type tableRow struct {
	ID    int
	Name  string
	Price int
}

func (t *tableRows) rows(sort, n int) []tableRow {
	out := make([]tableRow, len(t.names))
	for i := range out {
		id := (i + sort) % len(t.names)
		out[i] = tableRow{ID: id, Name: t.names[id], Price: id * 3}
		if id == 0 {
			out[i].Price = n
		}
	}
	return out
}

type tableState struct{ Sort, N int }

type tableCtrl struct{}

func (*tableCtrl) Mount(s tableState, ctx *lt.Context) (tableState, error) {
	s.Sort, _ = strconv.Atoi(ctx.URL().Query().Get("sort"))
	return s, nil
}

func (*tableCtrl) Tick(s tableState, ctx *lt.Context) (tableState, error) {
	s.N = ctx.GetInt("n")
	return s, nil
}

// newTablePage returns the 1,000-row table page's Handler.
func newTablePage(tb testing.TB) *lt.Handler {
	t := &tableRows{names: make([]string, 1000)}
	for i := range t.names {
		t.names[i] = fmt.Sprintf("item %d", i)
	}
	page := template.Must(template.New("table").Funcs(lt.Funcs()).Funcs(template.FuncMap{"rows": t.rows}).Parse(
		`<!DOCTYPE html><html><head><title>Table</title></head><body><h1>Table {{.N}}</h1>` +
			`<table>{{range rows .Sort .N}}<tr id="r{{.ID}}"><td>{{.ID}}</td><td>{{.Name}}</td><td>{{.Price}}</td></tr>{{end}}</table></body></html>`))
	h, err := lt.New(page, &tableCtrl{}, tableState{}, lt.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

// streamCounter counts the events of raw SSE streams.
type streamCounter struct {
	mu     sync.Mutex
	cond   *sync.Cond
	events int
}

func (s *streamCounter) read(c net.Conn, buf []byte) {
	var carry []byte
	for {
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		chunk := append(carry, buf[:n]...)
		k := bytes.Count(chunk, []byte("event: update\n")) + bytes.Count(chunk, []byte("event: render\n"))
		carry = append(carry[:0], chunk[max(0, len(chunk)-13):]...)
		if k > 0 {
			s.mu.Lock()
			s.events += k
			s.cond.Broadcast()
			s.mu.Unlock()
		}
	}
}

func (s *streamCounter) wait(n int) {
	s.mu.Lock()
	for s.events < n {
		s.cond.Wait()
	}
	s.mu.Unlock()
}

func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func benchTablePage(b *testing.B, n int, differ bool) {
	h := newTablePage(b)
	srv := httptest.NewServer(h)
	var wg sync.WaitGroup
	defer func() {
		h.Close()
		srv.CloseClientConnections()
		srv.Close()
		wg.Wait()
	}()
	sc := &streamCounter{}
	sc.cond = sync.NewCond(&sc.mu)
	bufs := make([][]byte, n)
	for i := range bufs {
		bufs[i] = make([]byte, 4096)
	}
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	before := heapAlloc()
	for i := range n {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, c)
		sort := 0
		if differ {
			sort = i
		}
		fmt.Fprintf(c, "GET /?sort=%d HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n", sort)
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc.read(c, bufs[i])
		}()
		if i%100 == 99 {
			sc.wait(i + 1) // bounded concurrency: at most 100 mounts at once
		}
	}
	sc.wait(n)
	mounted := heapAlloc()
	seen := n
	fanOut := func(i int) time.Duration {
		t0 := time.Now()
		if err := h.TriggerAll(context.Background(), "tick", map[string]any{"n": i + 1}); err != nil {
			b.Fatal(err)
		}
		seen += n
		sc.wait(seen)
		return time.Since(t0)
	}
	first := fanOut(0)
	var later []time.Duration
	i := 1
	for b.Loop() {
		later = append(later, fanOut(i))
		i++
	}
	b.StopTimer()
	after := heapAlloc()
	perConn := func(x uint64) float64 { return (float64(x) - float64(before)) / float64(n) }
	b.ReportMetric(perConn(mounted), "B/conn")
	b.ReportMetric(perConn(after), "after-B/conn")
	b.ReportMetric(float64(first.Nanoseconds())/float64(n), "first-ns/delivery")
	if len(later) > 0 {
		med := slices.Sorted(slices.Values(later))[len(later)/2]
		b.ReportMetric(float64(med.Nanoseconds())/float64(n), "later-ns/delivery")
		b.ReportMetric(float64(first)/float64(med), "first/later")
	}
	b.ReportMetric(0, "ns/op")
}
