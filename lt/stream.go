package lt

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/livesse/livesse/internal/sse"
)

// maxStreamConns bounds the connections one stream carries: the tabs of a
// browser on one page share a stream.
const maxStreamConns = 64

// stream is one event-stream response. It carries the events of one or
// more connections: all tabs of a browser on a page share one, since a
// browser opens at most six HTTP/1.1 connections per origin.
type stream struct {
	// What a fan-out's delivery touches comes first, together.
	st       atomic.Pointer[sse.Stream] // set while it is served
	members  []*attachment
	scratch  []sse.Event // Next's result, reused
	messages []byte      // the Data of Next's result, where next wrote it, reused
	// The first arrays of members and scratch, which are all most streams
	// need: a fan-out then touches two objects less per stream.
	member0  [1]*attachment
	scratch0 [1]sse.Event

	changed chan struct{}
	// ended says the stream must end (cancel). What serves it learns it
	// from st (sse's Stop, for a taken stream: no context per stream) or,
	// for a stream kept in its handler, from the context Serve watches,
	// which inHandler cancels.
	ended     atomic.Bool
	inHandler atomic.Pointer[context.CancelFunc]
	of        *set // where it counts for WithClientLimits, under the Handler's mu
	tabs      int  // its members, once counted in PageMetrics.Streams
}

// deliver sends the members' new events: at once from the caller's
// goroutine when the socket takes them without blocking, else through
// the stream's own goroutine.
func (s *stream) deliver() {
	if st := s.st.Load(); st != nil && st.TrySend(s) {
		return
	}
	s.signal()
}

func (s *stream) signal() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// Next implements sse.Source. The slice it returns, and the data of
// the updates in it, are reused by the next call, which ssehub makes only
// after it has written these events.
func (s *stream) Next() []sse.Event {
	evs, buf := s.scratch[:0], s.messages[:0]
	for _, a := range s.members {
		evs, buf = a.next(evs, buf)
	}
	clear(evs[len(evs):cap(evs)]) // drop what earlier calls held
	s.scratch, s.messages = evs, buf
	if cap(evs) > 64 {
		s.scratch = s.scratch0[:0] // a burst should not stay allocated on an idle stream
	}
	if cap(buf) > 512 {
		s.messages = nil
	}
	for _, e := range evs {
		if len(e.Data) > maxKeptEvent {
			// A full render is as big as the page, and the stream would
			// hold it until its next event: an idle stream would keep
			// a page's worth of JSON (issue 16). Such events go out in
			// a slice of their own, which ssehub drops once written.
			out := slices.Clone(evs)
			clear(evs)
			s.scratch = evs[:0]
			return out
		}
	}
	return evs
}

// maxKeptEvent is the largest event data the stream's reused slice of
// events holds on to once written: an update, a small page's render.
const maxKeptEvent = 4096

// Changed implements sse.Source.
func (s *stream) Changed() <-chan struct{} { return s.changed }

