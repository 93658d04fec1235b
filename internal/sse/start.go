package sse

import (
	"context"
	"sync/atomic"
	"time"
)

// started is what a stream served by Start keeps in place of Serve's
// goroutine: a timer for its heartbeats and the state of the writer
// goroutine it starts when the socket does not take an event at once.
type started struct {
	src   Source
	opt   Options
	hb    time.Duration
	timer *time.Timer // the next heartbeat; made under s.mu
	done  func(error)
	ended atomic.Bool
	live  bool // Start succeeded; under s.mu
	// cancel ends Serve's context, where Start runs Serve (no descriptor
	// TrySend can write to).
	cancel context.CancelFunc
	// writer is 0 with no writer goroutine, 1 while one runs, 2 when it
	// was woken again meanwhile (it then goes round once more).
	writer atomic.Int32
}

// Start serves s as Serve does, but without a goroutine of its own: it
// writes the first heartbeat and src's first events from the caller's
// goroutine and returns. Afterwards the events are written by the
// goroutines that publish them, through TrySend (which then always
// reports them handled); what a socket does not take at once, and the
// heartbeats, are written by a goroutine started for the purpose, which
// ends when it has written them. An idle stream then holds a timer and
// its buffers but no goroutine and no stack, and no context: the way to
// serve many streams that are mostly idle.
//
// done is called once, from another goroutine, when the stream has ended:
// with nil when Stop ended it, else with the write's error (ErrClientGone
// when a heartbeat found the client gone). The caller must then Close s.
// When Start returns an error (the first writes failed) the stream never
// started and done is not called.
//
// Start is for streams made by Take; on a connection TrySend cannot write
// to (TLS), it runs Serve in a goroutine, which calls done when it
// returns.
func Start(s *Stream, src Source, opt Options, done func(error)) error {
	hb := opt.Heartbeat
	if hb <= 0 {
		hb = DefaultHeartbeat
	}
	st := &started{src: src, opt: opt, hb: hb, done: done}
	if !s.canTry {
		var ctx context.Context
		ctx, st.cancel = context.WithCancel(context.Background())
		s.started.Store(st) // for Stop; TrySend declines without canTry
		go func() { done(Serve(ctx, s, src, opt)) }()
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.WriteTimeout = opt.WriteTimeout
	s.written = opt.Written
	// Set before the first writes: a TrySend that finds them holding the
	// stream wakes a writer, which writes after them.
	s.started.Store(st)
	if err := s.heartbeat(opt, hb, "ok"); err != nil {
		return err
	}
	if _, err := s.sendPending(src); err != nil {
		return err
	}
	s.lastTry.Store(time.Now().UnixNano())
	s.serving, st.live = true, true
	// Made under s.mu, which finish takes before it stops it.
	st.timer = time.AfterFunc(hb, s.beatStarted)
	return nil
}

// Stop ends a stream served by Start: no more writes or heartbeats, and
// its done is called with nil, from another goroutine, so that Stop may
// be called with locks held that done takes. It may be called more than
// once, from any goroutine, at any time: before Start (it then does
// nothing, so a caller that may stop a stream before Start checks again
// after it) or after the stream ended (nothing).
func (s *Stream) Stop() {
	st := s.started.Load()
	switch {
	case st == nil:
	case st.cancel != nil:
		st.cancel() // Serve's goroutine calls done
	default:
		// In a goroutine of its own, as context.AfterFunc would: the
		// caller may hold locks that done takes.
		go s.finish(nil)
	}
}

// wakeStarted has the writer goroutine of a stream served by Start write
// src's events, starting it if none runs, and reports whether the stream
// is served by Start (for Serve, the caller signals instead).
func (s *Stream) wakeStarted() bool {
	st := s.started.Load()
	if st == nil {
		return false
	}
	for {
		switch w := st.writer.Load(); w {
		case 0:
			if st.writer.CompareAndSwap(0, 1) {
				go s.writeStarted(st)
				return true
			}
		case 1:
			if st.writer.CompareAndSwap(1, 2) {
				return true
			}
		default:
			return true // woken already: it goes round again
		}
	}
}

// writeStarted is the writer goroutine: it writes what TrySend left and
// src's events, with the write deadline, until nothing is left and no one
// woke it meanwhile.
func (s *Stream) writeStarted(st *started) {
	for {
		st.writer.Store(1) // the wakes so far are served by this round
		s.mu.Lock()
		if !s.serving {
			s.mu.Unlock()
			st.writer.Store(0)
			return
		}
		sent, err := s.sendPending(st.src)
		if sent {
			s.lastTry.Store(time.Now().UnixNano())
		}
		s.mu.Unlock()
		if err != nil {
			st.writer.Store(0)
			s.finish(err)
			return
		}
		if st.writer.CompareAndSwap(1, 0) {
			return
		}
	}
}

// beatStarted is the heartbeat timer's function: a heartbeat if the
// stream has been quiet for the interval, unless its client is gone.
func (s *Stream) beatStarted() {
	st := s.started.Load()
	if st.ended.Load() {
		return // a Reset raced with finish's Stop
	}
	if quiet := time.Since(time.Unix(0, s.lastTry.Load())); quiet < st.hb {
		st.timer.Reset(st.hb - quiet)
		return
	}
	if s.socket != nil && peerClosed(s.socket) {
		s.finish(ErrClientGone)
		return
	}
	s.mu.Lock()
	if !s.serving {
		s.mu.Unlock()
		return
	}
	err := s.heartbeat(st.opt, st.hb, "hb")
	if err == nil {
		s.lastTry.Store(time.Now().UnixNano())
	}
	s.mu.Unlock()
	if err != nil {
		s.finish(err)
		return
	}
	st.timer.Reset(st.hb)
}

// finish ends a stream served by Start, once: no more writes, no more
// heartbeats, and done is told why. err is nil when Stop ended it.
func (s *Stream) finish(err error) {
	st := s.started.Load()
	if !st.ended.CompareAndSwap(false, true) {
		return
	}
	s.mu.Lock() // Start set started under it: this waits for Start's end
	if !st.live {
		s.mu.Unlock() // Start failed, and its caller ends the stream
		return
	}
	s.serving = false
	if err == nil {
		s.endBody()
	}
	s.mu.Unlock()
	st.timer.Stop()
	st.done(err)
}
