package sse

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// DefaultWriteTimeout bounds one write to a stream: a client whose socket
// accepts nothing for this long is cut, so a stalled peer cannot pin a
// goroutine and its buffers forever.
const DefaultWriteTimeout = 10 * time.Second

// ErrStreamingUnsupported is returned by Open when the ResponseWriter cannot
// flush. Usually a middleware wrapped it without an Unwrap method; mount the
// stream outside such middleware.
var ErrStreamingUnsupported = errors.New("ssehub: the ResponseWriter cannot flush; a middleware probably wraps it without Unwrap")

// Stream writes Server-Sent Events to one HTTP response. Send and Comment
// are for one goroutine that drives the stream itself; while Serve drives
// it, other goroutines may call TrySend.
type Stream struct {
	// What TrySend touches comes first, together, as a fan-out calls it
	// on thousands of streams whose memory is no longer in any cache.
	//
	// Under Serve, mu orders the writers: Serve's goroutine and TrySend's
	// callers. TrySend never blocks on the socket: what the socket would
	// not take at once waits in pending for Serve's goroutine.
	mu sync.Mutex
	// socket is the TCP socket: TrySend writes to it (canTry) inside
	// syscall.RawConn.Write, where its descriptor is guaranteed valid,
	// and Serve and the Watcher see on it the client hang up (beneath
	// TLS too).
	socket  syscall.RawConn
	canTry  bool                  // a plain TCP connection taken over on Unix
	tryFn   func(fd uintptr) bool // s.tryWrite, made once: a method value passed each time would be allocated each time
	trySrc  Source                // TrySend's src, for tryFn
	tried   bool                  // what tryFn reports to TrySend
	serving bool                  // Serve has written its first heartbeat and not returned
	pending []byte
	lastTry atomic.Int64                            // unix nanoseconds of TrySend's last write
	written func(events, bytes int, heartbeat bool) // Options.Written, under Serve
	// What Serve and TrySend wrote, under mu (Sent).
	sentEvents, sentBytes int64
	// A stream served by Start rather than Serve: no goroutine of its own
	// (start.go).
	started atomic.Pointer[started]

	w            http.ResponseWriter
	rc           *http.ResponseController
	conn         net.Conn // set when the stream took over the connection (Take)
	buf          []byte
	gz           *gzipStream   // the body's compressor, for Content-Encoding: gzip
	WriteTimeout time.Duration // per write; DefaultWriteTimeout when zero
}

// Open starts an event stream on w: it writes the headers that keep proxies
// from buffering or transforming the stream and flushes them at once, and it
// lifts the server's WriteTimeout for this response (each write gets its own
// deadline instead).
//
// A caller that set "Content-Encoding: gzip" on w's header (for a request
// that AcceptsGzip) gets a gzipped body: every write is compressed with
// what the stream wrote before as context, and flushed whole, so each
// event still reaches the client at once. Serve ends the gzip body when
// its context ends the stream.
func Open(w http.ResponseWriter) (*Stream, error) {
	h := w.Header()
	gz, err := encoding(h)
	if err != nil {
		return nil, err
	}
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache, no-transform")
	h.Set("X-Accel-Buffering", "no")
	h.Del("Content-Length")
	rc := http.NewResponseController(w)
	// A server-wide WriteTimeout would kill every long-lived stream; a
	// wrapper that cannot set deadlines is tolerated, as flushing is what
	// really matters.
	if err := rc.SetWriteDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return nil, fmt.Errorf("ssehub: clearing write deadline: %w", err)
	}
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		if errors.Is(err, http.ErrNotSupported) {
			return nil, ErrStreamingUnsupported
		}
		return nil, fmt.Errorf("ssehub: flushing headers: %w", err)
	}
	return &Stream{w: w, rc: rc, gz: gz}, nil
}

// ErrCannotTake is returned by Take when the connection cannot be taken
// over (HTTP/2, or a wrapper that neither unwraps nor hijacks); w is then
// untouched and Open can serve the stream instead.
var ErrCannotTake = errors.New("ssehub: the connection cannot be taken over")

