package sse

import "unsafe"

// Log is a sequence-numbered, bounded buffer of the recent events of one
// connection. It is the connection's outgoing queue and its replay buffer at
// once: publishing appends and never blocks; a reader that falls further
// behind than the log reaches is told so by AppendSince and must
// resynchronise with a snapshot. Memory is bounded by MaxEvents and MaxBytes.
//
// A Log is not safe for concurrent use; its owner serialises access (package
// lt guards it together with the state the events describe, so that a
// snapshot and the sequence number it stands for are read together).
type Log struct {
	// MaxEvents bounds how many events are kept (default 64).
	MaxEvents int
	// MaxBytes bounds the bytes kept (default 64 KiB). The newest event is
	// always kept, even if larger, so that a live reader never misses it.
	MaxBytes int

	seq   uint64
	ring  []logged // a circular buffer: the oldest event is at start
	start int
	n     int // events kept
	bytes int
	// types are the event types the log has kept, which its slots name by
	// index: a connection's log uses two or three. Events of a fourth and
	// later type keep theirs in more, by sequence number.
	types  [3]string
	ntypes uint8
	more   map[uint64]string
}

// logged is a kept event: its sequence number follows from its place, a
// log has no control events (NoID, Retry), and its type is an index into
// the log's types. At 24 bytes rather than an Event's 64, the full log of
// an idle connection is 1.5 KiB: it is most of what a counter's stream
// holds once it has sent a few dozen updates.
type logged struct {
	data string // the event's Data, not copied: nobody modifies it
	typ  uint8  // types[typ], or more[seq] when typ is len(types)
}

func (l *Log) typeOf(e logged, seq uint64) string {
	if int(e.typ) < len(l.types) {
		return l.types[e.typ]
	}
	return l.more[seq]
}

// typeIndex is the index of t in l.types, adding it when there is room,
// or len(l.types) when there is none.
func (l *Log) typeIndex(t string) uint8 {
	for i := range l.ntypes {
		if l.types[i] == t {
			return i
		}
	}
	if int(l.ntypes) < len(l.types) {
		l.types[l.ntypes] = t
		l.ntypes++
		return l.ntypes - 1
	}
	return uint8(len(l.types))
}

// Len is the number of events the log keeps: the newest Len events, up to
// Head.
func (l *Log) Len() int { return l.n }

// Head is the sequence number of the newest event published (0 before any).
func (l *Log) Head() uint64 { return l.seq }

// Append assigns the next sequence number to e, keeps its Type and Data,
// and returns the number. Older events are dropped to stay within the
// bounds. An append writes one slot: a full log overwrites its oldest
// event rather than moving the others down.
func (l *Log) Append(e Event) uint64 {
	maxEvents, maxBytes := l.MaxEvents, l.MaxBytes
	if maxEvents <= 0 {
		maxEvents = 64
	}
	if maxBytes <= 0 {
		maxBytes = 64 << 10
	}
	if l.n == maxEvents {
		l.dropOldest()
	}
	if l.n == len(l.ring) {
		l.grow(maxEvents)
	}
	l.seq++
	slot := logged{data: unsafe.String(unsafe.SliceData(e.Data), len(e.Data)), typ: l.typeIndex(e.Type)}
	if int(slot.typ) == len(l.types) {
		if l.more == nil {
			l.more = map[uint64]string{}
		}
		l.more[l.seq] = e.Type
	}
	l.ring[(l.start+l.n)%len(l.ring)] = slot
	l.n++
	l.bytes += e.size()
	for l.n > 1 && l.bytes > maxBytes {
		l.dropOldest()
	}
	return l.seq
}

// dropOldest drops the oldest event kept; l.seq counts every event kept.
func (l *Log) dropOldest() {
	e, seq := l.ring[l.start], l.seq-uint64(l.n)+1
	l.bytes -= Event{Type: l.typeOf(e, seq)}.size() + len(e.data)
	if int(e.typ) == len(l.types) {
		delete(l.more, seq)
	}
	l.ring[l.start] = logged{} // its payload can be collected
	l.start = (l.start + 1) % len(l.ring)
	l.n--
}

// grow doubles the ring, up to limit slots, keeping the events in order.
func (l *Log) grow(limit int) {
	ring := make([]logged, min(max(2*len(l.ring), 2), limit))
	for i := range l.n {
		ring[i] = l.ring[(l.start+i)%len(l.ring)]
	}
	l.ring, l.start = ring, 0
}

// AppendSince appends to dst the events published after seq, oldest first,
// and returns the extended slice. ok is false, and dst is returned as it
// was, when the reader cannot be caught up from the log: some events after
// seq were already dropped, or seq is ahead of the log (a client of an
// earlier process).
func (l *Log) AppendSince(dst []Event, seq uint64) (events []Event, ok bool) {
	switch {
	case seq == l.seq:
		return dst, true
	case seq > l.seq:
		return dst, false
	}
	oldest := l.seq - uint64(l.n) + 1 // the sequence number at start
	if l.n == 0 || oldest > seq+1 {
		return dst, false
	}
	for i := int(seq + 1 - oldest); i < l.n; i++ {
		e, seq := l.ring[(l.start+i)%len(l.ring)], oldest+uint64(i)
		dst = append(dst, Event{Seq: seq, Type: l.typeOf(e, seq), Data: unsafe.Slice(unsafe.StringData(e.data), len(e.data))})
	}
	return dst, true
}
