package sse

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// rawWrite is write(2) without telling the Go scheduler: the socket is
// non-blocking, so the call cannot block, and a fan-out's thousands of
// writes then cost no scheduler bookkeeping (and no hand-off of the P
// when one write runs long). fd must stay valid for the call: it runs
// inside syscall.RawConn.Write (Stream.tryWrite).
func rawWrite(fd int, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	n, _, errno := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}
