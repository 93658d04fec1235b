package lt

import (
	"context"
	"net/http"

	"github.com/livesse/livesse/internal/sessioncookie"
)

// Session is a session as seen from server code. TriggerAction runs
// an action, exactly as if a client had sent it, on every connection of the
// group (every tab of the browser, or every device of a logged-in user) and
// pushes the result to each. It is safe for concurrent use from any
// goroutine and never blocks on slow clients. It returns an error when the
// action does not exist (ErrUnknownAction), the handler is closed
// (ErrClosed), some connection has more work queued than lt accepts
// (ErrQueueFull: those connections end once their queued work is done and
// their tabs mount afresh, so no tab goes on from a state that missed the
// action), or the other instances could not be told. data must not be
// modified after the call.
type Session interface {
	TriggerAction(action string, data map[string]any) error
}

// Identity says who a request is for. SessionID is the session: the
// set of connections that TriggerAction reaches together and that get Sync
// after a client action in one of them.
type Identity struct {
	UserID    string `json:"u,omitempty"` // "" for an anonymous visitor
	SessionID string `json:"g,omitempty"` // defaults to the user (or, if anonymous, the session cookie)
}

// Authenticator maps a request to an Identity for logged-in apps. Return an
// empty Identity for an anonymous visitor (lt then uses its session
// cookie); an Identity with only UserID puts all of that user's connections
// in one session. An error answers 401 with the error's text.
type Authenticator interface {
	Identify(r *http.Request) (Identity, error)
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(r *http.Request) (Identity, error)

// Identify calls f(r).
func (f AuthenticatorFunc) Identify(r *http.Request) (Identity, error) { return f(r) }

type identityKey struct{}

// WithIdentity returns a copy of ctx carrying id. Middleware that knows who
// the request is for (package middleware, or your own) stores it here and
// every lt Handler below uses it instead of its own session cookie.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// IdentityFrom returns the Identity stored by WithIdentity.
func IdentityFrom(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}

// normalized fills the defaults: a user's group is the user.
func (id Identity) normalized() Identity {
	if id.SessionID == "" && id.UserID != "" {
		id.SessionID = "user:" + id.UserID
	}
	return id
}

// AnonymousIdentity is the Identity of an anonymous browser session with the
// given session id (or the session cookie's value, which carries the id
// and its signature); lt and package middleware use it so that both put
// the same browser in the same session. The session id holds the id but not
// the signature, so knowing it does not let anyone make the cookie.
func AnonymousIdentity(sessionID string) Identity {
	return Identity{SessionID: "anon:" + sessioncookie.ID(sessionID)}
}

// groupSession is the Session handed to controllers.
type groupSession struct {
	h     *Handler
	group string
}

func (s groupSession) TriggerAction(action string, data map[string]any) error {
	return s.h.TriggerSession(context.Background(), s.group, action, data)
}
