package lt

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Flash is a message shown once, on the tab whose action (or server
// action) made it: {{range ltFlash}}<p class="flash-{{.Kind}}">{{.Message}}</p>{{end}}.
type Flash struct {
	Kind    string // what the app makes of it: "success", "info", "error"...
	Message string // text: the template escapes it
}

// Flash adds a message for the user to this call's tab, which shows it
// with {{ltFlash}} in the render this call causes, and only there: the
// tab's next render does not show it, nor does any other tab, nor a
// reload. With JavaScript, it arrives in the action's update; a form
// posted without JavaScript shows it on the page its 303 redirects to
// (it travels there in a short-lived cookie signed with the app's secret
// (WithSecret) and bound to the session), or on its 422 page. A call
// keeps its first 16 flashes, and about 3 KB of them for the cookie.
// Flashes added in Mount are shown on a page GET only after a redirect
// (the cookie), not by that Mount.
func (c *Context) Flash(kind, message string) {
	if len(c.flash) < maxFlashes {
		c.flash = append(c.flash, Flash{Kind: kind, Message: message})
	}
}

// maxFlashes bounds the flashes of one call.
const maxFlashes = 16

// PushEvent dispatches a DOM CustomEvent named name on the document of
// this call's tab, with detail (marshalled as JSON) as its detail, for a
// script or an element hook to act on (feed a chart, play a sound, focus
// a field). It is sent with the update of this call: from a client's
// action to the tab that acted, from a server action (TriggerAction,
// TriggerSession, TriggerAll, BroadcastAction), Sync or OnConnect to each
// tab it runs on, after the page has changed, in order with the tab's
// updates, also when the page did not change. A tab whose stream opens
// after such a call (its page was loading) gets the events with its first
// render. A tab that reconnects gets the events it missed while the server
// still has them in its replay log; one that needs a full render again
// does not. Events go nowhere from Mount on a page GET or from a form
// posted without JavaScript: no script runs there.
//
// It returns an error, and pushes nothing, when name is empty or longer
// than 128 bytes or not valid UTF-8, when detail cannot be marshalled,
// or when the events of this call would exceed 32 KiB.
func (c *Context) PushEvent(name string, detail any) error {
	if name == "" || len(name) > 128 || !utf8.ValidString(name) {
		return fmt.Errorf("lt: PushEvent: an event's name is 1 to 128 bytes of UTF-8, got %q", clip(name, 128))
	}
	d, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("lt: PushEvent %q: %w", name, err)
	}
	var b bytes.Buffer
	b.WriteString(",[")
	writeJSONString(&b, name)
	b.WriteByte(',')
	b.Write(d)
	b.WriteByte(']')
	if len(c.events)+b.Len() > maxEventBytes {
		return fmt.Errorf("lt: PushEvent %q: the events of one call would exceed %d bytes", name, maxEventBytes)
	}
	c.events = append(c.events, b.Bytes()...)
	return nil
}

// maxEventBytes bounds the JSON of the events one call pushes.
const maxEventBytes = 32 << 10

// The flash cookie carries the flashes of a form posted without
// JavaScript to the page its 303 redirects to: base64url(JSON of
// [[kind, message]...]) "." expiry (Unix seconds) "." signature of both,
// the session and the page's path as the handler sees it. The
// cookie's own path is "/", so that a proxy that strips a prefix from
// paths cannot make the browser withhold it; only the page it was made
// for shows and clears it.
const (
	flashCookie    = "lt_flash"
	flashPurpose   = "lt-flash"
	flashLife      = time.Minute
	maxFlashCookie = 3072
)

// setFlash sets the flash cookie for flashes on w, for the page of r.
func (h *Handler) setFlash(w http.ResponseWriter, r *http.Request, id Identity, flashes []Flash) {
	for n := len(flashes); n > 0; n-- {
		pairs := make([][2]string, n)
		for i, f := range flashes[:n] {
			pairs[i] = [2]string{clip(f.Kind, 64), clip(f.Message, 1024)}
		}
		js, _ := json.Marshal(pairs) // strings only: cannot fail
		payload := base64.RawURLEncoding.EncodeToString(js) + "." + strconv.FormatInt(time.Now().Add(flashLife).Unix(), 10)
		value := payload + "." + h.cookies.Sign(flashPurpose, flashSigned(payload, id, r))
		if len(value) > maxFlashCookie {
			continue // drop the last flash, and try again
		}
		http.SetCookie(w, &http.Cookie{
			Name: flashCookie, Value: value, Path: "/", MaxAge: int(flashLife / time.Second),
			HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: h.opts.secureCookie || r.TLS != nil,
		})
		return
	}
}

// flashSigned is what a flash cookie's signature covers.
func flashSigned(payload string, id Identity, r *http.Request) string {
	return payload + "\x00" + id.SessionID + "\x00" + r.URL.Path
}

// flashes returns the flashes r's flash cookie carries for this page and
// the session id, and whether it carries a cookie made for them
// (expired or not).
func (h *Handler) flashes(r *http.Request, id Identity) ([]Flash, bool) {
	ck, err := r.Cookie(flashCookie)
	if err != nil {
		return nil, false
	}
	payload, sig, ok := cutLast(ck.Value, '.')
	if !ok || !h.cookies.Verify(flashPurpose, flashSigned(payload, id, r), sig) {
		return nil, false // forged, or another page's or session's
	}
	data, exp, _ := cutLast(payload, '.')
	if t, err := strconv.ParseInt(exp, 10, 64); err != nil || time.Now().Unix() > t {
		return nil, true
	}
	js, err := base64.RawURLEncoding.DecodeString(data)
	var pairs [][2]string
	if err != nil || json.Unmarshal(js, &pairs) != nil {
		return nil, true
	}
	fs := make([]Flash, 0, min(len(pairs), maxFlashes))
	for _, p := range pairs[:min(len(pairs), maxFlashes)] {
		fs = append(fs, Flash{Kind: p[0], Message: p[1]})
	}
	return fs, true
}

// pageView is the view of a page GET: the flashes its flash cookie
// carries.
func (h *Handler) pageView(r *http.Request, id Identity) view {
	fs, _ := h.flashes(r, id)
	return view{flash: fs}
}

// clearFlash expires the flash cookie r carries if it was made for this
// page and session: it is shown once.
func (h *Handler) clearFlash(w http.ResponseWriter, r *http.Request, id Identity) {
	if _, mine := h.flashes(r, id); mine {
		http.SetCookie(w, &http.Cookie{
			Name: flashCookie, Value: "", Path: "/", MaxAge: -1,
			HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: h.opts.secureCookie || r.TLS != nil,
		})
	}
}

func cutLast(s string, sep byte) (before, after string, ok bool) {
	i := strings.LastIndexByte(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}