// Take starts an event stream like Open, but takes the connection over
// from net/http (hijacks it): the response is written straight to the
// socket and delimited by closing it, so the handler can return while the
// stream goes on in a goroutine of the caller's, and net/http's
// per-connection buffers, background reader and goroutine are freed. The
// response carries w's headers, Content-Encoding: gzip included, with the
// effect Open gives it. It returns an error wrapping ErrCannotTake where
// the connection cannot be taken: use Open there. The caller must Close
// the stream.
func Take(w http.ResponseWriter) (*Stream, error) {
	rc := http.NewResponseController(w)
	h := w.Header().Clone()
	gz, err := encoding(h)
	if err != nil {
		return nil, err
	}
	conn, brw, err := rc.Hijack()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCannotTake, err)
	}
	brw.Reader.Reset(nil) // a GET has no body; drop the buffer
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache, no-transform")
	h.Set("X-Accel-Buffering", "no")
	h.Set("Connection", "close") // the body ends when the stream does
	h.Del("Content-Length")
	h.Del("Transfer-Encoding")
	var b bytes.Buffer
	b.WriteString("HTTP/1.1 200 OK\r\n")
	_ = h.Write(&b)
	b.WriteString("\r\n")
	s := &Stream{conn: conn, gz: gz}
	if sc, ok := conn.(syscall.Conn); ok {
		s.socket, _ = sc.SyscallConn()
		if s.socket != nil && canWriteNow {
			s.canTry, s.tryFn = true, s.tryWrite
		}
	}
	if tc, ok := conn.(interface{ NetConn() net.Conn }); ok && s.socket == nil {
		// TLS: writes must go through the TLS layer, but whether the
		// client hung up can still be read off the TCP socket beneath.
		if sc, ok := tc.NetConn().(syscall.Conn); ok {
			s.socket, _ = sc.SyscallConn()
		}
	}
	if err := s.writeWire(b.Bytes()); err != nil {
		conn.Close()
		return nil, fmt.Errorf("ssehub: writing headers: %w", err)
	}
	return s, nil
}

// Close ends a stream made by Take by closing its connection; for one made
// by Open it does nothing (the handler's return ends the response). A
// TrySend in progress (which never blocks) finishes first; a TrySend after
// it writes nothing.
func (s *Stream) Close() error {
	if s.conn == nil {
		return nil
	}
	// net's Close leaves the descriptor open until a RawConn.Write in
	// progress (TrySend's) has returned, and no Write starts after it.
	return s.conn.Close()
}

// Send writes events and flushes them in one go.
func (s *Stream) Send(events ...Event) error {
	_, err := s.write(s.frame(events))
	return err
}

// Comment writes a comment line, which clients ignore; it keeps idle
// connections alive through proxies with read timeouts.
func (s *Stream) Comment(text string) error {
	_, err := s.write(append(append(s.buf[:0], ": "...), sanitizeField(text)+"\n\n"...))
	return err
}

// write encodes b (compresses it, for a gzipped stream), writes it and
// returns the bytes that went on the wire.
func (s *Stream) write(b []byte) (int, error) {
	if s.gz != nil {
		return s.writeGzip(b)
	}
	return len(b), s.writeWire(b)
}

// writeGzip compresses b and writes it. The compressed bytes go after b
// in its array, never over it (b is a frame in the stream's buffer). A
// stream that Serve's goroutine writes every event of (one without
// TrySend) keeps the array they needed, so that its buffer grows once to
// hold a frame and its compressed form; a stream TrySend writes to
// compresses its events on the stack, and Serve's goroutine writes only
// its heartbeats, so it keeps no more than without gzip.
func (s *Stream) writeGzip(b []byte) (int, error) {
	free := cap(b) - len(b)
	out := s.gz.compress(b[len(b):], b)
	if !s.canTry && cap(out) > free && cap(out) <= keepFrame {
		s.buf = out[:0] // a new array, small enough to keep
	}
	return len(out), s.writeWire(out)
}

