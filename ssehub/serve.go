package ssehub

import (
	"context"
	"time"
)

// DefaultHeartbeat is how often an idle stream gets a comment line. It is
// well under the 60 s idle timeout common to proxies and load balancers.
const DefaultHeartbeat = 15 * time.Second

// Source supplies the events of one stream.
type Source interface {
	// Events returns what a reader that has seen everything up to seq must
	// receive next, oldest first: the events published since, or, when
	// those are no longer buffered, one snapshot event that replaces them
	// and carries the current head as its Seq. It returns nothing when the
	// reader is up to date.
	Events(seq uint64) []Event
	// Changed is signalled (without blocking the publisher) after events
	// are published. One pending signal suffices, so a channel with a
	// buffer of one is the usual implementation.
	Changed() <-chan struct{}
}

// Options tune Serve. The zero value is ready to use.
type Options struct {
	Heartbeat    time.Duration // DefaultHeartbeat when zero
	WriteTimeout time.Duration // DefaultWriteTimeout when zero
}

// Serve writes a comment, then src's events after seq, to s until ctx is done or a write
// fails, sending a heartbeat comment whenever the stream has been quiet for
// the heartbeat interval. It returns nil when ctx ends the stream and the
// write error otherwise.
func Serve(ctx context.Context, s *Stream, src Source, seq uint64, opt Options) error {
	hb := opt.Heartbeat
	if hb <= 0 {
		hb = DefaultHeartbeat
	}
	s.WriteTimeout = opt.WriteTimeout
	// A first comment tells the client the stream is live before any event
	// exists, and pushes the response through buffering intermediaries.
	if err := s.Comment("ok"); err != nil {
		return err
	}
	t := time.NewTimer(hb)
	defer t.Stop()
	for {
		if evs := src.Events(seq); len(evs) > 0 {
			if err := s.Send(evs...); err != nil {
				return err
			}
			seq = evs[len(evs)-1].Seq
			t.Reset(hb)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-src.Changed():
		case <-t.C:
			if err := s.Comment("hb"); err != nil {
				return err
			}
			t.Reset(hb)
		}
	}
}
