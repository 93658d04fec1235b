package lt

import (
	"fmt"
	"slices"
)

// maxPending bounds the rendered pages whose stream has not opened yet,
// whoever loaded them: a client that ignores cookies is a new session on
// every request, so the per-client limits cannot bound the pages it loads.
// Over it, the oldest such page loses its connection; if its stream opens
// later after all, the tab gets a fresh connection and a full render.
const maxPending = 10000 // Handler.maxPending, which tests lower

// errPageFull is ErrTooManyConnections for the page as a whole, not for
// one client: the answer is 503, not 429.
var errPageFull = fmt.Errorf("%w on the page", ErrTooManyConnections)

// clientSet is the set the per-client limits count in for id: a
// signed-in user's (all of their sessions and devices), else its
// session's; nil while the client has no connection.
func (h *Handler) clientSet(id Identity) *set {
	if id.UserID != "" {
		return h.users[id.UserID]
	}
	return h.groups[id.SessionID]
}

// admitLocked makes room for one more connection of id: over the client's
// limit it ends the client's own oldest connection that has no stream, and
// over WithMaxConnections the Handler's oldest one. When there is none to
// end it returns ErrTooManyConnections. h.mu is held.
func (h *Handler) admitLocked(id Identity) error {
	if mine := h.clientSet(id); mine != nil && len(mine.conns) >= h.opts.clientConns {
		var oldest *conn
		for c := range mine.conns {
			if (oldest == nil || c.pos < oldest.pos) && c.idle() {
				oldest = c
			}
		}
		if oldest == nil {
			return fmt.Errorf("%w: this client has %d open tabs on the page, each with a stream (WithClientLimits)", ErrTooManyConnections, len(mine.conns))
		}
		h.closeConnLocked(oldest)
	}
	if h.opts.maxConns > 0 && len(h.conns) >= h.opts.maxConns {
		var oldest *conn
		for _, c := range h.order {
			if c != nil && c.idle() {
				oldest = c
				break
			}
		}
		if oldest == nil {
			return fmt.Errorf("%w: it holds %d, each with a stream (WithMaxConnections)", errPageFull, len(h.conns))
		}
		h.closeConnLocked(oldest)
	}
	return nil
}

// addPendingLocked records c, a rendered page's connection, as waiting for
// its stream, and ends the oldest waiting ones over maxPending. h.mu is
// held.
func (h *Handler) addPendingLocked(c *conn) {
	c.mu.Lock()
	c.pending = true
	c.mu.Unlock()
	h.npending.Add(1)
	h.pending = append(h.pending, c)
	for h.npending.Load() > int64(h.maxPending) && len(h.pending) > 0 {
		old := h.pending[0]
		h.pending[0] = nil
		h.pending = h.pending[1:]
		if old.isPending() {
			h.closeConnLocked(old)
		}
	}
	// Entries whose stream opened stay until they reach the front: drop
	// them all once they are most of the list.
	if len(h.pending) > 2*int(h.npending.Load())+64 {
		kept := h.pending[:0]
		for _, c := range h.pending {
			if c.isPending() {
				kept = append(kept, c)
			}
		}
		clear(h.pending[len(kept):])
		h.pending = kept
	}
}

// notPendingLocked counts c out of the waiting pages, once: its stream
// opened, or it ended. c.mu is held.
func (c *conn) notPendingLocked() {
	if c.pending {
		c.pending = false
		c.h.npending.Add(-1)
	}
}

// idle reports whether c has no stream: a page whose stream has not opened
// yet, or a tab between a lost stream and its reconnection.
func (c *conn) idle() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stream == nil && !c.closed
}

func (c *conn) isPending() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pending && !c.closed
}

// addStreamLocked counts s, whose connections are attached, among the
// streams of its client (id), ending the client's oldest streams over
// WithClientLimits. h.mu is held.
func (h *Handler) addStreamLocked(id Identity, s *stream) {
	mine := h.clientSet(id)
	if mine == nil {
		return // its connections ended already
	}
	for len(mine.streams) >= h.opts.clientStreams {
		mine.streams[0].cancel()
		mine.streams = mine.streams[1:]
	}
	mine.streams = append(mine.streams, s)
	s.of = mine
}

// removeStreamLocked forgets s, if it is still counted. h.mu is held.
func (h *Handler) removeStreamLocked(s *stream) {
	if mine := s.of; mine != nil {
		if i := slices.Index(mine.streams, s); i >= 0 {
			mine.streams = slices.Delete(mine.streams, i, i+1)
		}
		s.of = nil
	}
}
