package ssehub

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
	w            http.ResponseWriter
	rc           *http.ResponseController
	conn         net.Conn // set when the stream took over the connection (Take)
	buf          []byte
	WriteTimeout time.Duration // per write; DefaultWriteTimeout when zero

	// Under Serve, mu orders the writers: Serve's goroutine and TrySend's
	// callers. TrySend never blocks on the socket: what the socket would
	// not take at once waits in pending for Serve's goroutine.
	mu      sync.Mutex
	raw     syscall.RawConn // for writes that must not block; nil when unavailable
	now     *nowWriter      // writes on raw
	socket  syscall.RawConn // the TCP socket, to see the client hang up (raw, or beneath TLS)
	serving bool            // Serve has written its first heartbeat and not returned
	pending []byte
	lastTry atomic.Int64 // unix nanoseconds of TrySend's last write
}

// Open starts an event stream on w: it writes the headers that keep proxies
// from buffering or transforming the stream and flushes them at once, and it
// lifts the server's WriteTimeout for this response (each write gets its own
// deadline instead).
func Open(w http.ResponseWriter) (*Stream, error) {
	h := w.Header()
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
	return &Stream{w: w, rc: rc}, nil
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
// response carries w's headers. It returns an error wrapping
// ErrCannotTake where the connection cannot be taken: use Open there. The
// caller must Close the stream.
func Take(w http.ResponseWriter) (*Stream, error) {
	rc := http.NewResponseController(w)
	h := w.Header().Clone()
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
	s := &Stream{conn: conn}
	if sc, ok := conn.(syscall.Conn); ok && canWriteNow {
		if s.raw, _ = sc.SyscallConn(); s.raw != nil {
			s.now = newNowWriter(s.raw)
		}
	}
	s.socket = s.raw
	if tc, ok := conn.(interface{ NetConn() net.Conn }); ok && s.socket == nil {
		// TLS: writes must go through the TLS layer, but whether the
		// client hung up can still be read off the TCP socket beneath.
		if sc, ok := tc.NetConn().(syscall.Conn); ok {
			s.socket, _ = sc.SyscallConn()
		}
	}
	if err := s.write(b.Bytes()); err != nil {
		conn.Close()
		return nil, fmt.Errorf("ssehub: writing headers: %w", err)
	}
	return s, nil
}

// Close ends a stream made by Take by closing its connection; for one made
// by Open it does nothing (the handler's return ends the response).
func (s *Stream) Close() error {
	if s.conn == nil {
		return nil
	}
	return s.conn.Close()
}

// Send writes events and flushes them in one go.
func (s *Stream) Send(events ...Event) error {
	return s.write(s.frame(events))
}

// Comment writes a comment line, which clients ignore; it keeps idle
// connections alive through proxies with read timeouts.
func (s *Stream) Comment(text string) error {
	return s.write(append(append(s.buf[:0], ": "...), sanitizeField(text)+"\n\n"...))
}

func (s *Stream) write(b []byte) error {
	d := s.WriteTimeout
	if d <= 0 {
		d = DefaultWriteTimeout
	}
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
// there, with the write deadline). Streams made by Open, and connections
// that expose no file descriptor (TLS), always return false.
//
// It saves a fan-out to many streams a goroutine switch per stream: the
// goroutine that published the events writes them.
func (s *Stream) TrySend(src Source) bool {
	if s.raw == nil || !s.mu.TryLock() {
		return false
	}
	defer s.mu.Unlock()
	if !s.serving || s.pending != nil {
		return false
	}
	b := s.frame(src.Next())
	if len(b) == 0 {
		return true
	}
	n, err := s.now.writeNow(b)
	s.lastTry.Store(time.Now().UnixNano())
	if n == len(b) && err == nil {
		return true
	}
	// Serve's goroutine writes the rest, or meets the same error and ends
	// the stream; the client then resumes from the log.
	s.pending = append([]byte(nil), b[n:]...)
	return false
}

// frame writes events into the stream's buffer.
func (s *Stream) frame(events []Event) []byte {
	b := s.buf[:0]
	for _, e := range events {
		b = e.appendTo(b)
	}
	if cap(b) > 4<<10 {
		s.buf = nil // an idle stream should not keep a large render's buffer
	} else {
		s.buf = b
	}
	return b
}
