package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

// bareWriter is the server of -baseline: the ticker's event stream (a
// first render, then one update per tick stamped as parseStamp reads it)
// written straight to hijacked connections, with no library, no goroutine
// and no buffer per stream. A run against it measures what a run against
// lt pays anyway: the kernel's loopback writes and the r3labs clients.
type bareWriter struct {
	head   string // the response head and first event: bareHead, or the table's
	mu     sync.Mutex
	conns  []net.Conn
	closed bool
}

// bareHead is a stream's response head and first event: the client
// counts the first render as the stream's open.
const bareHead = "HTTP/1.1 200 OK\r\n" +
	"Content-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n" +
	"event: render\ndata: {\"c\":\"baseline\",\"s\":0}\n\n"

// bareWriteTimeout bounds one write, so that a stalled client cannot hold
// a trigger up.
const bareWriteTimeout = 10 * time.Second

// ServeHTTP takes an event stream's connection over from net/http, writes
// the head and the first event, and keeps the connection for the ticks.
// Anything else is not found: there is no page.
func (b *bareWriter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet || !strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		http.NotFound(w, r)
		return
	}
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, fmt.Sprintf("hijacking the stream: %v", err), http.StatusInternalServerError)
		return
	}
	if err := writeWithin(conn, []byte(b.head)); err != nil {
		_ = conn.Close()
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		_ = conn.Close()
		return
	}
	b.conns = append(b.conns, conn)
}

// trigger writes one update, built once, to every stream, split over
// GOMAXPROCS goroutines, and returns when every write is done. A stream
// whose write fails is closed and forgotten: its client sees the drop.
func (b *bareWriter) trigger(n int, sent time.Time) error {
	msg := fmt.Appendf(nil, "event: update\ndata: tick:%d:%d\n\n", n, sent.UnixNano())
	b.mu.Lock()
	conns := slices.Clone(b.conns) // streams opened meanwhile wait for the next tick
	b.mu.Unlock()
	workers := min(runtime.GOMAXPROCS(0), len(conns))
	failed := make([][]net.Conn, workers)
	var wg sync.WaitGroup
	for i := range workers {
		part := conns[i*len(conns)/workers : (i+1)*len(conns)/workers]
		wg.Go(func() {
			for _, c := range part {
				if err := writeWithin(c, msg); err != nil {
					_ = c.Close()
					failed[i] = append(failed[i], c)
				}
			}
		})
	}
	wg.Wait()
	b.forget(slices.Concat(failed...))
	return nil
}

// forget removes closed connections from the set.
func (b *bareWriter) forget(gone []net.Conn) {
	if len(gone) == 0 {
		return
	}
	set := make(map[net.Conn]bool, len(gone))
	for _, c := range gone {
		set[c] = true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.conns = slices.DeleteFunc(b.conns, func(c net.Conn) bool { return set[c] })
}

func (b *bareWriter) streams() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return int64(len(b.conns))
}

// Close closes every stream's connection; net/http's Shutdown does not
// know hijacked ones. Streams opened after it are closed at once.
func (b *bareWriter) Close() error {
	b.mu.Lock()
	conns := b.conns
	b.conns, b.closed = nil, true
	b.mu.Unlock()
	var errs []error
	for _, c := range conns {
		if err := c.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// writeWithin writes p to c within bareWriteTimeout.
func writeWithin(c net.Conn, p []byte) error {
	if err := c.SetWriteDeadline(time.Now().Add(bareWriteTimeout)); err != nil {
		return fmt.Errorf("setting the write deadline: %w", err)
	}
	if _, err := c.Write(p); err != nil {
		return fmt.Errorf("writing to the stream: %w", err)
	}
	return nil
}
