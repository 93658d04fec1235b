//go:build unix && !linux

package sse

import "golang.org/x/sys/unix"

// rawWrite is write(2) on a non-blocking socket, inside
// syscall.RawConn.Write (Stream.tryWrite).
func rawWrite(fd int, b []byte) (int, error) { return unix.Write(fd, b) }
