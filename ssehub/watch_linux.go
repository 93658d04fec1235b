package ssehub

import (
	"errors"
	"fmt"
	"sync"
	"syscall"
)

// Watcher notices when the clients of taken streams (Take) close their
// connections, with one goroutine for all of them: a stream taken from
// net/http has no goroutine reading its socket, so otherwise nothing would
// see the client's FIN before the next write. It waits in epoll(7) for the
// peer to hang up, beside the Go runtime's own registration of the socket.
type Watcher struct {
	epfd  int
	wake  [2]int // a pipe: Close writes to it to end the wait
	done  chan struct{}
	mu    sync.Mutex
	next  int32
	gone  map[int32]func()
	close bool
}

// NewWatcher starts a Watcher. Close it to stop its goroutine.
func NewWatcher() (*Watcher, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("ssehub: epoll_create1: %w", err)
	}
	w := &Watcher{epfd: epfd, done: make(chan struct{}), gone: map[int32]func(){}}
	if err := syscall.Pipe2(w.wake[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		syscall.Close(epfd)
		return nil, fmt.Errorf("ssehub: pipe2: %w", err)
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: 0} // id 0: the wake pipe
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, w.wake[0], &ev); err != nil {
		w.closeFDs()
		return nil, fmt.Errorf("ssehub: epoll_ctl: %w", err)
	}
	go w.run()
	return w, nil
}

// Watch calls gone (once, from the Watcher's goroutine) when the client of
// s closes its connection. Call stop, before closing s, to cancel. Streams
// made by Open, or whose connection has no descriptor, are not watched:
// stop is then a no-op. An error means s is not watched (its heartbeats
// still notice a closed client).
func (w *Watcher) Watch(s *Stream, gone func()) (stop func(), err error) {
	if s.socket == nil {
		return func() {}, nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.close {
		return func() {}, errors.New("ssehub: the watcher is closed")
	}
	id := w.next
	for id == 0 || w.gone[id] != nil { // 0 is the pipe; skip ids in use after a wrap
		id++
	}
	w.next = id + 1
	ctl := func(op int) {
		_ = s.socket.Control(func(fd uintptr) {
			ev := syscall.EpollEvent{Events: syscall.EPOLLRDHUP | syscall.EPOLLHUP | syscall.EPOLLERR | epollET, Fd: id}
			err = syscall.EpollCtl(w.epfd, op, int(fd), &ev)
		})
	}
	ctl(syscall.EPOLL_CTL_ADD)
	if err != nil {
		return func() {}, fmt.Errorf("ssehub: epoll_ctl: %w", err)
	}
	w.gone[id] = gone
	return func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if _, ok := w.gone[id]; ok {
			delete(w.gone, id)
			ctl(syscall.EPOLL_CTL_DEL)
		}
	}, nil
}

// epollET is EPOLLET as the unsigned flag EpollEvent holds.
const epollET = 1 << 31

func (w *Watcher) run() {
	defer close(w.done)
	var evs [128]syscall.EpollEvent
	for {
		n, err := syscall.EpollWait(w.epfd, evs[:], -1)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return
		}
		var calls []func()
		w.mu.Lock()
		if w.close {
			w.mu.Unlock()
			return
		}
		for _, ev := range evs[:n] {
			if f := w.gone[ev.Fd]; f != nil {
				delete(w.gone, ev.Fd) // its stream ends; stop finds it gone
				calls = append(calls, f)
			}
		}
		w.mu.Unlock()
		for _, f := range calls {
			f()
		}
	}
}

// Close stops the Watcher's goroutine; streams still watched are no
// longer.
func (w *Watcher) Close() error {
	w.mu.Lock()
	if w.close {
		w.mu.Unlock()
		return nil
	}
	w.close = true
	w.mu.Unlock()
	_, _ = syscall.Write(w.wake[1], []byte{1})
	<-w.done
	w.closeFDs()
	return nil
}

func (w *Watcher) closeFDs() {
	syscall.Close(w.wake[0])
	syscall.Close(w.wake[1])
	syscall.Close(w.epfd)
}
