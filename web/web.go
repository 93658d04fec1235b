// Package web embeds the livesse browser client, built from the sources in
// this directory (see package.json), and serves it over HTTP.
package web

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"
	"sync"
	"time"
)

//go:embed dist/livesse.min.js
var bundle []byte

// version is computed once, on first use.
var version = sync.OnceValue(func() string {
	sum := sha256.Sum256(bundle)
	return hex.EncodeToString(sum[:])[:12]
})

// Bundle returns the minified client script (an IIFE, JavaScript) embedded in
// the binary. It returns the embedded bytes themselves, not a copy: callers
// must not modify them, since Version and Handler describe and serve those
// same bytes.
func Bundle() []byte { return bundle }

// Version returns the first 12 lowercase hex characters of the SHA-256 of
// Bundle. It identifies the bundle's content: it changes whenever the client
// changes, so it is fit for cache busting (the v query parameter of Handler).
func Version() string { return version() }

// Handler returns a handler that serves Bundle, whatever the request path, to
// GET and HEAD requests (others get 405) with Content-Type
// "text/javascript; charset=utf-8" and ETag `"` + Version() + `"`, answering
// a matching If-None-Match with 304 Not Modified. When the request's v query
// parameter equals Version the response may be cached forever
// (Cache-Control: public, max-age=31536000, immutable); otherwise it is
// served with Cache-Control: no-cache, so that caches revalidate it by ETag.
// Range requests are honoured as by http.ServeContent.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/javascript; charset=utf-8")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("ETag", `"`+Version()+`"`)
		if r.URL.Query().Get("v") == Version() {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		// ServeContent handles If-None-Match against the ETag set above,
		// HEAD and Range; the zero time leaves Last-Modified out.
		http.ServeContent(w, r, "livesse.min.js", time.Time{}, bytes.NewReader(bundle))
	})
}
