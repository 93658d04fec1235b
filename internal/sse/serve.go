package sse

import (
	"context"
	"errors"
	"strconv"
	"time"
)

// DefaultHeartbeat is how often an idle stream gets a comment line. It is
// well under the 60 s idle timeout common to proxies and load balancers.
const DefaultHeartbeat = 15 * time.Second

// ErrClientGone is returned by Serve for a stream made by Take when it
// finds, at a heartbeat, that the client closed the connection.
var ErrClientGone = errors.New("ssehub: the client closed the connection")

// Source supplies the events of one stream. It keeps track of what it has
// handed out, so that one stream can carry several sequences (the
// connections of several tabs).
type Source interface {
	// Next returns what the stream must send next, oldest first: the
	// events published since the last call or, for a reader that cannot
	// be caught up from a buffer, a snapshot that replaces them. It returns
	// nothing when the reader is up to date. Calls come one at a time, and
	// the stream is done with the returned slice before the next call, so
	// an implementation may reuse it.
	Next() []Event
	// Changed is signalled (without blocking the publisher) after events
	// are published. One pending signal suffices, so a channel with a
	// buffer of one is the usual implementation.
	Changed() <-chan struct{}
}

// Options tune Serve. The zero value is ready to use.
type Options struct {
	Heartbeat    time.Duration // DefaultHeartbeat when zero
	WriteTimeout time.Duration // DefaultWriteTimeout when zero
	// HeartbeatEvent, when set, makes heartbeats events of this type
	// (without an id, data: the interval in milliseconds, then a space and
	// Retry in milliseconds when Retry is set) instead of comments:
	// browsers hide comments from scripts, so a client that wants to
	// notice a silently dead stream needs to see its heartbeats.
	HeartbeatEvent string
	// Retry, when positive, is sent as the retry: field (the time clients
	// should wait before reconnecting) with every heartbeat. EventSource
	// applies it without showing it to scripts, so a client that runs its
	// own reconnects reads it from the heartbeat event's data.
	Retry time.Duration
	// Written, when set, is told what each write put on the stream: the
	// number of events (0 for the rest of a partial write) and bytes (on
	// the wire: compressed, for a gzipped stream), and whether it was a
	// heartbeat. It is called from the writing goroutine
	// (Serve's, or a TrySend caller's), so it must be cheap and must not
	// block.
	Written func(events, bytes int, heartbeat bool)
}

// Serve writes a first heartbeat, then src's events, to s until ctx is done
// or a write fails, sending a heartbeat whenever the stream has been quiet
// for the heartbeat interval. It returns nil when ctx ends the stream and
// the write error otherwise. While it runs, other goroutines may deliver
// src's events themselves with s.TrySend.
func Serve(ctx context.Context, s *Stream, src Source, opt Options) error {
	hb := opt.Heartbeat
	if hb <= 0 {
		hb = DefaultHeartbeat
	}
	s.mu.Lock()
	defer func() {
		s.mu.Lock()
		s.serving = false
		if ctx.Err() != nil {
			s.endBody()
		}
		s.mu.Unlock()
	}()
	s.WriteTimeout = opt.WriteTimeout
	s.written = opt.Written
	beat := func(text string) error { return s.heartbeat(opt, hb, text) }
	// A first heartbeat tells the client the stream is live before any
	// event exists, and pushes the response through buffering proxies.
	err := beat("ok")
	s.serving = err == nil
	s.mu.Unlock()
	if err != nil {
		return err
	}
	t := time.NewTimer(hb)
	defer t.Stop()
	for {
		s.mu.Lock()
		sent, err := s.sendPending(src)
		s.mu.Unlock()
		if err != nil {
			return err
		}
		if sent {
			t.Reset(hb)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-src.Changed():
		case <-t.C:
			// TrySend's writes count as traffic too.
			if quiet := time.Since(time.Unix(0, s.lastTry.Load())); quiet < hb {
				t.Reset(hb - quiet)
				continue
			}
			if s.socket != nil && peerClosed(s.socket) {
				return ErrClientGone
			}
			s.mu.Lock()
			err := beat("hb")
			s.mu.Unlock()
			if err != nil {
				return err
			}
			t.Reset(hb)
		}
	}
}

// heartbeat writes one heartbeat of interval hb as opt says. s.mu is
// held.
func (s *Stream) heartbeat(opt Options, hb time.Duration, text string) error {
	var b []byte
	switch {
	case opt.HeartbeatEvent != "":
		data := strconv.AppendInt(nil, hb.Milliseconds(), 10)
		if opt.Retry > 0 {
			data = strconv.AppendInt(append(data, ' '), opt.Retry.Milliseconds(), 10)
		}
		b = s.frame([]Event{{NoID: true, Type: opt.HeartbeatEvent, Data: data, Retry: opt.Retry}})
	case opt.Retry > 0:
		b = Event{NoID: true, Retry: opt.Retry}.appendComment(s.buf[:0], text)
	default:
		b = append(append(s.buf[:0], ": "...), sanitizeField(text)+"\n\n"...)
	}
	n, err := s.write(b)
	return s.count(err, 1, n, true)
}

// sendPending writes what TrySend left over, then src's next events. s.mu
// is held.
func (s *Stream) sendPending(src Source) (sent bool, err error) {
	if p := s.pending; p != nil {
		s.pending = nil // encoded already
		if err := s.count(s.writeWire(p), 0, len(p), false); err != nil {
			return false, err
		}
		sent = true
	}
	if evs := src.Next(); len(evs) > 0 {
		n, err := s.write(s.frame(evs))
		if err := s.count(err, len(evs), n, false); err != nil {
			return false, err
		}
		sent = true
	}
	return sent, nil
}

// endTimeout bounds the write of a gzipped body's end: a client whose
// socket cannot take ten bytes at once is stalled or gone, and a stream
// that is ending must not wait for it.
const endTimeout = 100 * time.Millisecond

// endBody ends a gzipped body (a final block and gzip's trailer), so
// that a client that reads it to its end finds it whole; a write that
// fails is left, as the stream ends anyway. s.mu is held.
func (s *Stream) endBody() {
	if s.gz == nil || s.pending != nil {
		return
	}
	if b := s.gz.end(nil); len(b) > 0 {
		_ = s.writeWithin(b, endTimeout)
	}
}

// count tells Options.Written about a write that returned err.
func (s *Stream) count(err error, events, bytes int, heartbeat bool) error {
	if err == nil {
		s.sentEvents += int64(events)
		s.sentBytes += int64(bytes)
		if s.written != nil {
			s.written(events, bytes, heartbeat)
		}
	}
	return err
}

// Sent returns what Serve and TrySend have written to the stream: events
// (heartbeats included) and bytes, for a request log.
func (s *Stream) Sent() (events, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sentEvents, s.sentBytes
}
