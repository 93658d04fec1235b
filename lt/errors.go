package lt

import "errors"

// Sentinel errors. Errors returned by lt wrap one of these, so callers can
// test with errors.Is and still read a message that says what went wrong.
var (
	// ErrBadController: the controller or state given to New cannot work
	// (not a pointer to a struct, an action with the wrong signature, two
	// methods with one wire name).
	ErrBadController = errors.New("lt: bad controller")
	// ErrUnknownAction: the name does not map to an action method, or names
	// a lifecycle method, which is never callable as an action.
	ErrUnknownAction = errors.New("lt: unknown action")
	// ErrActionPanic: an action or lifecycle method panicked; lt recovered.
	ErrActionPanic = errors.New("lt: action panicked")
	// ErrBadRequest: a malformed, oversize or ambiguous action request.
	ErrBadRequest = errors.New("lt: bad request")
	// ErrForeignConnection: a connection id presented by a session that
	// does not own it.
	ErrForeignConnection = errors.New("lt: connection belongs to another session")
	// ErrUnknownConnection: the connection id is not (or no longer) known,
	// e.g. it expired or the server restarted. The client reconnects.
	ErrUnknownConnection = errors.New("lt: unknown or expired connection")
	// ErrQueueFull: a connection has more work waiting than lt accepts; a
	// producer calls TriggerAction far faster than actions complete.
	ErrQueueFull = errors.New("lt: connection work queue full")
	// ErrCrossSite: an action POST from another site (CSRF), refused.
	ErrCrossSite = errors.New("lt: cross-site request refused")
	// ErrTooManyConnections: a client (a session, or a signed-in user)
	// already holds as many live connections or streams as lt allows it
	// (WithClientLimits), or the Handler as many as WithMaxConnections
	// allows, and none of them is idle enough to give way.
	ErrTooManyConnections = errors.New("lt: too many live connections")
	// ErrNoInstance: a message was sent to an instance (Message.To) that is
	// not running, for example a forged or stale connection id.
	ErrNoInstance = errors.New("lt: no live instance has that id")
	// ErrBadURL: a URL given to Context.PushURL or ReplaceURL is not a
	// path of this site (another host, "//x", a backslash, a fragment, a
	// reserved _lt parameter), or PushURL was called where it cannot
	// apply (Mount, Params).
	ErrBadURL = errors.New("lt: bad URL")
	// ErrClosed: the Handler, or the connection, was closed.
	ErrClosed = errors.New("lt: handler closed")
)
