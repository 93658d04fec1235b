package ssehub

// Log is a sequence-numbered, bounded buffer of the recent events of one
// connection. It is the connection's outgoing queue and its replay buffer at
// once: publishing appends and never blocks; a reader that falls further
// behind than the log reaches is told so by Since and must resynchronise with
// a snapshot. Memory is bounded by MaxEvents and MaxBytes.
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

	seq    uint64
	events []Event // oldest first
	bytes  int
}

// Head is the sequence number of the newest event published (0 before any).
func (l *Log) Head() uint64 { return l.seq }

// Append assigns the next sequence number to e, keeps it, and returns the
// number. Older events are dropped to stay within the bounds.
func (l *Log) Append(e Event) uint64 {
	l.seq++
	e.Seq = l.seq
	l.events = append(l.events, e)
	l.bytes += e.size()
	maxEvents, maxBytes := l.MaxEvents, l.MaxBytes
	if maxEvents <= 0 {
		maxEvents = 64
	}
	if maxBytes <= 0 {
		maxBytes = 64 << 10
	}
	drop := 0
	for len(l.events)-drop > 1 && (len(l.events)-drop > maxEvents || l.bytes > maxBytes) {
		l.bytes -= l.events[drop].size()
		drop++
	}
	if drop > 0 {
		// Copy down rather than reslice so the backing array does not grow
		// without bound and dropped payloads can be collected.
		n := copy(l.events, l.events[drop:])
		clear(l.events[n:])
		l.events = l.events[:n]
	}
	return e.Seq
}

// Since returns the events published after seq, oldest first. ok is false
// when the reader cannot be caught up from the log: some events after seq
// were already dropped, or seq is ahead of the log (a client of an earlier
// process). The returned slice must not be modified.
func (l *Log) Since(seq uint64) (events []Event, ok bool) {
	switch {
	case seq == l.seq:
		return nil, true
	case seq > l.seq:
		return nil, false
	case len(l.events) == 0 || l.events[0].Seq > seq+1:
		return nil, false
	}
	i := int(seq + 1 - l.events[0].Seq)
	return l.events[i:], true
}
