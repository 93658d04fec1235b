package lt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Reserved form fields. The JavaScript client sends them; a plain form can
// too (a button name="_lt_action" value="save").
const (
	fieldConn   = "_lt_conn"
	fieldAction = "_lt_action"
)

// serveAction runs the action a POST names. With the JavaScript client
// (the form carries _lt_conn) it runs on that tab's live connection and
// answers with the update as JSON. Without it, as a plain HTML form post,
// it runs on the session group's last state and answers 303 to the page
// (post/redirect/get), or 422 with the page re-rendered to show the error.
func (h *Handler) serveAction(w http.ResponseWriter, r *http.Request) {
	asJSON := strings.Contains(r.Header.Get("Accept"), "application/json")
	if err := h.origin.Check(r); err != nil {
		h.refuse(w, r, http.StatusForbidden, err, asJSON)
		return
	}
	id, err := h.identify(w, r)
	if err != nil {
		h.refuse(w, r, http.StatusUnauthorized, err, asJSON)
		return
	}
	form, status, err := h.parseForm(w, r)
	if r.MultipartForm != nil {
		defer r.MultipartForm.RemoveAll()
	}
	if err != nil {
		h.refuse(w, r, status, err, asJSON)
		return
	}
	connID := form.Get(fieldConn)
	asJSON = asJSON || connID != ""
	name, err := h.resolveAction(form)
	if err != nil {
		h.refuse(w, r, http.StatusBadRequest, err, asJSON)
		return
	}
	if _, err := h.ct.lookup(name); err != nil {
		h.refuse(w, r, http.StatusBadRequest, err, asJSON)
		return
	}
	data := formData(form)
	if connID != "" {
		h.liveAction(w, r, id, connID, name, data)
	} else {
		h.plainAction(w, r, id, name, data)
	}
}

// parseForm reads a form-encoded or multipart body within the size and
// field-count limits.
func (h *Handler) parseForm(w http.ResponseWriter, r *http.Request) (url.Values, int, error) {
	r.Body = http.MaxBytesReader(w, r.Body, h.opts.maxBody)
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case err != nil && r.Header.Get("Content-Type") != "":
		return nil, http.StatusUnsupportedMediaType, fmt.Errorf("%w: Content-Type: %v", ErrBadRequest, err)
	case ct == "multipart/form-data":
		err = r.ParseMultipartForm(h.opts.maxBody)
	case ct == "application/x-www-form-urlencoded" || ct == "":
		err = r.ParseForm()
	default:
		return nil, http.StatusUnsupportedMediaType,
			fmt.Errorf("%w: Content-Type %q; send a form (application/x-www-form-urlencoded or multipart/form-data)", ErrBadRequest, ct)
	}
	if err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("%w: body over %d bytes", ErrBadRequest, mbe.Limit)
		}
		return nil, http.StatusBadRequest, fmt.Errorf("%w: malformed form body: %v", ErrBadRequest, err)
	}
	n := 0
	for _, vs := range r.PostForm {
		n += len(vs)
	}
	if r.MultipartForm != nil {
		for _, fs := range r.MultipartForm.File {
			n += len(fs)
		}
	}
	if n > h.opts.maxFields {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("%w: %d form fields, limit %d", ErrBadRequest, n, h.opts.maxFields)
	}
	return r.PostForm, 0, nil
}

// resolveAction finds the action a form names: _lt_action, else the one
// field whose name is an action (the submit button's name, as a plain
// <button name="increment"> sends it).
func (h *Handler) resolveAction(form url.Values) (string, error) {
	if a := form.Get(fieldAction); a != "" {
		return a, nil
	}
	var found []string
	for k := range form {
		if _, ok := h.ct.actions[normalize(k)]; ok && !strings.HasPrefix(k, "_lt_") {
			found = append(found, k)
		}
	}
	slices.Sort(found)
	switch len(found) {
	case 0:
		return "", fmt.Errorf("%w: the form names no action (actions: %s); give the submit button name=\"<action>\" or send %s",
			ErrUnknownAction, h.ct.describe(), fieldAction)
	case 1:
		return found[0], nil
	default:
		return "", fmt.Errorf("%w: the form names several actions (%s); send %s to choose one",
			ErrBadRequest, strings.Join(found, ", "), fieldAction)
	}
}

// formData turns form values into action data: one value as a string,
// several as a []string; reserved fields are left out.
func formData(form url.Values) map[string]any {
	data := make(map[string]any, len(form))
	for k, vs := range form {
		switch {
		case strings.HasPrefix(k, "_lt_"):
		case len(vs) == 1:
			data[k] = vs[0]
		default:
			data[k] = slices.Clone(vs)
		}
	}
	return data
}

