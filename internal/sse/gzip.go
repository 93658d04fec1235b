package sse

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math/bits"
)

// DefaultGzipHistory is how many of the last uncompressed bytes of a
// gzipped stream its next write may refer back to. It is what a
// compressed stream keeps between writes (one allocation of this size),
// and enough to hold the previous update and heartbeat, which is where
// an update's redundancy is.
const DefaultGzipHistory = 256

// gzipStream compresses one stream's body as one gzip member, write by
// write: each write is a deflate block with fixed Huffman codes whose
// matches may reach into the history (the tail of what was written
// before), followed by a sync flush (an empty stored block), so that
// every write can be decoded in full as soon as it arrives.
//
// compress/flate keeps its state across writes too, but its Writer is
// 0.7-1.2 MiB of heap at every level, HuffmanOnly included (its hash
// tables are arrays inside it): too much to keep for every open stream.
// This one keeps the history and 12 bytes; the hash table of a write
// lives on the stack, and a stdlib writer would gain little over fixed
// codes on events of a hundred bytes, whose dynamic code tables cost
// more than they save.
type gzipStream struct {
	hist  []byte // the last histMax bytes written, uncompressed
	crc   uint32 // of everything written, for the trailer
	size  uint32 // bytes written, mod 2^32, for the trailer
	begun bool   // the gzip header is written
	ended bool   // the trailer is written
	max   int    // histMax; DefaultGzipHistory when zero
}

// gzipHeader is a gzip member's header: deflate, no name or time, OS
// unknown.
const gzipHeader = "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"

// Deflate's bounds on a match.
const (
	minMatch    = 4 // shorter ones cost as much as their literals
	maxMatch    = 258
	maxDistance = 32768
)

// bitWriter is deflate's LSB-first bit stream, appended to a byte slice
// that its methods take and return (a slice kept in the struct would
// make the compiler put every caller's buffer on the heap).
type bitWriter struct {
	acc  uint64
	nacc uint
}

func (w *bitWriter) bits(b []byte, v uint64, n uint) []byte {
	w.acc |= v << w.nacc
	w.nacc += n
	for w.nacc >= 8 {
		b = append(b, byte(w.acc))
		w.acc >>= 8
		w.nacc -= 8
	}
	return b
}

// code writes a Huffman code, which deflate stores from its most
// significant bit.
func (w *bitWriter) code(b []byte, c uint16, n uint) []byte {
	return w.bits(b, uint64(bits.Reverse16(c)>>(16-n)), n)
}

// align pads to a byte boundary with zero bits.
func (w *bitWriter) align(b []byte) []byte {
	if w.nacc > 0 {
		b = w.bits(b, 0, 8-w.nacc)
	}
	return b
}

// literal writes a literal/length symbol (0-287) in the fixed code.
func (w *bitWriter) literal(b []byte, sym int) []byte {
	switch {
	case sym < 144:
		return w.code(b, uint16(0x30+sym), 8)
	case sym < 256:
		return w.code(b, uint16(0x190+sym-144), 9)
	case sym < 280:
		return w.code(b, uint16(sym-256), 7)
	default:
		return w.code(b, uint16(0xc0+sym-280), 8)
	}
}

// match writes a length (3-258) and a distance (1-32768) in the fixed
// code.
func (w *bitWriter) match(b []byte, length, dist int) []byte {
	if length == maxMatch {
		b = w.literal(b, 285)
	} else if v := length - 3; v < 8 {
		b = w.literal(b, 257+v)
	} else {
		e := uint(bits.Len(uint(v))) - 3
		b = w.literal(b, 257+4+4*int(e)+(v>>e-4))
		b = w.bits(b, uint64(v)&(1<<e-1), e)
	}
	if v := dist - 1; v < 4 {
		return w.code(b, uint16(v), 5)
	} else {
		e := uint(bits.Len(uint(v))) - 2
		b = w.code(b, uint16(2+2*int(e)+(v>>e-2)), 5)
		return w.bits(b, uint64(v)&(1<<e-1), e)
	}
}

// smallTable is the hash table's size for a write that fits the stack's:
// a history and an update or two.
const (
	smallTable = 1 << 8
	largeTable = 1 << 13
	smallWrite = 2 << 10 // larger writes (first renders) get largeTable on the heap
	// smallWindow is the stack's room for the history and a write; a
	// larger pair is laid out on the heap.
	smallWindow = 1 << 10
)

// compress appends src, compressed and flushed, to dst, and returns the
// extended slice; the first call also writes the gzip header. An empty
// src writes nothing.
func (g *gzipStream) compress(dst, src []byte) []byte {
	if !g.begun {
		dst = append(dst, gzipHeader...)
		g.begun = true
	}
	if len(src) == 0 {
		return dst
	}
	start := len(dst)
	var w bitWriter
	b := w.bits(dst, 0b010, 3) // not final; fixed Huffman codes
	var small [smallTable]int32
	table := small[:]
	if len(src) > smallWrite {
		table = heapTable()
	}
	b = g.lz(&w, b, table, src)
	b = w.literal(b, 256)         // end of block
	b = w.bits(b, 0, 3)           // sync flush: an empty stored block,
	b = w.align(b)                // byte-aligned,
	b = w.bits(b, 0xffff0000, 32) // LEN 0, NLEN 0xffff
	if len(b)-start > storedSize(len(src)) {
		b = stored(b[:start], src) // bytes the fixed codes inflate
	}
	g.remember(src)
	g.sum(src)
	return b
}

