package lt

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/livesse/livesse/ssehub"
)

// serveStream attaches an event stream to a connection. The client names
// its connection (_lt_conn) and the last sequence number it applied
// (_lt_seq, or the standard Last-Event-ID header). A stream that names no
// connection, an unknown one (expired, or a restarted server) or one of
// another session gets a fresh connection of its own and a full render:
// the named connection is never attached to a stranger.
func (h *Handler) serveStream(w http.ResponseWriter, r *http.Request) {
	id, err := h.identify(w, r)
	if err != nil {
		h.refuse(w, r, http.StatusUnauthorized, err, false)
		return
	}
	q := r.URL.Query()
	seqText := q.Get("_lt_seq")
	if seqText == "" {
		seqText = r.Header.Get("Last-Event-ID")
	}
	seq, seqErr := strconv.ParseUint(seqText, 10, 64)
	full := seqText == "" || seqErr != nil

	var c *conn
	if connID := q.Get("_lt_conn"); connID != "" {
		c, err = h.lookup(connID, id)
		switch {
		case errors.Is(err, ErrForeignConnection):
			h.log.Warn("lt: stream refused a connection of another session; starting a fresh one",
				"path", r.URL.Path, "remote", r.RemoteAddr)
		case err != nil:
			h.log.Info("lt: stream for an unknown connection; starting a fresh one", "path", r.URL.Path)
		}
	}
	if c == nil {
		if c, _, err = h.newConn(r, id); err != nil {
			h.failMount(w, r, err)
			return
		}
		full = true
	}
	a, err := c.attach(r.Context(), full)
	if err != nil {
		h.refuse(w, r, http.StatusServiceUnavailable, err, false)
		return
	}
	defer c.detach(a)
	st, err := ssehub.Open(w)
	if err != nil {
		h.log.Error("lt: cannot stream", "path", r.URL.Path, "err", err)
		return
	}
	err = ssehub.Serve(a.ctx, st, a, seq, ssehub.Options{Heartbeat: h.opts.heartbeat, WriteTimeout: h.opts.writeTimeout})
	if err != nil {
		h.log.Debug("lt: stream ended", "conn", c.id, "err", err)
	}
}
