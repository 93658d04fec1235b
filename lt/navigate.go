package lt

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
)

// This file is the URL as state (docs/protocol.md, "URL changes"): the
// Params lifecycle method, the tab's URL (Context.URL), PushURL and
// ReplaceURL, and the _lt_params POST with which a tab says its URL
// changed.

// fieldParams marks the POST of a tab whose URL changed (a patch link, back
// or forward): the client posts _lt_conn and _lt_params=1 to the new URL,
// and lt runs Params on that tab's connection with it.
const fieldParams = "_lt_params"

// paramsAction is the Action of a Message that forwards a _lt_params POST
// to the instance holding its connection. Its Data carries the tab's new
// URL as the receiving instance saw it ("u") and the path parameters its
// router matched ("p"), which the owning instance cannot work out itself.
const paramsAction = "_lt_params"

// errMovesAway marks the 410 that answers a _lt_params POST for a
// connection this page does not hold: the client's usual way to learn
// that the URL it moved to is another page, which it then loads. It is
// logged at Debug, not as a refusal worth an operator's attention.
var errMovesAway = errors.New("a tab moving to another page loads it")

// maxPushedURL bounds a URL given to PushURL or ReplaceURL.
const maxPushedURL = 8 << 10

// navigation is what PushURL or ReplaceURL asked of a call.
type navigation struct {
	allowed  bool   // the method may change the URL: not Mount, not Params
	url      string // the URL asked for, path and query; "" for none
	replace  bool   // ReplaceURL: the tab replaces its history entry
	navigate bool   // another path: the client posts _lt_params to it
}

