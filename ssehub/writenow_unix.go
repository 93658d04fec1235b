//go:build unix

package ssehub

import (
	"errors"
	"syscall"
)

const canWriteNow = true

// writeNow writes what the socket takes at once: one write(2) on the
// non-blocking descriptor, never a wait for it to become writable.
func writeNow(raw syscall.RawConn, b []byte) (int, error) {
	var n int
	var werr error
	err := raw.Write(func(fd uintptr) bool {
		for {
			n, werr = syscall.Write(int(fd), b)
			if werr != syscall.EINTR {
				return true // done, whatever happened: never wait
			}
		}
	})
	if err != nil {
		return 0, err
	}
	if n < 0 {
		n = 0
	}
	if errors.Is(werr, syscall.EAGAIN) {
		werr = nil // the socket is full; the rest waits
	}
	return n, werr
}

// peerClosed reports whether the client has closed its end: a peek that
// reads end-of-file without waiting. Writes alone notice that late, since
// the first write after the client's FIN still succeeds.
func peerClosed(raw syscall.RawConn) bool {
	var n int
	var rerr error
	var b [1]byte
	err := raw.Read(func(fd uintptr) bool {
		n, _, rerr = syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return true
	})
	return err == nil && rerr == nil && n == 0
}
