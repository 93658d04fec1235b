package lt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
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
// it runs on the session's last state and answers 303 to the page
// (post/redirect/get), or 422 with the page re-rendered to show the error.
func (h *Handler) serveAction(w http.ResponseWriter, r *http.Request) {
	asJSON := strings.Contains(r.Header.Get("Accept"), "application/json")
	if err := h.origin.Check(r); err != nil {
		h.refuse(w, r, http.StatusForbidden, fmt.Errorf("%w: %v", ErrCrossSite, err), asJSON)
		return
	}
	id, _, err := h.identify(w, r)
	if err != nil {
		h.refuse(w, r, http.StatusUnauthorized, err, asJSON)
		return
	}
	var form url.Values
	var status int
	if h.streamsUploads(r) {
		var files []File
		form, files, status, err = h.parseUploads(w, r, id)
		w = keepFilesIfOK(w, files, h.deleteFiles)
		defer w.(*filesWriter).done()
	} else {
		form, status, err = h.parseForm(w, r)
	}
	if r.MultipartForm != nil {
		defer r.MultipartForm.RemoveAll()
	}
	if err != nil {
		h.refuse(w, r, status, err, asJSON)
		return
	}
	if leave := form.Get(fieldLeave); leave != "" {
		h.serveLeave(w, r, id, leave) // leave.go
		return
	}
	if form.Get(fieldParams) != "" {
		h.serveParams(w, r, id, form) // navigate.go
		return
	}
	if field := form.Get(fieldPresign); field != "" {
		h.servePresign(w, r, id, field, form) // presign.go
		return
	}
	if !h.checkPresigned(w, r, id, form, asJSON) {
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
	if connID != "" {
		h.liveAction(w, r, id, connID, name, form)
	} else {
		h.plainAction(w, r, id, name, formData(form))
	}
}

// parseForm reads a form-encoded or multipart body within the size and
// field-count limits: over either, 413.
func (h *Handler) parseForm(w http.ResponseWriter, r *http.Request) (url.Values, int, error) {
	r.Body = http.MaxBytesReader(w, r.Body, h.opts.maxBody)
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case err != nil && r.Header.Get("Content-Type") != "":
		return nil, http.StatusUnsupportedMediaType, fmt.Errorf("%w: Content-Type: %v", ErrBadRequest, err)
	case ct == "multipart/form-data":
		err = r.ParseMultipartForm(h.opts.maxBody)
	case ct == "application/x-www-form-urlencoded" || ct == "":
		err = h.parseURLEncoded(r)
	default:
		return nil, http.StatusUnsupportedMediaType,
			fmt.Errorf("%w: Content-Type %q; send a form (application/x-www-form-urlencoded or multipart/form-data)", ErrBadRequest, clip(ct, 64))
	}
	if err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("%w: body over %d bytes", ErrBadRequest, mbe.Limit)
		case errors.Is(err, errTooManyFields):
			return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("%w: over %d form fields", ErrBadRequest, min(h.opts.maxFields, maxURLEncodedFields))
		case errors.Is(err, multipart.ErrMessageTooLarge):
			return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("%w: multipart form too large", ErrBadRequest)
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

var errTooManyFields = errors.New("too many form fields")

// maxURLEncodedFields is net/url's own bound on the fields it parses.
const maxURLEncodedFields = 10000

// parseURLEncoded is r.ParseForm that counts the fields first: net/url
// refuses more than 10,000, whatever WithMaxFields says, with an error
// that would read as a malformed body, and parsing that many only to
// refuse them is waste. A malformed URL query does not fail the post (its
// values are left out of Form), as the body is what carries the action.
func (h *Handler) parseURLEncoded(r *http.Request) error {
	var body bytes.Buffer
	if n := r.ContentLength; n > 0 && n <= h.opts.maxBody {
		body.Grow(int(n))
	}
	if _, err := body.ReadFrom(r.Body); err != nil {
		return err
	}
	if n := bytes.Count(body.Bytes(), []byte("&")) + 1; body.Len() > 0 && (n > h.opts.maxFields || n > maxURLEncodedFields) {
		return errTooManyFields
	}
	post, err := url.ParseQuery(body.String())
	r.PostForm, r.Form = post, withQuery(post, r.URL.RawQuery)
	return err
}

// withQuery returns the values of a request's Form as ParseForm makes
// them: those of the body first, then those of the URL's query.
func withQuery(post url.Values, rawQuery string) url.Values {
	if rawQuery == "" {
		return post
	}
	form := make(url.Values, len(post))
	for k, vs := range post {
		form[k] = slices.Clone(vs)
	}
	query, _ := url.ParseQuery(rawQuery)
	for k, vs := range query {
		form[k] = append(form[k], vs...)
	}
	return form
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
// A connection another instance holds gets the POST forwarded there.
func (h *Handler) liveAction(w http.ResponseWriter, r *http.Request, id Identity, connID, name string, form url.Values) {
	c, err := h.lookup(connID, id)
	switch {
	case errors.Is(err, ErrForeignConnection):
		h.refuseAction(name, w, r, http.StatusForbidden, err, true)
		return
	case err != nil && h.forwards(connID):
		h.forward(w, r, id, connID, name, form)
		return
	case err != nil:
		h.refuseAction(name, w, r, http.StatusGone, err, true)
		return
	}
	m, _ := h.ct.lookup(name) // checked by the caller
	var resp []byte
	var actErr error
	tctx, span := h.startAction(r, name, connID)
	err = c.do(r.Context(), func() {
		c.trace = tctx
		pub, msg, err := c.act(m, name, formData(form), r)
		c.trace = nil
		actErr = err
		resp = c.response(pub, msg)
	})
	if err != nil {
		endSpan(span, err) // the job may still run: actErr is its to write
	} else {
		endSpan(span, actErr)
	}
	switch {
	case errors.Is(err, ErrClosed):
		h.refuseAction(name, w, r, http.StatusGone, err, true)
		return
	case errors.Is(err, ErrQueueFull):
		h.refuseAction(name, w, r, http.StatusServiceUnavailable, err, true)
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

// forwards reports whether connID names another instance, which then
// holds the connection if it is still live.
func (h *Handler) forwards(connID string) bool {
	b := h.opts.broadcaster
	return b != nil && ownerOf(connID) != "" && ownerOf(connID) != b.Instance()
}

// forward sends an action POST for a connection another instance holds
// to that instance, which checks that the requester owns the connection
// and runs it as this client's action, with the same request data. The
// update reaches the tab on its stream there: the answer is 202.
func (h *Handler) forward(w http.ResponseWriter, r *http.Request, id Identity, connID, name string, form url.Values) {
	fr := forwardRequest(r, form)
	if n := fr.size(); n > h.opts.maxForward {
		h.refuseAction(name, w, r, http.StatusRequestEntityTooLarge, fmt.Errorf(
			"%w: an action for a tab on another instance carries %d bytes, over the %d that are forwarded (WithMaxForwardBytes)",
			ErrBadRequest, n, h.opts.maxForward), true)
		return
	}
	m := message{Kind: toConn, Target: connID, To: ownerOf(connID), Action: name, Identity: &id, Request: fr}
	ctx := r.Context()
	if h.tr != nil {
		ctx = h.tr.Extract(ctx, headerCarrier(r.Header)) // lt.publish carries it to the owner
	}
	switch err := h.publish(ctx, m); {
	case errors.Is(err, ErrNoInstance):
		h.refuseAction(name, w, r, http.StatusGone, fmt.Errorf("%w: no live instance holds it", ErrUnknownConnection), true)
		return
	case err != nil:
		h.refuseAction(name, w, r, http.StatusServiceUnavailable, err, true)
		return
	}
	var b bytes.Buffer
	b.WriteString(`{"c":`)
	writeJSONString(&b, connID)
	b.WriteString(`,"forwarded":true}`)
	writeJSON(w, http.StatusAccepted, b.Bytes())
}

// forwardRequest is what another instance needs of r to run its action
// as this POST: everything an app may check, the form but not its files.
func forwardRequest(r *http.Request, form url.Values) *forwardedRequest {
	return &forwardedRequest{
		Method: r.Method, URL: r.URL.RequestURI(), Host: r.Host, RemoteAddr: r.RemoteAddr, TLS: r.TLS != nil,
		Header: r.Header.Clone(), Form: form,
	}
}

// size is about how many bytes f adds to a message.
func (f *forwardedRequest) size() int {
	n := len(f.Method) + len(f.URL) + len(f.Host) + len(f.RemoteAddr)
	for _, m := range []map[string][]string{f.Header, f.Form} {
		for k, vs := range m {
			for _, v := range vs {
				n += len(k) + len(v) + 6
			}
		}
	}
	return n
}

// plainAction serves a form post without the JavaScript client. Posts of
// one session on one page run one at a time, each on the state the
// one before it saved, so that none is lost.
func (h *Handler) plainAction(w http.ResponseWriter, r *http.Request, id Identity, name string, data map[string]any) {
	key := stateKey(id, r)
	unlock := h.plainLocks.lock(key)
	defer unlock()
	state := h.initialState(key)
	ctrl := h.ct.newController(h.proto)
	ctx := &Context{
		Context: r.Context(), action: name, data: data, req: r, client: true, params: urlParams(r), id: id,
		session: groupSession{h: h, group: id.SessionID}, h: h, url: tabURL(r), nav: navigation{allowed: true},
	}
	if h.ct.mount != nil {
		mctx := *ctx
		mctx.action, mctx.data, mctx.client, mctx.nav = "", nil, false, navigation{}
		var err error
		if state, err = call(*h.ct.mount, ctrl, state, &mctx); err != nil {
			h.failMount(w, r, err)
			return
		}
		ctx.bs = mctx.bs // Mount's broadcasts go out with the action's
	}
	var err error
	if state, err = h.plainParams(ctrl, state, ctx); err != nil { // navigate.go
		h.failMount(w, r, err)
		return
	}
	m, _ := h.ct.lookup(name)
	tctx, span := h.startAction(r, name, "")
	if tctx != nil {
		ctx.Context = tctx
	}
	var t0 time.Time
	if h.timed {
		t0 = time.Now()
	}
	out, actErr := call(m, ctrl, state, ctx)
	o := ctx.outcome(actErr)
	endSpan(span, actErr)
	if h.timed {
		outcome := OutcomeOK
		if actErr != nil {
			outcome = OutcomeError
		}
		h.m.Action(m.Name, true, outcome, time.Since(t0))
	}
	if actErr != nil {
		msg := h.shownError(r.Context(), actErr, r, "path", clip(r.URL.Path, maxLoggedPath), "action", name)
		if keepsState(actErr) {
			state = out // field errors: the page shows what the user entered
		}
		doc, err := h.renderDocument(state.Interface(), o.view(msg))
		if err != nil {
			h.refuse(w, r, http.StatusInternalServerError, err, false)
			return
		}
		h.writePage(w, http.StatusUnprocessableEntity, splitPage(doc), "", 0)
		return
	}
	h.store.save(nil, key, out)
	h.fanOutGroup(r.Context(), id.SessionID, nil, ctx.bs)
	h.syncGroup(r.Context(), id.SessionID, nil, name, data)
	h.setFlash(w, r, id, o.flash)
	http.Redirect(w, r, o.redirect(r), http.StatusSeeOther) // the page, or where the action moved it
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// refuse answers a request lt will not serve and logs why (see logLevel).
// The answer says what was wrong with the request, never what went wrong
// inside (publicText).
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, status int, err error, asJSON bool) {
	h.refuseAs(w, r, status, err, asJSON, refusal(status, err), "")
}

// refuseAction is refuse for a request that named action, one of the
// controller's: the refusal is counted under its method name.
func (h *Handler) refuseAction(action string, w http.ResponseWriter, r *http.Request, status int, err error, asJSON bool) {
	m, _ := h.ct.lookup(action) // checked by the caller
	h.refuseAs(w, r, status, err, asJSON, refusal(status, err), m.Name)
}

// refuseAs is refuse counting the refusal as reason, for method
// (PageMetrics.Refused).
func (h *Handler) refuseAs(w http.ResponseWriter, r *http.Request, status int, err error, asJSON bool, reason, method string) {
	h.m.Refused(method, reason)
	ref := errorRef(r)
	attrs := append(requestAttrs(r), "method", r.Method, "path", clip(r.URL.Path, maxLoggedPath), "status", status, "ref", ref, "err", err)
	if pe := (*panicError)(nil); errors.As(err, &pe) {
		attrs = append(attrs, "stack", string(pe.stack))
	}
	h.log.Log(r.Context(), logLevel(status, err), "lt: request refused", attrs...)
	text := publicText(err, status, ref)
	if h.opts.dev && status >= 500 {
		text = devText(err, ref) // WithDevMode
	}
	if asJSON {
		b, _ := json.Marshal(map[string]string{"error": text})
		writeJSON(w, status, b)
		return
	}
	http.Error(w, text, status)
}

// maxLoggedPath bounds how much of a request's path a log line repeats.
const maxLoggedPath = 256

// keyLocks serializes work by key (a session's page), holding a
// lock only while someone uses it.
type keyLocks struct {
	mu sync.Mutex
	m  map[string]*keyLock
}

type keyLock struct {
	mu    sync.Mutex
	users int
}

// lock takes key's lock and returns what releases it.
func (k *keyLocks) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*keyLock{}
	}
	l := k.m[key]
	if l == nil {
		l = &keyLock{}
		k.m[key] = l
	}
	l.users++
	k.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		k.mu.Lock()
		if l.users--; l.users == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}
