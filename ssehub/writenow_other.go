//go:build !unix

package ssehub

import (
	"errors"
	"syscall"
)

const canWriteNow = false

type nowWriter struct{}

func newNowWriter(syscall.RawConn) *nowWriter { return &nowWriter{} }

func (*nowWriter) writeNow([]byte) (int, error) {
	return 0, errors.New("ssehub: no non-blocking writes on this platform")
}

func peerClosed(syscall.RawConn) bool { return false }
