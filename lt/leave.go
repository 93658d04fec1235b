package lt

import (
	"errors"
	"fmt"
	"net/http"
)

// fieldLeave names the connection of a tab that is going away: the
// client sends it with navigator.sendBeacon on pagehide (the tab is closed,
// reloaded or navigated away from), as a form POST to the page.
const fieldLeave = "_lt_leave"

// serveLeave ends, at once, the connection a leaving tab names, if it is
// the requester's: its context is cancelled and OnDisconnect runs, as at
// the end of the reconnect grace, which a tab that said it left does not
// need. A stream that carries other tabs too (a shared stream) goes on for
// them. The answer is 204; a connection of another session is refused
// with 403 and one that is unknown (ended already) with 410, as for an
// action; one that another instance holds is ended there (202).
// A POST that names _lt_leave runs no action.
func (h *Handler) serveLeave(w http.ResponseWriter, r *http.Request, id Identity, connID string) {
	c, err := h.lookup(connID, id)
	switch {
	case errors.Is(err, ErrForeignConnection):
		h.refuse(w, r, http.StatusForbidden, err, true)
		return
	case err != nil && h.forwards(connID):
		// Held by another instance: it checks the requester there, as for
		// a forwarded action.
		m := message{Kind: toConn, Target: connID, To: ownerOf(connID), Close: true, Identity: &id}
		if err := h.publish(r.Context(), m); err != nil {
			h.refuse(w, r, http.StatusGone, fmt.Errorf("%w: no live instance holds it: %v", ErrUnknownConnection, err), true)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		return
	case err != nil:
		h.refuse(w, r, http.StatusGone, err, true)
		return
	}
	h.leave(c)
	h.log.Debug("lt: tab left", append(requestAttrs(r), "conn", connID, "path", clip(r.URL.Path, maxLoggedPath))...)
	w.WriteHeader(http.StatusNoContent)
}

// leave ends c at once, off its stream first, so that ending the
// connection does not end a stream that other tabs share; the tab closed
// its own.
func (h *Handler) leave(c *conn) {
	c.mu.Lock()
	c.stream = nil
	c.mu.Unlock()
	h.closeConn(c)
}

// deliverLeave ends the connection a tab that left names, when another
// instance received its beacon: if this instance holds it and the
// requester owns it.
func (h *Handler) deliverLeave(m message) {
	if ownerOf(m.Target) != h.opts.broadcaster.Instance() {
		return // for another instance
	}
	if m.Identity == nil || m.Action != "" {
		h.log.Warn("lt: forwarded leave dropped", "from", m.Instance, "err", "a leave names the requester and no action")
		return
	}
	c, err := h.lookup(m.Target, *m.Identity)
	if err != nil {
		h.log.Warn("lt: forwarded leave dropped", "from", m.Instance, "err", err)
		return
	}
	h.leave(c)
	h.log.Debug("lt: tab left", "conn", c.id, "from", m.Instance)
}
