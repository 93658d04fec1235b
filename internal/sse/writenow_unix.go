//go:build unix

package sse

import (
	"errors"
	"syscall"

	"golang.org/x/sys/unix"
)

// canWriteNow says TrySend can write to a socket without waiting for it:
// the descriptor is non-blocking (net makes it so) and write(2) says
// EAGAIN when the socket is full.
const canWriteNow = true

// writeNow writes what the non-blocking socket fd takes at once, never
// waiting for it to become writable; a full socket is not an error. The
// caller runs it inside syscall.RawConn.Write, which keeps fd valid.
func writeNow(fd int, b []byte) (int, error) {
	for {
		n, err := rawWrite(fd, b)
		switch {
		case err == nil:
			return n, nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EAGAIN):
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
			n, _, rerr = unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
			if !errors.Is(rerr, unix.EINTR) {
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
		return !errors.Is(rerr, unix.EAGAIN) // nothing to read: open; a reset: gone
	}
}
