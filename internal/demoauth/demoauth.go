// Package demoauth is the make-believe sign-in shared by the examples
// (chat, notifyuser, webhook, welcome). It is a demo, not real
// authentication: the user name is a plain cookie the visitor chooses, so
// anyone can claim any name, including someone else's. A real application
// verifies who the user is (a password, a single sign-on provider, ...) and
// keeps the result in a signed or server-side session; examples/auth shows
// signed sessions.
package demoauth

import (
	"net/http"
	"regexp"
	"strings"

	"github.com/livesse/livesse/lt"
)

// CookieName is the name of the cookie that holds the user name. Demo only,
// not real authentication: the cookie is neither signed nor verified, so
// anyone can claim any name by setting it.
const CookieName = "user"

// BadName is the message, sent with 400 Bad Request, when a sign-in names
// no valid user.
const BadName = "name: use 1 to 32 letters, digits, '.', '_' or '-'"

var validUser = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,32}$`)

// ValidUser reports whether name is acceptable as a user name: 1 to 32
// ASCII letters, digits, '.', '_' or '-'. It checks the form only; this is
// a demo, not real authentication, and anyone can claim any valid name.
func ValidUser(name string) bool { return validUser.MatchString(name) }

// User returns the user name held by the CookieName cookie of r, and false
// when there is none or it is not a valid name. Demo only, not real
// authentication: the name is whatever the client sent, so anyone can claim
// any name.
func User(r *http.Request) (string, bool) {
	c, err := r.Cookie(CookieName)
	if err != nil || !ValidUser(c.Value) {
		return "", false
	}
	return c.Value, true
}

// Authenticator identifies the user named by the CookieName cookie (an
// Identity with only a UserID, so that all of that user's tabs share one
// session group); without a valid cookie the visitor is anonymous. It is a
// demo, not real authentication: anyone can claim any name by setting the
// cookie.
var Authenticator lt.Authenticator = lt.AuthenticatorFunc(func(r *http.Request) (lt.Identity, error) {
	name, ok := User(r)
	if !ok {
		return lt.Identity{}, nil
	}
	return lt.Identity{UserID: name}, nil
})

// SignIn handles the sign-in form: it sets the CookieName cookie to the
// posted "name" (trimmed) and redirects to "/" with 303 See Other, or
// answers 400 with BadName when the name is not valid. It is a demo, not
// real authentication: there is no password, and anyone can claim any name.
var SignIn http.HandlerFunc = SignInTo(home)

// SignOut clears the CookieName cookie and redirects to "/" with 303 See
// Other. It is part of a demo, not real authentication: anyone can claim
// any name again afterwards.
var SignOut http.HandlerFunc = SignOutTo(home)

// SignInTo is SignIn redirecting to redirect(r) instead of "/"; redirect is
// called after the form is parsed, so it may read r.PostFormValue. It is a
// demo, not real authentication: there is no password, and anyone can claim
// any name.
func SignInTo(redirect func(r *http.Request) string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimSpace(r.PostFormValue("name"))
		if !ValidUser(name) {
			http.Error(w, BadName, http.StatusBadRequest)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: CookieName, Value: name, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
		http.Redirect(w, r, redirect(r), http.StatusSeeOther)
	}
}

// SignOutTo is SignOut redirecting to redirect(r) instead of "/". It is part
// of a demo, not real authentication: anyone can claim any name again
// afterwards.
func SignOutTo(redirect func(r *http.Request) string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: CookieName, Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
		http.Redirect(w, r, redirect(r), http.StatusSeeOther)
	}
}

func home(*http.Request) string { return "/" }
