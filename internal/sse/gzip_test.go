package sse

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/matryer/is"
)

// inflateEach decodes a gzip stream made of the given writes, sending
// each write only once the previous one has been decoded whole: a write
// that is not flushed in full leaves the reader waiting, and the test
// times out. ended is written last; the whole must be one valid gzip
// member, with nothing after the writes.
func inflateEach(t *testing.T, writes [][]byte, want []string, ended []byte) []string {
	t.Helper()
	pr, pw := io.Pipe()
	defer pr.Close()
	decoded := make(chan string)
	done := make(chan error, 1)
	go func() {
		zr, err := gzip.NewReader(pr)
		if err != nil {
			done <- err
			return
		}
		for _, w := range want {
			b := make([]byte, len(w))
			if _, err := io.ReadFull(zr, b); err != nil {
				done <- err
				return
			}
			decoded <- string(b)
		}
		rest, err := io.ReadAll(zr)
		if err == nil && len(rest) > 0 {
			err = fmt.Errorf("%d bytes after the last write", len(rest))
		}
		done <- err
	}()
	var got []string
	for i, w := range writes {
		if _, err := pw.Write(w); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		select {
		case s := <-decoded:
			got = append(got, s)
		case err := <-done:
			t.Fatalf("write %d: %v", i, err)
		}
	}
	go func() {
		pw.Write(ended)
		pw.Close()
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return got
}

func TestGzipStreamRoundTrip(t *testing.T) {
	update := func(n int) string {
		return fmt.Sprintf("id: %d\nevent: update\ndata: {\"c\":\"q2Hs8dPz0kQx\",\"s\":%d,\"d\":{\"0\":\"tick:%d:17650%014d\"}}\n\n", n, n, n, n*7919)
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 70000)
	for i := range random {
		random[i] = byte(rnd.IntN(256))
	}
	repeat := bytes.Repeat([]byte("abcabcabd"), 9000)
	for _, tc := range []struct {
		name   string
		writes []string
	}{
		{"one byte", []string{"x"}},
		{"heartbeats", []string{": ok\n\n", "event: hb\ndata: 15000 1000\nretry: 1000\n\n", "event: hb\ndata: 15000 1000\nretry: 1000\n\n"}},
		{"updates", []string{update(1), update(2), update(3), update(10), update(11), update(100)}},
		{"long runs", []string{strings.Repeat("a", 1000), strings.Repeat("a", 259), strings.Repeat("ab", 600)}},
		{"large then small", []string{string(repeat), update(5), string(random[:3000]), update(6)}},
		{"incompressible", []string{string(random), string(random[:100]), string(random[:600])}},
		{"every byte", []string{string(func() []byte {
			b := make([]byte, 256*3)
			for i := range b {
				b[i] = byte(i)
			}
			return b
		}())}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			is := is.New(t)
			var g gzipStream
			var writes [][]byte
			var in, out int
			for _, s := range tc.writes {
				writes = append(writes, g.compress(nil, []byte(s)))
				in += len(s)
				out += len(writes[len(writes)-1])
			}
			got := inflateEach(t, writes, tc.writes, g.end(nil))
			is.Equal(got, tc.writes)
			t.Logf("%d bytes in %d writes: %d compressed", in, len(tc.writes), out)
		})
	}
}

// An update after the first compresses to a fraction of itself: its
// matches reach back into the previous one.
func TestGzipStreamUsesHistory(t *testing.T) {
	is := is.New(t)
	var g gzipStream
	first := []byte("id: 7\nevent: update\ndata: {\"c\":\"q2Hs8dPz0kQx\",\"s\":7,\"d\":{\"0\":\"n=7\"}}\n\n")
	second := []byte("id: 8\nevent: update\ndata: {\"c\":\"q2Hs8dPz0kQx\",\"s\":8,\"d\":{\"0\":\"n=8\"}}\n\n")
	g.compress(nil, first)
	b := g.compress(nil, second)
	is.True(len(b) < len(second)/3) // the second refers back to the first
}

func FuzzGzipStream(f *testing.F) {
	f.Add([]byte("id: 1\nevent: update\ndata: x\n\n"), []byte("id: 2\nevent: update\ndata: y\n\n"), uint8(16))
	f.Add(bytes.Repeat([]byte{0}, 600), []byte{0, 0, 0, 0, 1}, uint8(0))
	f.Fuzz(func(t *testing.T, a, b []byte, hist uint8) {
		g := gzipStream{max: int(hist)*8 + 4}
		var buf bytes.Buffer
		buf.Write(g.compress(nil, a))
		buf.Write(g.compress(nil, b))
		buf.Write(g.compress(nil, a))
		buf.Write(g.end(nil))
		zr, err := gzip.NewReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		want := append(append(append([]byte(nil), a...), b...), a...)
		if !bytes.Equal(got, want) {
			t.Fatalf("got %q, want %q", got, want)
		}
	})
}