// serveStream attaches an event stream to the connections the client
// names: _lt_conn, repeated for the tabs that share the stream, each with
// the last sequence number it applied in _lt_seq at the same position
// (empty, or absent, for a tab that needs a full render; a lone connection
// may use the standard Last-Event-ID header instead). A name that is
// empty, unknown (expired, or a restarted server) or of another session
// gets a fresh connection of its own and a full render naming the id it
// replaces: a connection is never attached to a stranger.
func (h *Handler) serveStream(w http.ResponseWriter, r *http.Request) {
	if err := h.origin.CheckStream(r); err != nil {
		h.refuse(w, r, http.StatusForbidden, fmt.Errorf("%w: %v", ErrCrossSite, err), false)
		return
	}
	id, fresh, err := h.identify(w, r)
	if err != nil {
		h.refuse(w, r, http.StatusUnauthorized, err, false)
		return
	}
	q := r.URL.Query()
	ids, seqs := q["_lt_conn"], q["_lt_seq"]
	switch {
	case len(ids) > maxStreamConns:
		h.refuse(w, r, http.StatusBadRequest, fmt.Errorf("%w: %d connections on one stream, limit %d", ErrBadRequest, len(ids), maxStreamConns), false)
		return
	case len(ids) > h.opts.clientConns:
		// More tabs than the client may have: refused before any is made.
		w.Header().Set("Retry-After", "5")
		h.refuse(w, r, http.StatusTooManyRequests, fmt.Errorf("%w: a stream names %d tabs, over the %d a client may have on the page (WithClientLimits)",
			ErrTooManyConnections, len(ids), h.opts.clientConns), false)
		return
	case fresh && len(ids) > 1:
		// A session this response starts has no connection here, so
		// every tab named would be a new one: a client that drops its
		// cookie each time could hold 64 per socket. The client
		// reconnects, with the cookie, after Retry-After.
		w.Header().Set("Retry-After", "1")
		h.refuse(w, r, http.StatusTooManyRequests, fmt.Errorf("%w: a new session opens one connection per stream; reconnect with its cookie", ErrTooManyConnections), false)
		return
	}
	if len(ids) == 0 {
		ids = []string{""}
	}
	if len(ids) == 1 && len(seqs) == 0 && r.Header.Get("Last-Event-ID") != "" {
		seqs = []string{r.Header.Get("Last-Event-ID")}
	}
	s := &stream{changed: make(chan struct{}, 1)}
	s.members, s.scratch = s.member0[:0], s.scratch0[:0]
	if !h.openStream(s) {
		s.cancel()
		w.Header().Set("Retry-After", "5")
		h.refuse(w, r, http.StatusServiceUnavailable, fmt.Errorf("%w: too many open streams (limit %d); retry later", ErrTooManyConnections, h.opts.maxStreams), false)
		return
	}
	detached := false
	defer func() {
		if !detached {
			s.end(h)
		}
	}()
	for i, connID := range ids {
		seqText := ""
		if i < len(seqs) {
			seqText = seqs[i]
		}
		seq, seqErr := strconv.ParseUint(seqText, 10, 64)
		full := seqErr != nil
		var c *conn
		replaced := ""
		if connID != "" {
			c, err = h.lookup(connID, id)
			switch {
			case errors.Is(err, ErrForeignConnection):
				h.log.Warn("lt: stream refused a connection of another session; starting a fresh one",
					"path", clip(r.URL.Path, maxLoggedPath), "remote", r.RemoteAddr)
			case err != nil:
				h.log.Info("lt: stream for an unknown connection; starting a fresh one", "path", clip(r.URL.Path, maxLoggedPath))
			}
			if c == nil {
				replaced = connID
				h.m.Resumed(false) // a reconnect to a connection that is gone: a full render
			}
		}
		if c == nil {
			if c, _, err = h.newConn(r, id, false); err != nil {
				h.failMount(w, r, err)
				return
			}
			full = true
		}
		a, err := c.attach(s, seq, full, replaced)
		if err != nil {
			h.refuse(w, r, http.StatusServiceUnavailable, err, false)
			return
		}
		s.members = append(s.members, a)
	}
	h.mu.Lock()
	h.addStreamLocked(id, s) // ends the client's oldest stream over its limit
	h.mu.Unlock()
	s.tabs = len(s.members)
	h.m.Streams(1, s.tabs)
	if h.opts.gzip {
		w.Header().Add("Vary", "Accept-Encoding")
		if sse.AcceptsGzip(r) {
			w.Header().Set("Content-Encoding", "gzip") // ssehub compresses the stream
		}
	}
	if h.opts.hijack {
		st, err := sse.Take(w)
		switch {
		case err == nil:
			h.mu.Lock()
			if h.closed {
				h.mu.Unlock()
				st.Close()
				return
			}
			h.wg.Add(1) // before Close's wait, which follows setting closed
			stop := h.watch(st, s.cancel)
			h.mu.Unlock()
			detached = true
			h.start(s, st, stop, streamLog(r)) // r is not for after this handler returns
			return
		case !errors.Is(err, sse.ErrCannotTake):
			h.log.Error("lt: cannot take the connection for a stream", "path", clip(r.URL.Path, maxLoggedPath), "err", err)
			return
		}
		h.log.Debug("lt: stream stays in its handler", "path", clip(r.URL.Path, maxLoggedPath), "err", err)
	}
	st, err := sse.Open(w)
	if err != nil {
		h.log.Error("lt: cannot stream", "path", clip(r.URL.Path, maxLoggedPath), "err", err)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	s.inHandler.Store(&cancel)
	if s.ended.Load() { // cancel ran before it could see the context
		cancel()
	}
	h.serve(ctx, s, st, streamLog(r))
}

// serve writes the events of a stream kept in its handler until it ends.
func (h *Handler) serve(ctx context.Context, s *stream, st *sse.Stream, logAttrs []any) {
	start := time.Now()
	s.st.Store(st)
	defer s.st.Store(nil)
	err := sse.Serve(ctx, st, s, h.streamOptions())
	h.logStreamEnd(st, s, logAttrs, start, err)
}

// start serves a taken stream without a goroutine of its own
// (sse.Start): an idle stream then holds no stack, and its updates are
// written by the goroutines that publish them. What ends it (its context,
// a failed write, a client gone) stops the watch, closes the connection
// and releases the stream, once, then settles the Handler's WaitGroup,
// which the caller added to.
func (h *Handler) start(s *stream, st *sse.Stream, stopWatch func(), logAttrs []any) {
	start := time.Now()
	end := func(err error) {
		s.st.Store(nil)
		h.logStreamEnd(st, s, logAttrs, start, err)
		stopWatch()
		st.Close()
		s.end(h)
		h.wg.Done()
	}
	// Events published from here on reach the stream through TrySend;
	// those published before, Start's first write sends.
	s.st.Store(st)
	if err := sse.Start(st, s, h.streamOptions(), end); err != nil {
		end(err)
		return
	}
	if s.ended.Load() { // cancel ran before Start could be stopped
		st.Stop()
	}
}

// cancel ends the stream. It may be called from any goroutine, at any
// time (before the stream is served, too), more than once.
func (s *stream) cancel() {
	if s.ended.Swap(true) {
		return
	}
	if c := s.inHandler.Load(); c != nil {
		(*c)()
	}
	if st := s.st.Load(); st != nil {
		st.Stop()
	}
}

// streamOptions is how the Handler's streams are served.
func (h *Handler) streamOptions() sse.Options {
	opts := sse.Options{
		Heartbeat: h.opts.heartbeat, WriteTimeout: h.opts.writeTimeout, HeartbeatEvent: "hb", Retry: h.opts.retry,
	}
	if h.timed {
		opts.Written = h.written
	}
	return opts
}

// logStreamEnd writes the request log of a stream that ended with err:
// net/http's middleware saw a taken stream start, not end (chi's Logger
// writes "000 0B").
func (h *Handler) logStreamEnd(st *sse.Stream, s *stream, logAttrs []any, start time.Time, err error) {
	events, bytes := st.Sent()
	attrs := append(logAttrs, "status", http.StatusOK, "events", events, "bytes", bytes, "tabs", len(s.members),
		"duration", time.Since(start).Round(time.Millisecond))
	if err != nil {
		attrs = append(attrs, "err", err)
	}
	h.log.Info("lt: stream ended", attrs...)
}

// streamLog is what a stream's request log says of r: its path, the
// client's address and the request's id and first connection.
func streamLog(r *http.Request) []any {
	return append(requestAttrs(r), "path", clip(r.URL.Path, maxLoggedPath), "remote", r.RemoteAddr)
}

// end releases what a stream holds: it no longer counts against the
// limit, and its connections start their grace periods. It runs once per
// stream that openStream counted.
func (s *stream) end(h *Handler) {
	s.cancel()
	if s.tabs > 0 {
		h.m.Streams(-1, -s.tabs)
	}
	h.closeStream(s) // before the grace periods start, so OnDisconnect comes after
	for _, a := range s.members {
		a.c.detach(a)
	}
}

// Streams returns the number of event streams open now. One stream
// carries the tabs of one browser on the page, so it is also about the
// number of browsers live on it.
func (h *Handler) Streams() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.streams
}

// openStream counts s in, unless the limit is reached.
func (h *Handler) openStream(s *stream) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.opts.maxStreams > 0 && h.streams >= h.opts.maxStreams {
		return false
	}
	h.streams++
	return true
}

func (h *Handler) closeStream(s *stream) {
	h.mu.Lock()
	h.streams--
	h.removeStreamLocked(s)
	h.mu.Unlock()
}