// liveAction runs the action on the tab's connection and answers with the
// update it produced (or, when nothing changed, with the sequence number).
func (h *Handler) liveAction(w http.ResponseWriter, r *http.Request, id Identity, connID, name string, data map[string]any) {
	c, err := h.lookup(connID, id)
	switch {
	case errors.Is(err, ErrForeignConnection):
		h.refuse(w, r, http.StatusForbidden, err, true)
		return
	case err != nil && h.forward(connID, id, name, data):
		// Another instance holds the tab's stream; the update reaches the
		// tab there.
		var b bytes.Buffer
		b.WriteString(`{"c":`)
		writeJSONString(&b, connID)
		b.WriteString(`,"forwarded":true}`)
		writeJSON(w, http.StatusAccepted, b.Bytes())
		return
	case err != nil:
		h.refuse(w, r, http.StatusGone, err, true)
		return
	}
	m, _ := h.ct.lookup(name) // checked by the caller
	var actErr error
	var resp []byte
	err = c.do(r.Context(), func() {
		pub, aerr := c.act(m, name, data, r)
		actErr = aerr
		msg := ""
		if actErr != nil {
			msg = actErr.Error()
		}
		resp = c.response(pub, msg)
	})
	switch {
	case errors.Is(err, ErrClosed):
		h.refuse(w, r, http.StatusGone, err, true)
		return
	case errors.Is(err, ErrQueueFull):
		h.refuse(w, r, http.StatusServiceUnavailable, err, true)
		return
	case err != nil:
		return // the client went away; the action still runs in order
	}
	status := http.StatusOK
	if actErr != nil {
		status = http.StatusUnprocessableEntity
	}
	writeJSON(w, status, resp)
}

// forward sends an action for a connection held by another instance to
// that instance, which checks the requester owns it. It reports whether
// the connection id names another instance and the message went out.
func (h *Handler) forward(connID string, id Identity, name string, data map[string]any) bool {
	b := h.opts.broadcaster
	if b == nil || ownerOf(connID) == "" || ownerOf(connID) == b.Instance() {
		return false
	}
	return h.publish(context.Background(), Message{Kind: ToConn, Target: connID, Action: name, Data: data, Identity: &id}) == nil
}

// plainAction serves a form post without the JavaScript client.
func (h *Handler) plainAction(w http.ResponseWriter, r *http.Request, id Identity, name string, data map[string]any) {
	key := stateKey(id, r)
	state := h.initialState(key)
	ctrl := h.ct.newController(h.proto)
	ctx := &Context{
		Context: r.Context(), action: name, data: data, req: r, params: urlParams(r), id: id,
		session: groupSession{h: h, group: id.GroupID}, h: h,
	}
	if h.ct.mount != nil {
		mctx := *ctx
		mctx.action, mctx.data = "", nil
		var err error
		if state, err = call(*h.ct.mount, ctrl, state, &mctx); err != nil {
			h.failMount(w, r, err)
			return
		}
		ctx.bs = mctx.bs // Mount's broadcasts go out with the action's
	}
	m, _ := h.ct.lookup(name)
	out, actErr := call(m, ctrl, state, ctx)
	if actErr != nil {
		doc, err := h.renderDocument(state.Interface(), actErr.Error())
		if err != nil {
			h.refuse(w, r, http.StatusInternalServerError, err, false)
			return
		}
		h.writePage(w, http.StatusUnprocessableEntity, splitPage(doc), "", 0)
		return
	}
	h.store.save(nil, key, out)
	h.fanOutGroup(id.GroupID, nil, ctx.bs)
	h.syncGroup(id.GroupID, nil, name, data)
	http.Redirect(w, r, r.URL.RequestURI(), http.StatusSeeOther)
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// refuse answers a request lt will not serve and logs why. Refusals of bad
// input are warnings; an expired connection is routine.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, status int, err error, asJSON bool) {
	level := slog.LevelWarn
	switch {
	case status >= 500:
		level = slog.LevelError
	case status == http.StatusGone:
		level = slog.LevelInfo
	}
	h.log.Log(r.Context(), level, "lt: request refused", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	if asJSON {
		b, _ := json.Marshal(map[string]string{"error": err.Error()})
		writeJSON(w, status, b)
		return
	}
	http.Error(w, err.Error(), status)
}
