package lt

import "fmt"

// maxPending bounds the rendered pages whose stream has not opened yet,
// whoever loaded them: a client that ignores cookies is a new session on
// every request, so the per-client limits cannot bound the pages it loads.
// Over it, the oldest such page loses its connection; if its stream opens
// later after all, the tab gets a fresh connection and a full render.
const maxPending = 10000 // Handler.maxPending, which tests lower

// errPageFull is ErrTooManyConnections for the page as a whole, not for
// one client: the answer is 503, not 429.
var errPageFull = fmt.Errorf("%w on the page", ErrTooManyConnections)

// clientKey names what the per-client limits count against: a signed-in
// user (all of their groups and devices), else a session group.
func clientKey(id Identity) string {
	if id.UserID != "" {
		return "u:" + id.UserID
	}
	return "g:" + id.GroupID
}

// admitLocked makes room for one more connection of id: over the client's
// limit it ends the client's own oldest connection that has no stream, and
// over WithMaxConnections the Handler's oldest one. When there is none to
// end it returns ErrTooManyConnections. h.mu is held.
func (h *Handler) admitLocked(id Identity) error {
	mine := h.groups[id.GroupID]
	if id.UserID != "" {
		mine = h.users[id.UserID]
	}
	if len(mine) >= h.opts.clientConns {
		var oldest *conn
		for c := range mine {
			if (oldest == nil || c.pos < oldest.pos) && c.idle() {
				oldest = c
			}
		}
		if oldest == nil {
			return fmt.Errorf("%w: this client has %d open tabs on the page, each with a stream (WithClientLimits)", ErrTooManyConnections, len(mine))
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

// addStreamLocked registers s as a stream of the client key and ends the
// client's oldest stream over WithClientLimits. h.mu is held.
func (h *Handler) addStreamLocked(key string, s *stream) {
	list := h.clientStreams[key]
	for len(list) >= h.opts.clientStreams {
		list[0].cancel()
		list = list[1:]
	}
	if h.clientStreams == nil {
		h.clientStreams = map[string][]*stream{}
	}
	h.clientStreams[key] = append(list, s)
}

// removeStreamLocked forgets s, if it is still registered. h.mu is held.
func (h *Handler) removeStreamLocked(key string, s *stream) {
	list := h.clientStreams[key]
	for i, x := range list {
		if x == s {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(h.clientStreams, key)
	} else {
		h.clientStreams[key] = list
	}
}
