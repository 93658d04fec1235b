package sse

import (
	"errors"
	"slices"
	"syscall"
	"testing"

	"github.com/matryer/is"
)

// TrySend writes to the socket's descriptor number itself (inside
// RawConn.Write), so once Close has returned it must not write at all,
// even while Serve still runs: the number may already belong to another
// socket, which would receive the stream's bytes. The test makes a new
// socket take the number and checks that nothing arrives on it.
func TestTrySendAfterCloseWritesNothing(t *testing.T) {
	is := is.New(t)
	src := &countingSource{logSource: &logSource{changed: make(chan struct{}, 1), log: Log{MaxEvents: 64}}}
	st, _ := serveTaken(t, src)
	fd := -1
	is.NoErr(st.socket.Control(func(d uintptr) { fd = int(d) })) // the number only, to see it reused
	is.NoErr(st.Close())

	// The kernel hands out the lowest free number, so fd comes back soon.
	var mine, peer int
	var pairs []int
	defer func() {
		for _, p := range pairs {
			syscall.Close(p)
		}
	}()
	for !slices.Contains(pairs, fd) {
		is.True(len(pairs) < 1000) // the closed descriptor's number came back
		p, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK, 0)
		is.NoErr(err)
		pairs = append(pairs, p[0], p[1])
		mine, peer = p[0], p[1]
		if p[1] == fd {
			mine, peer = p[1], p[0]
		}
	}
	is.Equal(mine, fd)

	src.publishTry(st, "after close")
	is.Equal(src.signals, 1) // declined, left to Serve (which will fail on the closed connection)
	var b [64]byte
	n, err := syscall.Read(peer, b[:])
	is.True(errors.Is(err, syscall.EAGAIN)) // nothing was written to the new socket
	is.Equal(n, -1)
}
