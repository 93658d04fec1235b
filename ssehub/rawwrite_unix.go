//go:build unix && !linux

package ssehub

import "syscall"

// rawWrite is write(2) on a non-blocking socket.
func rawWrite(fd int, b []byte) (int, error) { return syscall.Write(fd, b) }
