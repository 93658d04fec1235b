package main

import (
	"net/http"
	"strings"

	"github.com/livesse/livesse/lt"
)

// The sign-in of this example is make-believe, a demo and not real
// authentication: the user name is a plain cookie the visitor chooses, so
// anyone can claim any name, someone else's included. A real application
// verifies who the user is (a password, a single sign-on provider, ...) and
// keeps the result in a signed or server-side session, as examples/auth
// does.

// userCookie is the cookie that holds the user name, neither signed nor
// verified.
const userCookie = "user"

// badName is the message, with 400 Bad Request, of a sign-in that names no
// valid user.
const badName = "name: use 1 to 32 letters, digits, '.', '_' or '-'"

// validUser reports whether name is a well-formed user name: 1 to 32 ASCII
// letters, digits, '.', '_' or '-'.
func validUser(name string) bool {
	if len(name) < 1 || len(name) > 32 {
		return false
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
		if !ok {
			return false
		}
	}
	return true
}

// signedIn returns the user name the userCookie of r holds, and false
// when there is none or it is not valid.
func signedIn(r *http.Request) (string, bool) {
	c, err := r.Cookie(userCookie)
	if err != nil || !validUser(c.Value) {
		return "", false
	}
	return c.Value, true
}

// authenticate identifies the user the cookie names (an Identity with only
// a UserID, so that all of that user's tabs share one session);
// without a valid cookie the visitor is anonymous.
func authenticate(r *http.Request) (lt.Identity, error) {
	name, ok := signedIn(r)
	if !ok {
		return lt.Identity{}, nil
	}
	return lt.Identity{UserID: name}, nil
}

// signInTo handles the sign-in form: it sets the cookie to the posted
// "name" (trimmed) and redirects to redirect(r) with 303 See Other, or
// answers 400 with badName when the name is not valid. redirect is called
// after the form is parsed, so it may read r.PostFormValue.
func signInTo(redirect func(r *http.Request) string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimSpace(r.PostFormValue("name"))
		if !validUser(name) {
			http.Error(w, badName, http.StatusBadRequest)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: userCookie, Value: name, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
		http.Redirect(w, r, redirect(r), http.StatusSeeOther)
	}
}

// signOutTo clears the cookie and redirects to redirect(r) with 303 See
// Other.
func signOutTo(redirect func(r *http.Request) string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: userCookie, Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
		http.Redirect(w, r, redirect(r), http.StatusSeeOther)
	}
}

// home is where signing in or out leads.
func home(*http.Request) string { return "/" }
