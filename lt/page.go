package lt

import (
	"bytes"
	"errors"
	"html/template"
	"net/http"
	"strconv"

	"github.com/livesse/livesse/web"
)

// servePage renders the full page. It creates the connection the page's
// client will attach its stream to, so that the page and the stream share
// one state and sequence: what changes in between is replayed.
func (h *Handler) servePage(w http.ResponseWriter, r *http.Request) {
	h.warnMethodPattern(r)
	id, _, err := h.identify(w, r)
	if err != nil {
		h.refuse(w, r, http.StatusUnauthorized, err, false)
		return
	}
	c, p, err := h.newConn(r, id, true)
	if err != nil {
		h.failMount(w, r, err)
		return
	}
	h.clearFlash(w, r, id) // shown once, by this page
	// The page shows the state at sequence 0; anything published since is
	// replayed when the stream attaches with that number.
	h.writePage(w, http.StatusOK, p, c.id, 0)
}

// failMount answers a page request whose Mount failed: with the status the
// error asks for (an error with a StatusCode() int method), else 500, and
// the error's message for users (UserError), else the status's name, or
// for a server error a generic message with the reference of its log line.
func (h *Handler) failMount(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusInternalServerError
	var sc interface{ StatusCode() int }
	switch {
	case errors.Is(err, ErrClosed):
		status = http.StatusServiceUnavailable
	case errors.Is(err, errPageFull):
		status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "5")
	case errors.Is(err, ErrTooManyConnections):
		status = http.StatusTooManyRequests
		w.Header().Set("Retry-After", "5")
	case errors.As(err, &sc) && sc.StatusCode() >= 400 && sc.StatusCode() <= 599:
		status = sc.StatusCode()
	case userMessageOf(err):
		status = http.StatusBadRequest
	}
	reason := RefusedMount
	if ownError(err) {
		reason = refusal(status, err)
	}
	h.refuseAs(w, r, status, err, false, reason, "")
}

func userMessageOf(err error) bool {
	_, ok := userMessage(err)
	return ok
}

// writePage writes the document p with the client script that attaches to
// connection connID at seq (connID "" lets the stream create one).
func (h *Handler) writePage(w http.ResponseWriter, status int, p page, connID string, seq uint64) {
	var buf bytes.Buffer
	p.writeDocument(&buf, h.scriptTag(connID, seq))
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store") // it names a live connection
	hd.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (h *Handler) scriptTag(connID string, seq uint64) string {
	src := h.opts.clientURL
	if src == "" {
		// A query-only URL resolves against the page's own path, wherever
		// the handler is mounted and whatever prefix a proxy strips.
		src = "?_lt=client&v=" + web.Version()
	}
	return `<script src="` + template.HTMLEscapeString(src) + `" defer data-lt-conn="` +
		template.HTMLEscapeString(connID) + `" data-lt-seq="` + strconv.FormatUint(seq, 10) + `"></script>`
}
