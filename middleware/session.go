package middleware

import (
	"net/http"

	"github.com/livesse/livesse/internal/sessioncookie"
	"github.com/livesse/livesse/lt"
)

// Session gives every request an anonymous session: it issues the session
// cookie where there is none (HttpOnly, SameSite=Lax, Secure under TLS) and
// stores lt.AnonymousIdentity in the request context, where lt handlers and
// your own handlers (lt.IdentityFrom) find it. A request that already
// carries an Identity (set by Authenticate) is left as it is.
func Session(next http.Handler) http.Handler {
	return SessionWith(SessionOptions{})(next)
}

// SessionOptions configures SessionWith. The zero value is Session's.
type SessionOptions struct {
	CookieName string // default "lt_session", as lt's own
	// Secure forces the cookie's Secure flag, for TLS terminated at a
	// proxy; under direct TLS it is set anyway.
	Secure bool
	// Secret signs the cookie, so that only session ids this app issued
	// are accepted (see lt.WithSecret): give every instance of the app,
	// and lt.WithSecret, the same one. Without it a key made at start
	// signs them, and sessions do not survive a restart or cross
	// instances. PreviousSecrets are still accepted while Secret is
	// rotated.
	Secret          []byte
	PreviousSecrets [][]byte
}

// SessionWith is Session with options.
func SessionWith(o SessionOptions) func(http.Handler) http.Handler {
	s := sessioncookie.NewSigner(o.Secret, o.PreviousSecrets...)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, ok := lt.IdentityFrom(r.Context()); !ok {
				id, issued := s.Ensure(w, r, o.CookieName, o.Secure)
				ctx := lt.WithIdentity(r.Context(), lt.AnonymousIdentity(id))
				if issued {
					ctx = sessioncookie.MarkIssued(ctx) // a session with nothing on the server yet
				}
				r = r.WithContext(ctx)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// Authenticate identifies the request with a; a request a cannot identify
// is answered 401 with the error's text. An anonymous result (an empty
// Identity) passes on without an Identity, so that Session, placed after
// Authenticate, can give it an anonymous one.
func Authenticate(a lt.Authenticator) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id, err := a.Identify(r)
			if err != nil {
				http.Error(w, err.Error(), http.StatusUnauthorized)
				return
			}
			if id != (lt.Identity{}) {
				r = r.WithContext(lt.WithIdentity(r.Context(), id))
			}
			next.ServeHTTP(w, r)
		})
	}
}
