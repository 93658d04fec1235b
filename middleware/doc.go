// Package middleware holds chi-style middleware (func(http.Handler)
// http.Handler) for apps with live pages: the session-group cookie, an
// Authenticator adapter, and the cross-site request check. Use them in your
// own r.Group or r.Route around lt handlers and the other routes that share
// their sessions; lt stays safe without them.
package middleware