// json is n as the update's "u": {"p":url,"r":true,"n":true}, the flags
// only when set; nil when the call changed no URL.
func (n navigation) json() []byte {
	if n.url == "" {
		return nil
	}
	var b bytes.Buffer
	b.WriteString(`{"p":`)
	writeJSONString(&b, n.url)
	if n.replace {
		b.WriteString(`,"r":true`)
	}
	if n.navigate {
		b.WriteString(`,"n":true`)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// navAllowed reports whether method m may call PushURL or ReplaceURL:
// every method but Mount and Params, which run for a URL being loaded.
func navAllowed(m reflect.Method) bool { return m.Name != "Mount" && m.Name != "Params" }

// URL returns the URL of this call's tab as the browser shows it: the
// path, with any prefix that http.StripPrefix or a chi Mount took off
// r.URL, and the query, without lt's own _lt parameters. It has no
// scheme and no host: it is never of another origin. In Params it is the
// URL being loaded (the page GET's, the form POST's, the one a link or
// the back button moved the tab to, or the one PushURL asked for); in
// every other method, the tab's URL now. Each call returns a new value,
// which the caller may change.
//
//	page, _ := strconv.Atoi(ctx.URL().Query().Get("page"))
func (c *Context) URL() *url.URL {
	u, err := url.ParseRequestURI(c.url)
	if err != nil || c.url == "" {
		return &url.URL{Path: "/"}
	}
	return u
}

// PushURL moves this call's tab to u, a new entry in its history, once
// the method has returned without an error (with an error it does
// nothing). u is a path of this site, as the browser shows it: absolute
// ("/lists/2?page=3"), a query alone ("?page=3", the same path), or
// relative to the tab's URL ("3", "../lists").
//
//   - The same path, another query: lt sets the tab's URL and runs Params
//     with it before the render, and the update tells the client to push
//     the URL (no second request). Params failing fails the method: its
//     state is discarded and its error shown, and the URL stays.
//   - Another path: the update tells the client to push the URL and post
//     _lt_params to it, so that the router matches the new path's
//     parameters; Params then runs with them (or, for another live page,
//     the client loads it).
//   - A form posted without JavaScript answers 303 to u instead of its
//     own page, which renders u's state through Mount and Params.
//
// It works in actions, server actions, Sync and OnConnect; the last call
// wins. It returns an error wrapping ErrBadURL, and changes nothing, for a
// URL with a scheme or a host ("https://x", "//x"), a backslash, a
// fragment, spaces or control characters, a query that does not parse or
// names a reserved _lt parameter, one over 8 KiB, and in Mount and Params
// (their URL is the one being loaded).
func (c *Context) PushURL(u string) error { return c.moveTo("PushURL", u, false) }

// ReplaceURL is PushURL replacing the tab's current history entry rather
// than adding one (history.replaceState): for a URL that only records the
// state (a filter as it is typed), where Back should not step through
// every value.
func (c *Context) ReplaceURL(u string) error { return c.moveTo("ReplaceURL", u, true) }

func (c *Context) moveTo(fn, u string, replace bool) error {
	to, err := "", fmt.Errorf("%w: not in Mount or Params, which run for the URL being loaded", ErrBadURL)
	if c.nav.allowed {
		to, err = resolveURL(c.url, u)
	}
	if err != nil {
		err = fmt.Errorf("%w (%s)", err, fn)
		if c.h != nil {
			c.h.log.Warn("lt: URL refused", "err", err)
		}
		return err
	}
	c.nav.url, c.nav.replace, c.nav.navigate = to, replace, false
	return nil
}

// resolveURL resolves ref, a URL an app gave PushURL, against cur, the
// tab's URL, into a path and query of this site.
func resolveURL(cur, ref string) (string, error) {
	switch {
	case ref == "":
		return "", fmt.Errorf("%w: empty", ErrBadURL)
	case len(ref) > maxPushedURL:
		return "", fmt.Errorf("%w: %d bytes, over %d", ErrBadURL, len(ref), maxPushedURL)
	case strings.HasPrefix(ref, "//"):
		return "", fmt.Errorf("%w: %q names a host; give a path of this site", ErrBadURL, clip(ref, 64))
	}
	for i := 0; i < len(ref); i++ {
		switch b := ref[i]; {
		case b == '\\':
			return "", fmt.Errorf("%w: %q has a backslash, which browsers read as /", ErrBadURL, clip(ref, 64))
		case b == '#':
			return "", fmt.Errorf("%w: %q has a fragment, which lt does not carry", ErrBadURL, clip(ref, 64))
		case b <= ' ' || b == 0x7f:
			return "", fmt.Errorf("%w: %q has a space or a control character; escape it (url.PathEscape, url.Values.Encode)", ErrBadURL, clip(ref, 64))
		}
	}
	r, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadURL, err)
	}
	if r.Scheme != "" || r.Host != "" || r.User != nil || r.Opaque != "" {
		return "", fmt.Errorf("%w: %q is not a path of this site", ErrBadURL, clip(ref, 64))
	}
	base, err := url.ParseRequestURI(cur)
	if err != nil || cur == "" {
		base = &url.URL{Path: "/"}
	}
	res := base.ResolveReference(r)
	path := res.EscapedPath()
	if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") {
		return "", fmt.Errorf("%w: %q resolves to %q, not a path of this site", ErrBadURL, clip(ref, 64), clip(path, 64))
	}
	if res.RawQuery == "" {
		return path, nil
	}
	q, err := url.ParseQuery(res.RawQuery)
	if err != nil {
		return "", fmt.Errorf("%w: query: %w", ErrBadURL, err)
	}
	for k := range q {
		if strings.HasPrefix(k, "_lt") {
			return "", fmt.Errorf("%w: query parameter %q is reserved for lt", ErrBadURL, clip(k, 64))
		}
	}
	return path + "?" + res.RawQuery, nil
}

// pathOf is the path of a tab URL.
func pathOf(u string) string {
	p, _, _ := strings.Cut(u, "?")
	return p
}