// writeWire writes b as it is: already encoded, or the response's head.
func (s *Stream) writeWire(b []byte) error {
	d := s.WriteTimeout
	if d <= 0 {
		d = DefaultWriteTimeout
	}
	return s.writeWithin(b, d)
}

// writeWithin writes b as it is, within d.
func (s *Stream) writeWithin(b []byte, d time.Duration) error {
	if s.conn != nil {
		if err := s.conn.SetWriteDeadline(time.Now().Add(d)); err != nil {
			return err
		}
		_, err := s.conn.Write(b)
		return err
	}
	if err := s.rc.SetWriteDeadline(time.Now().Add(d)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	if _, err := s.w.Write(b); err != nil {
		return err
	}
	return s.rc.Flush()
}

// TrySend writes src's next events now if that cannot block: Serve is
// driving the stream, no other write is in progress, and the socket takes
// the bytes at once. It reports whether the events were handled; when it
// returns false the caller signals src.Changed and Serve's goroutine
// writes them (a socket that took only part of them gets the rest from
// there, with the write deadline). A stream served by Start has no
// goroutine to signal: there TrySend starts one to write what the socket
// would not take at once, and returns true. Streams made by Open, and
// connections that expose no file descriptor (TLS), always return false.
//
// It saves a fan-out to many streams a goroutine switch per stream: the
// goroutine that published the events writes them.
func (s *Stream) TrySend(src Source) bool {
	if !s.canTry {
		return false
	}
	if !s.mu.TryLock() {
		return s.wakeStarted() // another write holds the stream
	}
	handled := false
	if s.serving && s.pending == nil {
		s.trySrc = src
		err := s.socket.Write(s.tryFn)
		s.trySrc = nil
		// An error means the connection is closed and tryFn did not run:
		// src's events stay for the stream's writer, whose write meets
		// the same error and ends the stream.
		handled = err == nil && s.tried
	}
	serving := s.serving
	s.mu.Unlock()
	if !handled && serving {
		return s.wakeStarted()
	}
	return handled
}

// tryWrite is TrySend's write, run by syscall.RawConn.Write with the
// socket's descriptor, which is valid until it returns: Close can end the
// connection meanwhile, but net closes the descriptor (and frees its
// number for another file) only once this has returned. It always
// returns true: it never waits for the socket, and what the socket would
// not take waits in pending for Serve's goroutine. s.mu is held.
func (s *Stream) tryWrite(fd uintptr) bool {
	// Framed on the stack: an update is small, and a buffer kept per
	// stream would be one more object to touch, and memory held, per
	// stream of a fan-out.
	var frame [512]byte
	b := frame[:0]
	evs := s.trySrc.Next()
	for _, e := range evs {
		b = e.appendTo(b)
	}
	s.tried = true
	if len(b) == 0 {
		return true
	}
	if s.gz != nil {
		var out [640]byte
		b = s.gz.compress(out[:0], b)
	}
	n, err := writeNow(int(fd), b)
	s.lastTry.Store(time.Now().UnixNano())
	if err == nil {
		s.count(nil, len(evs), n, false) // the rest, if any, counts when Serve writes it
	}
	if n == len(b) && err == nil {
		return true
	}
	// Serve's goroutine writes the rest, or meets the same error and ends
	// the stream; the client then resumes from the log.
	s.pending = append([]byte(nil), b[n:]...)
	s.tried = false
	return true
}

// keepFrame is the largest frame buffer a stream keeps between writes:
// room for heartbeats and small updates. A first render is often a few
// KiB, and 10,000 idle streams would each hold one.
const keepFrame = 256

// frame writes events into the stream's buffer.
func (s *Stream) frame(events []Event) []byte {
	b := s.buf[:0]
	for _, e := range events {
		b = e.appendTo(b)
	}
	if cap(b) > keepFrame {
		s.buf = nil // an idle stream should not keep a render's buffer
	} else {
		s.buf = b
	}
	return b
}
