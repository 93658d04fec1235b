//go:build unix

package ssehub

import (
	"errors"
	"syscall"
)

const canWriteNow = true

// nowWriter writes what a socket takes at once: one write(2) on the
// non-blocking descriptor, never a wait for it to become writable. It is
// made once per stream, so that a write allocates nothing (a closure per
// call would); its caller holds the stream's lock.
type nowWriter struct {
	raw syscall.RawConn
	b   []byte
	n   int
	err error
	fn  func(fd uintptr) bool
}

func newNowWriter(raw syscall.RawConn) *nowWriter {
	w := &nowWriter{raw: raw}
	w.fn = w.write
	return w
}

func (w *nowWriter) write(fd uintptr) bool {
	for {
		w.n, w.err = syscall.Write(int(fd), w.b)
		if w.err != syscall.EINTR {
			return true // done, whatever happened: never wait
		}
	}
}

// writeNow returns how much of b the socket took; a full socket is not an
// error.
func (w *nowWriter) writeNow(b []byte) (int, error) {
	w.b = b
	defer func() { w.b = nil }()
	if err := w.raw.Write(w.fn); err != nil {
		return 0, err
	}
	n, err := max(w.n, 0), w.err
	if errors.Is(err, syscall.EAGAIN) {
		err = nil // the socket is full; the rest waits
	}
	return n, err
}

// peerClosed reports whether the client has closed its end: a peek that
// reads end-of-file, or finds the connection reset, without waiting. Writes
// alone notice that late, since the first write after the client's FIN
// still succeeds.
func peerClosed(raw syscall.RawConn) bool {
	var n int
	var rerr error
	var b [1]byte
	err := raw.Read(func(fd uintptr) bool {
		for {
			n, _, rerr = syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			if rerr != syscall.EINTR {
				return true
			}
		}
	})
	switch {
	case err != nil:
		return true // the connection is closed on this side already
	case rerr == nil:
		// End of file. Data means open, or unknown: a TLS client's
		// close_notify waits unread before its FIN, which the Watcher
		// still sees.
		return n == 0
	default:
		return !errors.Is(rerr, syscall.EAGAIN) // nothing to read: open; a reset: gone
	}
}