// tabURL is the URL of the tab r comes from, as the browser shows it:
// pageURL without lt's own query parameters (a stream's _lt_conn and
// _lt_seq).
func tabURL(r *http.Request) string {
	p := pageURL(r)
	path, query, ok := strings.Cut(p, "?")
	if !ok || !strings.Contains(query, "_lt") {
		return p
	}
	kept := make([]string, 0, strings.Count(query, "&")+1)
	for _, kv := range strings.Split(query, "&") {
		k, _, _ := strings.Cut(kv, "=")
		if uk, err := url.QueryUnescape(k); err == nil {
			k = uk
		}
		if kv != "" && !strings.HasPrefix(k, "_lt") {
			kept = append(kept, kv)
		}
	}
	if len(kept) == 0 {
		return path
	}
	return path + "?" + strings.Join(kept, "&")
}

// setURL makes u the connection's URL, for this job's Context and the
// next ones. Only jobs call it.
func (c *conn) setURL(u string) {
	c.url = u
	c.callCtx.url = u
}

// followURL carries out what PushURL or ReplaceURL asked of the method
// that just returned out on ctx: for the same path, the tab's URL changes
// and Params runs with it, on out; for another path the update only tells
// the client to navigate. A job calls it, before the render.
func (c *conn) followURL(out reflect.Value, ctx *Context) (reflect.Value, error) {
	to := ctx.nav.url
	if pathOf(to) != pathOf(c.url) {
		ctx.nav.navigate = true
		return out, nil
	}
	if p := c.h.ct.params; p != nil {
		action, data, client, nav := ctx.action, ctx.data, ctx.client, ctx.nav
		ctx.action, ctx.data, ctx.client, ctx.nav, ctx.url = "", nil, false, navigation{}, to
		res, err := call(*p, c.ctrl, out, ctx)
		ctx.action, ctx.data, ctx.client, ctx.nav, ctx.url = action, data, client, nav, c.url
		if err != nil {
			ctx.nav.url = ""
			return res, err
		}
		out = res
	}
	c.setURL(to)
	ctx.url = to
	c.mu.Lock()
	c.moved = navigation{url: to, replace: true}.json()
	c.mu.Unlock()
	return out, nil
}

// mountParams runs Params after Mount, for the page GET (or the stream)
// that r is and that creates c. A job calls it.
func (c *conn) mountParams(r *http.Request) error {
	p := c.h.ct.params
	if p == nil {
		return nil
	}
	ctx := c.newContextFor(r)
	out, err := call(*p, c.ctrl, c.state, ctx)
	if err != nil {
		return err
	}
	c.state = out
	c.h.fanOut(c, ctx.bs)
	return nil
}

// resyncParams runs Params after a resync's Mount, so that what Mount
// read afresh is narrowed to the tab's URL again. A job calls it.
func (c *conn) resyncParams() {
	p := c.h.ct.params
	if p == nil {
		return
	}
	// Its broadcasts are dropped, as Mount's: every tab resyncs anyway.
	if out, _, err := c.call(*p, "", nil, nil, false); err == nil {
		c.state = out
	} else {
		c.h.log.Warn("lt: Params failed during resync; keeping the state", "conn", c.id, "err", err)
	}
}

// plainParams runs Params for a form posted without JavaScript, after
// Mount and before the action whose Context ctx is; Params' broadcasts go
// out with the action's.
func (h *Handler) plainParams(ctrl, state reflect.Value, ctx *Context) (reflect.Value, error) {
	if h.ct.params == nil {
		return state, nil
	}
	pctx := *ctx
	pctx.action, pctx.data, pctx.client, pctx.nav, pctx.bs = "", nil, false, navigation{}, nil
	out, err := call(*h.ct.params, ctrl, state, &pctx)
	ctx.bs = append(ctx.bs, pctx.bs...)
	return out, err
}

// redirect is where a form posted without JavaScript goes after its
// action succeeded: the URL the action pushed, else the page itself.
func (o outcome) redirect(r *http.Request) string {
	if o.nav.url != "" {
		return o.nav.url
	}
	return pageURL(r)
}

