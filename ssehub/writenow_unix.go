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
