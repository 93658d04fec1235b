//go:build !unix

package ssehub

import (
	"errors"
	"syscall"
)

func descriptor(syscall.RawConn) (int, bool) { return 0, false }

func writeNow(int, []byte) (int, error) {
	return 0, errors.New("ssehub: no non-blocking writes on this platform")
}

func peerClosed(syscall.RawConn) bool { return false }
