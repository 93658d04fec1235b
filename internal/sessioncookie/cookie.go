// Package sessioncookie issues and reads the anonymous session cookie shared
// by package lt (its zero-configuration default) and package middleware.
//
// A cookie carries a random session id and a signature of it, so that only
// ids this app issued are accepted: a client cannot choose its session (or
// fix one on a victim's browser) by writing the cookie itself.
package sessioncookie

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"net/http"
	"strings"
	"sync"
)

// DefaultName is the cookie's name unless configured otherwise.
const DefaultName = "lt_session"

// MinSecret is the least length of a secret, in bytes.
const MinSecret = 32

// processKey signs cookies when the app gives no secret: every Handler
// and middleware of this process agrees on it, and it changes when the
// process restarts. It is set once, before main, and never written again.
var processKey = func() []byte {
	b := make([]byte, sha256.Size)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return b
}()

// Signer issues and checks session cookies. The zero value signs with the
// process's own key.
type Signer struct {
	keys []*key // the first signs; all are accepted
}

// key is a signing key with its HMAC states, reused: every request's
// cookie is checked, and a new HMAC costs a dozen allocations.
type key struct {
	b    []byte
	macs sync.Pool
}

func newKey(b []byte) *key {
	k := &key{b: b}
	k.macs.New = func() any { return hmac.New(sha256.New, k.b) }
	return k
}

// processSigner signs with processKey.
var processSigner = []*key{newKey(processKey)}

// sigLen is the length of a signature: 16 bytes, base64url-encoded.
const sigLen = 22

// appendSig appends k's signature of id to dst.
func (k *key) appendSig(dst []byte, id string) []byte {
	m := k.macs.Get().(hash.Hash)
	m.Reset()
	m.Write([]byte(id))
	var sum [sha256.Size]byte
	m.Sum(sum[:0])
	k.macs.Put(m)
	return base64.RawURLEncoding.AppendEncode(dst, sum[:16])
}

// NewSigner returns a Signer for the app's secret, which signs, and the
// secrets it replaces, which are still accepted while it is rotated; with
// none (nil), the process's own key, which another process does not
// share.
func NewSigner(secret []byte, previous ...[]byte) Signer {
	if len(secret) == 0 {
		return Signer{}
	}
	var s Signer
	for _, sec := range append([][]byte{secret}, previous...) {
		m := hmac.New(sha256.New, sec)
		m.Write([]byte("livesse/session-cookie/v1"))
		s.keys = append(s.keys, newKey(m.Sum(nil)))
	}
	return s
}

func (s Signer) all() []*key {
	if s.keys == nil {
		return processSigner
	}
	return s.keys
}

func (s Signer) sign(id string) string { return string(s.all()[0].appendSig(nil, id)) }

// NewID returns 128 random bits, base64url-encoded: unguessable, and safe in
// cookies, URLs and HTML attributes.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// idLen is the length of an id from NewID.
const idLen = 22

// valid reports whether v is an id from NewID signed by s: anything else
// (a forged, mangled or foreign cookie) is replaced rather than trusted as
// a session key.
func (s Signer) valid(v string) (id string, ok bool) {
	id, sig, found := strings.Cut(v, ".")
	if !found || len(id) != idLen {
		return "", false
	}
	if _, err := base64.RawURLEncoding.DecodeString(id); err != nil {
		return "", false
	}
	var buf [sigLen]byte
	for _, k := range s.all() {
		if hmac.Equal([]byte(sig), k.appendSig(buf[:0], id)) {
			return id, true
		}
	}
	return "", false
}

// Get returns the session id carried by r, if r carries a cookie s issued.
func (s Signer) Get(r *http.Request, name string) (string, bool) {
	c, err := r.Cookie(name)
	if err != nil {
		return "", false
	}
	return s.valid(c.Value)
}

// Ensure returns r's session id, issuing a new cookie on w when r has none
// that s issued; issued says it did. The cookie is HttpOnly,
// SameSite=Lax, scoped to the whole site, and Secure when the request
// came over TLS or secure is set (a TLS-terminating proxy).
func (s Signer) Ensure(w http.ResponseWriter, r *http.Request, name string, secure bool) (id string, issued bool) {
	if name == "" {
		name = DefaultName
	}
	if id, ok := s.Get(r, name); ok {
		return id, false
	}
	id = NewID()
	value := id + "." + s.sign(id)
	http.SetCookie(w, &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
		Secure:   secure || r.TLS != nil,
	})
	// Later handlers in this request see the new session too; a cookie
	// the client sent under the same name is dropped first, so that they
	// do not read that one.
	drop(r, name)
	r.AddCookie(&http.Cookie{Name: name, Value: value})
	return id, true
}

// drop removes the cookies named name from r's Cookie headers.
func drop(r *http.Request, name string) {
	cs := r.Cookies()
	r.Header.Del("Cookie")
	for _, c := range cs {
		if c.Name != name {
			r.AddCookie(c)
		}
	}
}

type issuedKey struct{}

// MarkIssued returns ctx saying that the request's session cookie was
// issued by its own response (middleware tells lt so).
func MarkIssued(ctx context.Context) context.Context {
	return context.WithValue(ctx, issuedKey{}, true)
}

// Issued reports whether MarkIssued marked ctx.
func Issued(ctx context.Context) bool {
	b, _ := ctx.Value(issuedKey{}).(bool)
	return b
}

// ID returns the session id in v, a cookie's value or an id alone.
func ID(v string) string {
	id, _, _ := strings.Cut(v, ".")
	return id
}
