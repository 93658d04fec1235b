package lt

import (
	"errors"
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
// with 403 and one that is unknown (ended already, or held by another
// instance, where it ends after the grace) with 410, as for an action.
// A POST that names _lt_leave runs no action.
func (h *Handler) serveLeave(w http.ResponseWriter, r *http.Request, id Identity, connID string) {
	c, err := h.lookup(connID, id)
	switch {
	case errors.Is(err, ErrForeignConnection):
		h.refuse(w, r, http.StatusForbidden, err, true)
		return
	case err != nil:
		h.refuse(w, r, http.StatusGone, err, true)
		return
	}
	// Off its stream first, so that ending the connection does not end a
	// stream that other tabs share; the tab closed its own.
	c.mu.Lock()
	c.stream = nil
	c.mu.Unlock()
	h.closeConn(c)
	h.log.Debug("lt: tab left", append(requestAttrs(r), "conn", connID, "path", clip(r.URL.Path, maxLoggedPath))...)
	w.WriteHeader(http.StatusNoContent)
}