// sum adds src, just remembered, to the CRC and size. It reads the copy
// in the history rather than src, which would otherwise escape (crc32
// calls through a function variable) and take the caller's stack buffer
// to the heap; only the part of a large write that the history no
// longer holds is copied.
func (g *gzipStream) sum(src []byte) {
	tail := min(len(src), len(g.hist))
	if head := len(src) - tail; head > 0 {
		g.crc = crc32.Update(g.crc, crc32.IEEETable, bytes.Clone(src[:head]))
	}
	g.crc = crc32.Update(g.crc, crc32.IEEETable, g.hist[len(g.hist)-tail:])
	g.size += uint32(len(src))
}

// heapTable is the hash table of a large write: on the heap, since on
// the stack it would grow the goroutine of every stream that writes one
// (a first render) by 32 KiB.
//
//go:noinline
func heapTable() []int32 { return make([]int32, largeTable) }

// maxStored is the most a stored block holds.
const maxStored = 65535

// storedSize is what src costs as stored blocks and the flush.
func storedSize(n int) int { return n + 5*(n+maxStored-1)/maxStored + 5 }

// stored appends src as stored (uncompressed) blocks, none final, and a
// sync flush: an empty one. The blocks end on a byte boundary already,
// but Go's inflater returns a stored block's bytes only once it has read
// the next block's header.
func stored(dst, src []byte) []byte {
	for {
		n := min(len(src), maxStored)
		if n == 0 {
			return append(dst, 0, 0, 0, 0xff, 0xff)
		}
		dst = append(dst, 0) // not final, stored; padded to the byte
		dst = binary.LittleEndian.AppendUint16(dst, uint16(n))
		dst = binary.LittleEndian.AppendUint16(dst, ^uint16(n))
		dst = append(dst, src[:n]...)
		src = src[n:]
	}
}

// lz appends src as literals and matches against the history and src's
// own earlier bytes, which it lays end to end in win (on the stack for a
// small write). Positions count from the start of win; the table holds
// position+1 (0: empty).
func (g *gzipStream) lz(w *bitWriter, b []byte, table []int32, src []byte) []byte {
	var small [smallWindow]byte
	win := append(append(small[:0], g.hist...), src...)
	end := len(win)
	shift := 32 - uint(bits.Len(uint(len(table)-1)))
	hash := func(i int) uint32 { return (binary.LittleEndian.Uint32(win[i:]) * 0x1e35a7bd) >> shift }
	// Every other position of the history: half the hashing, which is
	// most of a small write's cost, for a byte more of literal where a
	// match begins at the other.
	for i := 0; i < len(g.hist) && i+minMatch <= end; i += 2 {
		table[hash(i)] = int32(i + 1)
	}
	i := len(g.hist)
	for i+minMatch <= end {
		slot := hash(i)
		cand := int(table[slot]) - 1
		table[slot] = int32(i + 1)
		if cand < 0 || i-cand > maxDistance ||
			binary.LittleEndian.Uint32(win[cand:]) != binary.LittleEndian.Uint32(win[i:]) {
			b = w.literal(b, int(win[i]))
			i++
			continue
		}
		n := minMatch
		for n < maxMatch && i+n < end && win[cand+n] == win[i+n] {
			n++
		}
		b = w.match(b, n, i-cand)
		for j := i + 1; j < i+n && j+minMatch <= end; j++ {
			table[hash(j)] = int32(j + 1)
		}
		i += n
	}
	for ; i < end; i++ {
		b = w.literal(b, int(win[i]))
	}
	return b
}

// remember keeps the last histMax bytes of the history and src.
func (g *gzipStream) remember(src []byte) {
	limit := g.max
	if limit <= 0 {
		limit = DefaultGzipHistory
	}
	if g.hist == nil {
		g.hist = make([]byte, 0, limit)
	}
	if len(src) >= limit {
		g.hist = append(g.hist[:0], src[len(src)-limit:]...)
		return
	}
	if drop := len(g.hist) + len(src) - limit; drop > 0 {
		g.hist = g.hist[:copy(g.hist, g.hist[drop:])]
	}
	g.hist = append(g.hist, src...)
}

// end appends the end of the gzip member (a final empty block, the CRC
// and the size) to dst, once; it writes nothing before the header.
func (g *gzipStream) end(dst []byte) []byte {
	if !g.begun || g.ended {
		return dst
	}
	g.ended = true
	dst = append(dst, 0x03, 0x00) // final block, fixed codes, end of block
	dst = binary.LittleEndian.AppendUint32(dst, g.crc)
	return binary.LittleEndian.AppendUint32(dst, g.size)
}
