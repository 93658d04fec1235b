// Package ssehub writes Server-Sent Events with net/http: open a stream on
// a response, send events and comments, or let Serve drive it from a
// Source with heartbeats and write timeouts; Log is a bounded replay
// buffer, so that a client that reconnects with Last-Event-ID gets what
// it missed. It is the transport package lt streams its pages with,
// offered on its own for apps that stream other data.
//
//	func events(w http.ResponseWriter, r *http.Request) {
//		s, err := ssehub.Open(w)
//		if err != nil {
//			http.Error(w, err.Error(), http.StatusInternalServerError)
//			return
//		}
//		defer s.Close()
//		_ = s.Send(ssehub.Event{Seq: 1, Type: "greeting", Data: []byte("hello")})
//	}
//
// ssehub knows nothing of templates. What lt does beyond this (taking a
// stream over from net/http, compression, writes from the publishing
// goroutine) is lt's own and not part of this package.
package ssehub

import (
	"context"
	"net/http"

	"github.com/livesse/livesse/internal/sse"
)

// Event is one Server-Sent Event. Seq becomes its "id:" field (unless
// NoID), Type its "event:" field, Data its "data:" lines, and Retry, when
// positive, a "retry:" field.
type Event = sse.Event

// Source supplies the events Serve writes to one stream.
type Source = sse.Source

// Options tune Serve. The zero value is ready to use.
type Options = sse.Options

// Defaults of Options.
const (
	DefaultHeartbeat    = sse.DefaultHeartbeat
	DefaultWriteTimeout = sse.DefaultWriteTimeout
)

// Errors of Open and Serve.
var (
	// ErrStreamingUnsupported is returned by Open when the ResponseWriter
	// cannot flush: usually a middleware wrapped it without an Unwrap
	// method; mount the stream outside such middleware.
	ErrStreamingUnsupported = sse.ErrStreamingUnsupported
	// ErrUnsupportedEncoding is returned by Open for a Content-Encoding
	// other than gzip.
	ErrUnsupportedEncoding = sse.ErrUnsupportedEncoding
	// ErrClientGone is returned by Serve when the client closed the
	// connection.
	ErrClientGone = sse.ErrClientGone
)

// Stream writes Server-Sent Events to one HTTP response. It is for one
// goroutine at a time: the handler's, or Serve's while it runs.
type Stream struct{ s *sse.Stream }

// Open starts an event stream on w: it writes the headers that keep
// proxies from buffering or transforming the stream and flushes them at
// once, and it lifts the server's WriteTimeout for this response (each
// write gets its own deadline, DefaultWriteTimeout). It returns
// ErrStreamingUnsupported if w cannot flush.
//
// A caller that set "Content-Encoding: gzip" on w's header (for a request
// whose Accept-Encoding allows it) gets a gzipped body, every write
// compressed with what the stream wrote before as context and flushed
// whole, so that each event still reaches the client at once; any other
// Content-Encoding is ErrUnsupportedEncoding.
func Open(w http.ResponseWriter) (*Stream, error) {
	s, err := sse.Open(w)
	if err != nil {
		return nil, err
	}
	return &Stream{s}, nil
}

// Send writes events and flushes them. An error means the client is gone
// or too slow (a write took longer than the write timeout): stop sending.
func (s *Stream) Send(events ...Event) error { return s.s.Send(events...) }

// Comment writes a comment line (": text"), which clients ignore: a
// heartbeat that keeps proxies from closing an idle stream.
func (s *Stream) Comment(text string) error { return s.s.Comment(text) }

// Sent reports how many events and bytes the stream has written.
func (s *Stream) Sent() (events, bytes int64) { return s.s.Sent() }

// Close does nothing today and returns nil: the response ends when the
// handler returns. Call it anyway (defer), as the stream may hold
// resources in a later version.
func (s *Stream) Close() error { return s.s.Close() }

// Serve writes a first heartbeat, then src's events, to s until ctx is
// done or a write fails, sending a heartbeat whenever the stream has been
// quiet for the heartbeat interval. It returns nil when ctx ends the
// stream and the write error otherwise (ErrClientGone when the client
// left).
func Serve(ctx context.Context, s *Stream, src Source, opt Options) error {
	return sse.Serve(ctx, s.s, src, opt)
}

// Log is a sequence-numbered, bounded buffer of the recent events of one
// stream: appending never blocks, and a reader that reconnects with the
// id of the last event it saw gets what followed, unless the log no
// longer reaches that far back; then it must start again from a snapshot.
// The zero Log keeps the last 64 events and at most 64 KiB (the newest
// event always, even if larger). A Log is not safe for concurrent use.
type Log struct{ l sse.Log }

// NewLog returns a Log that keeps at most maxEvents events and maxBytes
// bytes of them as written on a stream (the newest always); zero or less
// means the default (64 events, 64 KiB).
func NewLog(maxEvents, maxBytes int) *Log {
	return &Log{l: sse.Log{MaxEvents: maxEvents, MaxBytes: maxBytes}}
}

// Append assigns the next sequence number to e, keeps its Type and Data,
// and returns the number; the oldest events are dropped to stay within
// the bounds.
func (l *Log) Append(e Event) uint64 { return l.l.Append(e) }

// AppendSince appends to dst the events after seq, oldest first, and
// returns the extended slice. ok is false, and dst is returned as it was,
// when the reader cannot be caught up from the log (events after seq were
// dropped, or seq is ahead of it): it must start again from a snapshot.
func (l *Log) AppendSince(dst []Event, seq uint64) (events []Event, ok bool) {
	return l.l.AppendSince(dst, seq)
}

// Head is the sequence number of the newest event, 0 before the first.
func (l *Log) Head() uint64 { return l.l.Head() }