// serveParams serves the POST of a tab whose URL changed: _lt_conn and
// _lt_params, sent to the new URL, so that the router has matched its path
// parameters. It sets the connection's URL, path parameters and state key
// and runs Params, and answers the update as an action's POST does (200,
// 422 when Params fails). A connection of another session is refused
// (403); one this Handler does not hold, because the tab moved to another
// live page (or its connection expired), gets 410, on which the client
// loads the URL; one another instance holds is forwarded there (202).
func (h *Handler) serveParams(w http.ResponseWriter, r *http.Request, id Identity, form url.Values) {
	connID := form.Get(fieldConn)
	switch {
	case connID == "":
		h.refuse(w, r, http.StatusBadRequest, fmt.Errorf("%w: a %s POST names its tab's connection in %s", ErrBadRequest, fieldParams, fieldConn), true)
		return
	case form.Get(fieldAction) != "":
		h.refuse(w, r, http.StatusBadRequest, fmt.Errorf("%w: a %s POST runs no action; send %s alone", ErrBadRequest, fieldParams, fieldAction), true)
		return
	}
	c, err := h.lookup(connID, id)
	switch {
	case errors.Is(err, ErrForeignConnection):
		h.refuse(w, r, http.StatusForbidden, err, true)
		return
	case err != nil && h.forwards(connID) && h.mintedHere(connID):
		h.forwardParams(w, r, id, connID, form)
		return
	case err != nil:
		h.refuse(w, r, http.StatusGone, fmt.Errorf("%w: not a connection of this page (%w)", err, errMovesAway), true)
		return
	case h.ct.params == nil:
		h.refuse(w, r, http.StatusGone, fmt.Errorf("%w: the page has no Params method to follow its URL (%w)", ErrUnknownConnection, errMovesAway), true)
		return
	}
	u, params, key := tabURL(r), urlParams(r), stateKey(id, r)
	var resp []byte
	var pErr error
	err = c.do(r.Context(), func() {
		pub, msg, err := c.navigate(u, key, params, r)
		pErr = err
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
		return // the client went away; the job still runs in order
	}
	status := http.StatusOK
	if pErr != nil {
		status = http.StatusUnprocessableEntity
	}
	writeJSON(w, status, resp)
}

// navigate is the job of a _lt_params POST: the connection takes URL u,
// the path parameters params and the state key key (the session's
// state of the new path), Params runs and the result is published. It
// returns the update, the error message the tab shows and Params' error.
func (c *conn) navigate(u, key string, params map[string]string, req *http.Request) (published, string, error) {
	c.setURL(u)
	c.mu.Lock()
	c.moved = nil // the tab moved itself: it has the URL
	c.mu.Unlock()
	c.params, c.callCtx.params = params, params
	if key != c.key {
		c.key, c.saved = key, nil // its actions now save the new path's state
	}
	bs, pub, msg, err := c.invokeUpdate(*c.h.ct.params, "", nil, req, false, nil)
	c.h.fanOut(c, bs)
	return pub, msg, err
}

// forwardParams sends a _lt_params POST for a connection another instance
// holds to that instance, with the URL and path parameters as this one
// saw them; the update reaches the tab on its stream there. The answer is
// 202.
func (h *Handler) forwardParams(w http.ResponseWriter, r *http.Request, id Identity, connID string, form url.Values) {
	fr := forwardRequest(r, form)
	if n := fr.size(); n > h.opts.maxForward {
		h.refuse(w, r, http.StatusRequestEntityTooLarge, fmt.Errorf(
			"%w: a URL change for a tab on another instance carries %d bytes, over the %d that are forwarded (WithMaxForwardBytes)",
			ErrBadRequest, n, h.opts.maxForward), true)
		return
	}
	data := map[string]any{"u": tabURL(r)}
	if ps := urlParams(r); len(ps) > 0 {
		pm := make(map[string]any, len(ps))
		for k, v := range ps {
			pm[k] = v
		}
		data["p"] = pm
	}
	m := message{Kind: toConn, Target: connID, To: ownerOf(connID), Action: paramsAction, Identity: &id, Request: fr, Data: data}
	ctx := r.Context()
	if h.tr != nil {
		ctx = h.tr.Extract(ctx, headerCarrier(r.Header))
	}
	switch err := h.publish(ctx, m); {
	case errors.Is(err, ErrNoInstance):
		h.refuse(w, r, http.StatusGone, fmt.Errorf("%w: no live instance holds it", ErrUnknownConnection), true)
		return
	case err != nil:
		h.refuse(w, r, http.StatusServiceUnavailable, err, true)
		return
	}
	var b bytes.Buffer
	b.WriteString(`{"c":`)
	writeJSONString(&b, connID)
	b.WriteString(`,"forwarded":true}`)
	writeJSON(w, http.StatusAccepted, b.Bytes())
}

// deliverParams runs, on the connection this instance holds, a _lt_params
// POST that reached another instance. Every field is checked: a message
// that does not carry the requester, the request, a URL of this site and
// string parameters is logged and dropped.
func (h *Handler) deliverParams(m message) {
	if ownerOf(m.Target) != h.opts.broadcaster.Instance() {
		return // for another instance
	}
	u, _ := m.Data["u"].(string)
	params, perr := stringMap(m.Data["p"])
	var err error
	switch {
	case m.Identity == nil || m.Request == nil || m.Request.Form.Get(fieldParams) == "":
		err = fmt.Errorf("%w: a forwarded URL change needs the requester and its request", ErrBadRequest)
	case !strings.HasPrefix(u, "/") || strings.HasPrefix(u, "//") || strings.ContainsAny(u, "\\#"):
		err = fmt.Errorf("%w: a forwarded URL change names no path of this site: %q", ErrBadRequest, clip(u, 64))
	case perr != nil:
		err = fmt.Errorf("%w: a forwarded URL change: %w", ErrBadRequest, perr)
	case h.ct.params == nil:
		err = fmt.Errorf("%w: the page has no Params method", ErrBadRequest)
	}
	if err != nil {
		h.log.Warn("lt: forwarded URL change dropped", "from", m.Instance, "err", err)
		return
	}
	c, err := h.lookup(m.Target, *m.Identity)
	if err != nil {
		h.log.Warn("lt: forwarded URL change dropped", "from", m.Instance, "err", err)
		return
	}
	req := m.Request.request(c)
	key := stateKey(c.ident, req)
	if err := c.enqueue(func() { _, _, _ = c.navigate(u, key, params, req) }); err != nil && err != ErrClosed {
		h.log.Warn("lt: forwarded URL change not queued", "conn", c.id, "err", err)
	}
}

// idTag is the part of a connection id, after its instance's name, that
// names the page (Handler) it belongs to: 6 characters of a hash of the
// page's name, which every instance gives the same page. With it an
// instance tells that a _lt_params POST names a connection of another
// page before forwarding it to the instance holding it, where the page
// would not find it: the tab gets 410 and loads the URL, instead of a 202
// whose update never comes.
func idTag(page string) string {
	sum := sha256.Sum256([]byte(page))
	return base64.RawURLEncoding.EncodeToString(sum[:])[:6]
}

// mintedHere reports whether connID is a connection id this page (on any
// instance) could have made: one without an instance's name, or whose
// page tag is this page's.
func (h *Handler) mintedHere(connID string) bool {
	i := strings.LastIndexByte(connID, '.')
	return i < 0 || strings.HasPrefix(connID[i+1:], idTag(h.name))
}

// stringMap is path parameters as a message carries them: absent, or an
// object of strings.
func stringMap(v any) (map[string]string, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case map[string]string:
		return v, nil
	case map[string]any:
		m := make(map[string]string, len(v))
		for k, x := range v {
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("path parameter %q is a %T, not a string", clip(k, 64), x)
			}
			m[k] = s
		}
		return m, nil
	default:
		return nil, fmt.Errorf("path parameters are a %T, not an object", v)
	}
}
