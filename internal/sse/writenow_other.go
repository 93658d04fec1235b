//go:build !unix

package sse

import (
	"errors"
	"syscall"
)

// canWriteNow is false here: TrySend always leaves the events to Serve.
const canWriteNow = false

func writeNow(int, []byte) (int, error) {
	return 0, errors.New("ssehub: no non-blocking writes on this platform")
}

func peerClosed(syscall.RawConn) bool { return false }
