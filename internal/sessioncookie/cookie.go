// Package sessioncookie issues and reads the anonymous session cookie shared
// by package lt (its zero-configuration default) and package middleware.
package sessioncookie

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
)

// DefaultName is the cookie's name unless configured otherwise.
const DefaultName = "lt_session"

// NewID returns 128 random bits, base64url-encoded: unguessable, and safe in
// cookies, URLs and HTML attributes.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// valid reports whether v looks like an id from NewID. Anything else (a
// forged or mangled cookie) is replaced rather than trusted as a group key.
func valid(v string) bool {
	if len(v) != 22 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil
}

// Get returns the session id carried by r, if any valid one.
func Get(r *http.Request, name string) (string, bool) {
	c, err := r.Cookie(name)
	if err != nil || !valid(c.Value) {
		return "", false
	}
	return c.Value, true
}

// Ensure returns r's session id, issuing a new cookie on w when r has none.
// The cookie is HttpOnly, SameSite=Lax, scoped to the whole site, and Secure
// when the request came over TLS or secure is set (a TLS-terminating proxy).
func Ensure(w http.ResponseWriter, r *http.Request, name string, secure bool) string {
	if name == "" {
		name = DefaultName
	}
	if id, ok := Get(r, name); ok {
		return id
	}
	id := NewID()
	http.SetCookie(w, &http.Cookie{
		Name:     name,
		Value:    id,
		Path:     "/",
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
		Secure:   secure || r.TLS != nil,
	})
	// Later handlers in this request see the new session too.
	r.AddCookie(&http.Cookie{Name: name, Value: id})
	return id
}
