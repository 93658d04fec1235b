package sse

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Watcher notices when the clients of taken streams (Take) close their
// connections: a stream taken from net/http has no goroutine reading its
// socket, so otherwise nothing would see the client's FIN before the next
// write.
//
// Every Watcher of the process shares one poller: an epoll(7) instance in
// which the sockets wait for their peers to hang up, beside the Go
// runtime's own registration of them, and one goroutine that reads it.
// That epoll instance is itself registered with the Go runtime's network
// poller, so the goroutine is parked there, as one reading a socket is,
// and holds no OS thread while it waits. The first NewWatcher starts the
// poller and the last Close stops it.
type Watcher struct {
	p      *poller
	mu     sync.Mutex
	closed bool
}

// poller is the process's epoll instance for Watchers and the goroutine
// that reads it.
type poller struct {
	file *os.File        // the epoll descriptor, registered with the runtime's poller
	raw  syscall.RawConn // file's, for reading it inside RawConn.Read
	done chan struct{}   // closed when run returns
	mu   sync.Mutex
	next uint64 // the next watch's id; ids are never reused
	gone map[uint64]watch
}

// watch is one stream being watched.
type watch struct {
	by     *Watcher
	socket syscall.RawConn
	gone   func()
}

// process is the one poller the Watchers of the process share. It is
// package-level state because being one per process is its point: a
// poller per Watcher (per lt.Handler) would be one more epoll instance
// and goroutine each. users counts the Watchers not yet closed: the first
// one starts the poller, the last Close stops it, so that a program (or a
// test checking for leaked goroutines) that closes its Watchers is left
// with nothing running. mu guards both fields.
var process struct {
	mu    sync.Mutex
	p     *poller
	users int
}

// NewWatcher returns a Watcher, starting the process's poller if no other
// Watcher is open. Close it when done: the poller stops when the last
// Watcher is closed.
func NewWatcher() (*Watcher, error) {
	process.mu.Lock()
	defer process.mu.Unlock()
	if process.p == nil {
		p, err := startPoller()
		if err != nil {
			return nil, err
		}
		process.p = p
	}
	process.users++
	return &Watcher{p: process.p}, nil
}

func startPoller() (*poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("ssehub: epoll_create1: %w", err)
	}
	// Non-blocking, so that os.NewFile registers it with the runtime's
	// poller: an epoll descriptor is readable while it has events ready.
	if err := unix.SetNonblock(epfd, true); err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("ssehub: epoll descriptor: %w", err)
	}
	f := os.NewFile(uintptr(epfd), "ssehub-watcher")
	raw, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("ssehub: epoll descriptor: %w", err)
	}
	p := &poller{file: f, raw: raw, done: make(chan struct{}), gone: map[uint64]watch{}}
	go p.run()
	return p, nil
}

// Watch calls gone (once, from the poller's goroutine) when the client of
// s closes its connection. Call stop, before closing s, to cancel; gone
// may still run while stop does, and must not close the Watcher. Streams made by Open, or whose connection
// has no descriptor, are not watched: stop is then a no-op. An error means
// s is not watched (its heartbeats still notice a closed client).
func (w *Watcher) Watch(s *Stream, gone func()) (stop func(), err error) {
	if s.socket == nil {
		return func() {}, nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return func() {}, errors.New("ssehub: the watcher is closed")
	}
	p := w.p
	p.mu.Lock()
	defer p.mu.Unlock()
	id := p.next
	p.next++
	// The descriptor is used inside Control only, where it is valid. The
	// kernel drops the registration by itself when the socket is closed.
	if err := epollCtl(p, s.socket, unix.EPOLL_CTL_ADD, id); err != nil {
		return func() {}, err
	}
	p.gone[id] = watch{by: w, socket: s.socket, gone: gone}
	return func() { p.unwatch(id) }, nil
}

// epollCtl adds socket to p's epoll instance, or deletes it, under id.
// p.mu is held.
func epollCtl(p *poller, socket syscall.RawConn, op int, id uint64) error {
	// The event's data is 64 bits, which x/sys/unix splits into Fd and Pad.
	ev := unix.EpollEvent{Events: unix.EPOLLRDHUP | unix.EPOLLHUP | unix.EPOLLERR | unix.EPOLLET, Fd: int32(id), Pad: int32(id >> 32)}
	var err error
	cerr := socket.Control(func(fd uintptr) {
		err = p.ctl(op, int(fd), &ev)
	})
	switch {
	case cerr != nil:
		return fmt.Errorf("ssehub: watching a socket: %w", cerr) // closed already
	case err != nil:
		return fmt.Errorf("ssehub: epoll_ctl: %w", err)
	}
	return nil
}

// ctl is epoll_ctl(2) on p's instance, inside its RawConn.Control: the
// poller's descriptor is valid there even while Close runs.
func (p *poller) ctl(op, fd int, ev *unix.EpollEvent) error {
	var err error
	if cerr := p.raw.Control(func(epfd uintptr) { err = unix.EpollCtl(int(epfd), op, fd, ev) }); cerr != nil {
		return cerr
	}
	return err
}

// unwatch ends the watch id, if it has not ended (by its client going,
// or its Watcher's Close).
func (p *poller) unwatch(id uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if w, ok := p.gone[id]; ok {
		delete(p.gone, id)
		_ = epollCtl(p, w.socket, unix.EPOLL_CTL_DEL, id) // fails only for a socket closed already, which left the instance then
	}
}

// run waits for events on the epoll instance, inside RawConn.Read: the
// callback takes what is ready without waiting and returns false when
// nothing is, so that the runtime parks the goroutine until the instance
// becomes readable again. It returns when Close closes the file.
func (p *poller) run() {
	defer close(p.done)
	var evs [128]unix.EpollEvent
	var calls []func()
	_ = p.raw.Read(func(epfd uintptr) bool {
		for {
			n, err := unix.EpollWait(int(epfd), evs[:], 0)
			switch {
			case errors.Is(err, unix.EINTR):
				continue
			case err != nil:
				return true // cannot happen for a valid instance; heartbeats still notice
			case n == 0:
				return false // the runtime wakes us when more is ready
			}
			calls = calls[:0]
			p.mu.Lock()
			for _, ev := range evs[:n] {
				id := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
				if w, ok := p.gone[id]; ok {
					delete(p.gone, id) // its stream ends; stop finds it gone
					calls = append(calls, w.gone)
				}
			}
			p.mu.Unlock()
			for _, f := range calls {
				f()
			}
			clear(calls)
		}
	})
}

// Close releases the Watcher: streams it still watches are no longer
// watched, and when it is the last open Watcher of the process the
// poller's goroutine stops before Close returns. It may be called more
// than once.
func (w *Watcher) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	w.mu.Unlock()
	p := w.p
	p.mu.Lock()
	for id, wt := range p.gone {
		if wt.by == w {
			delete(p.gone, id)
			_ = epollCtl(p, wt.socket, unix.EPOLL_CTL_DEL, id)
		}
	}
	p.mu.Unlock()
	process.mu.Lock()
	process.users--
	last := process.users == 0
	if last {
		process.p = nil // the next NewWatcher starts another
	}
	process.mu.Unlock()
	if last {
		// Closing the file wakes run's Read with an error; the
		// descriptor is closed once no Read or Control uses it.
		err := p.file.Close()
		<-p.done
		if err != nil {
			return fmt.Errorf("ssehub: closing the watcher: %w", err)
		}
	}
	return nil
}
