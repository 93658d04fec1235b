package sse

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"runtime"
	"testing"
)

// tickUpdates are the events of ltload's ticker page: one value, a tick
// and its send time, per update, with a heartbeat now and then.
func tickUpdates(n int) [][]byte {
	evs := make([][]byte, n)
	for i := range evs {
		if i%10 == 9 {
			evs[i] = []byte("event: hb\ndata: 15000 1000\nretry: 1000\n\n")
			continue
		}
		evs[i] = fmt.Appendf(nil, "id: %d\nevent: update\ndata: {\"c\":\"q2Hs8dPz0kQxV7mA\",\"s\":%d,\"d\":{\"0\":\"tick:%d:17650%014d\"}}\n\n",
			i+1, i+1, i+1, uint64(i)*2654435761%1e14)
	}
	return evs
}

// BenchmarkGzipPerStream compares what keeping a compressor per stream
// costs and saves: compress/gzip's Writer at each level (kept across
// events, flushed after each, as a stream needs it) against this
// package's. It keeps 100 streams' compressors, writes 200 events to
// each, and reports the heap each keeps (heap-B/stream, after a GC) and
// the bytes each event became (wire-B/event; as is, the events average
// the figure of "as-is"). A figure, not a timing:
//
//	go test ./internal/sse -run '^$' -bench GzipPerStream -benchtime 1x
func BenchmarkGzipPerStream(b *testing.B) {
	evs := tickUpdates(200)
	type compressor interface{ write([]byte) int }
	for _, tc := range []struct {
		name string
		make func() compressor
	}{
		{"as-is", func() compressor { return identity{} }},
		{"ssehub", func() compressor { return &gzipStream{} }},
		{"stdlib-huffman-only", func() compressor { return newStdlib(gzip.HuffmanOnly) }},
		{"stdlib-level-1", func() compressor { return newStdlib(gzip.BestSpeed) }},
		{"stdlib-level-5", func() compressor { return newStdlib(5) }},
		{"stdlib-level-9", func() compressor { return newStdlib(gzip.BestCompression) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			const streams = 100
			for range b.N {
				before := heapInuse()
				cs := make([]compressor, streams)
				wire := 0
				for i := range cs {
					cs[i] = tc.make()
					for _, e := range evs {
						wire += cs[i].write(e)
					}
				}
				b.ReportMetric(float64(heapInuse()-before)/streams, "heap-B/stream")
				b.ReportMetric(float64(wire)/float64(streams*len(evs)), "wire-B/event")
				runtime.KeepAlive(cs)
			}
		})
	}
}

type identity struct{}

func (identity) write(b []byte) int { return len(b) }

func (g *gzipStream) write(b []byte) int {
	var out [640]byte
	return len(g.compress(out[:0], b))
}

// stdlibStream is a compress/gzip Writer kept for a stream, flushed after
// every event.
type stdlibStream struct {
	w   *gzip.Writer
	buf bytes.Buffer
}

func newStdlib(level int) *stdlibStream {
	s := &stdlibStream{}
	s.w, _ = gzip.NewWriterLevel(&s.buf, level)
	return s
}

func (s *stdlibStream) write(b []byte) int {
	s.buf.Reset()
	_, _ = s.w.Write(b)
	_ = s.w.Flush()
	return s.buf.Len()
}

func heapInuse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// BenchmarkGzipStreamWrite is the CPU one update costs a gzipped stream:
// compressing ltload's tick update (and a heartbeat in ten) against the
// history.
//
//	go test ./internal/sse -run '^$' -bench GzipStreamWrite
func BenchmarkGzipStreamWrite(b *testing.B) {
	evs := tickUpdates(1000)
	var g gzipStream
	var out [640]byte
	in, wire := 0, 0
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		e := evs[i%len(evs)]
		in += len(e)
		wire += len(g.compress(out[:0], e))
	}
	b.SetBytes(int64(in / max(b.N, 1)))
	b.ReportMetric(float64(wire)/float64(b.N), "wire-B/event")
}
