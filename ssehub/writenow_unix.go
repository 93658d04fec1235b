//go:build unix

package ssehub

import (
	"errors"
	"syscall"
)

// descriptor returns the socket's file descriptor, for TrySend's writes,
// which go around net's poller (the Stream's trying and closing fields say
// why the number stays the socket's meanwhile).
func descriptor(raw syscall.RawConn) (int, bool) {
	fd := -1
	if err := raw.Control(func(d uintptr) { fd = int(d) }); err != nil || fd < 0 {
		return 0, false
	}
	return fd, true
}

// writeNow writes what the non-blocking socket fd takes at once, never
// waiting for it to become writable; a full socket is not an error.
func writeNow(fd int, b []byte) (int, error) {
	for {
		n, err := rawWrite(fd, b)
		switch {
		case err == nil:
			return n, nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EAGAIN):
			return 0, nil // the socket is full; the rest waits
		default:
			return 0, err
		}
	}
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
