package lt

import (
	"context"
	"fmt"
)

// subscriber receives the messages of other instances for a Handler.
type subscriber struct{ h *Handler }

// Deliver applies a message from another instance. Anything can reach a
// broadcaster's channel, so every field is checked: a message for another
// page is ignored, one naming an unknown action or connection is logged
// and dropped, never applied.
func (s subscriber) Deliver(msg Message) {
	h, m := s.h, msg.m
	switch {
	case m.Page == "":
		// For every page that has the action (a SQL trigger that does not
		// know the pages): the others ignore it quietly.
		if _, err := h.ct.lookup(m.Action); err != nil && !m.Sync && !m.Close {
			return
		}
	case m.Page != h.name:
		return
	}
	switch {
	case m.Close && (m.Action != "" || (m.Kind != ToSession && m.Kind != ToUser && m.Kind != toConn)):
		h.log.Warn("lt: a close message must name a group, a user or a connection, and no action; dropped", "from", m.Instance)
	case m.Kind == ToSession || m.Kind == ToUser || m.Kind == ToAll:
		var span Span
		if h.tr != nil {
			_, span = h.tr.Start(h.tr.Extract(context.Background(), mapCarrier(m.Trace)), "lt.deliver",
				Attr{"livesse.page", h.name}, Attr{"livesse.action", m.Action}, Attr{"livesse.from", m.Instance})
		}
		err := h.applyLocal(m) // logged
		endSpan(span, err)
	case m.Kind == toConn && !m.Close && m.Action == paramsAction:
		h.deliverParams(m) // navigate.go
	case m.Kind == toConn && !m.Close:
		h.deliverToConn(m)
	case m.Kind == toConn:
		h.deliverLeave(m) // leave.go
	default:
		h.log.Warn("lt: message of unknown kind dropped", "from", m.Instance, "kind", m.Kind)
	}
}

// deliverToConn runs an action POST that reached another instance on the
// connection this instance holds, as if the tab had posted here.
func (h *Handler) deliverToConn(m message) {
	if ownerOf(m.Target) != h.opts.broadcaster.Instance() {
		return // for another instance
	}
	meth, err := h.ct.lookup(m.Action)
	switch {
	case err != nil:
	case m.Identity == nil || m.Request == nil:
		err = fmt.Errorf("%w: a forwarded action needs the requester and the request", ErrBadRequest)
	}
	if err != nil {
		h.log.Warn("lt: forwarded action dropped", "from", m.Instance, "action", clip(m.Action, maxShownName), "err", err)
		return
	}
	c, err := h.lookup(m.Target, *m.Identity)
	if err != nil {
		h.log.Warn("lt: forwarded action dropped", "from", m.Instance, "action", m.Action, "err", err)
		h.dropFreshFiles(m.Request.Form, m.Identity.SessionID) // upload_token.go
		return
	}
	req := m.Request.request(c)
	err = c.enqueue(func() {
		var span Span
		if h.tr != nil {
			// The action continues the trace of the POST on the instance
			// that forwarded it.
			c.trace, span = h.tr.Start(h.tr.Extract(req.Context(), mapCarrier(m.Trace)), "lt.action",
				Attr{"livesse.page", h.name}, Attr{"livesse.action", m.Action}, Attr{"livesse.conn", c.id})
		}
		_, _, err := c.act(meth, m.Action, formData(req.PostForm), req)
		c.trace = nil
		endSpan(span, err)
		if err != nil {
			h.dropFreshFiles(req.PostForm, m.Identity.SessionID)
		}
	})
	if err != nil && err != ErrClosed {
		h.log.Warn("lt: forwarded action not queued", "conn", c.id, "err", err)
	}
	if err != nil {
		h.dropFreshFiles(req.PostForm, m.Identity.SessionID)
	}
}

// Resync renders every connection of this instance afresh (after Mount, so
// that data the lost messages changed is read again) and sends it as a
// full render. Handler.Resyncing is true until they all have.
func (s subscriber) Resync() {
	for _, c := range s.h.all("") {
		c.enqueueResync() // if it cannot, the connection is ending, and its tab mounts afresh
	}
}

// enqueueResync queues a resync job, counted in Handler.resyncing until it
// runs or the connection ends.
func (c *conn) enqueueResync() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.queueLocked(job{f: c.resync}) == nil {
		c.resyncs++
		c.h.resyncing.Add(1)
		c.scheduleLocked()
	}
}

// Resyncing reports whether connections of this Handler are still being
// rendered afresh after its Broadcaster lost messages (a reconnect to
// the database): until they are, tabs may show what the lost messages
// changed, and a readiness probe should say the instance is not ready.
func (h *Handler) Resyncing() bool { return h.resyncing.Load() > 0 }

// resync is a job: Mount again, render, and publish a full render.
func (c *conn) resync() {
	defer func() {
		c.mu.Lock()
		if c.resyncs > 0 {
			c.resyncs--
			c.h.resyncing.Add(-1)
		}
		c.mu.Unlock()
	}()
	c.remount() // list.go
}
