package registry

import "github.com/livesse/livesse/lt"

// State is the page's state: the notifications received.
type State struct {
	Notifications []string
}

// Controller has the two fields the snippet uses.
type Controller struct {
	session lt.Session
	userID  string
}

// Mount records the user of the connection in c.userID, which the snippet's
// OnDisconnect deletes from the registry but never sets. (Mount runs on the
// same per-connection controller copy as OnConnect and OnDisconnect.)
func (c *Controller) Mount(state State, ctx *lt.Context) (State, error) {
	c.userID = ctx.UserID()
	return state, nil
}

// Notification is the action NotifyUser triggers.
func (c *Controller) Notification(state State, ctx *lt.Context) (State, error) {
	state.Notifications = append(state.Notifications, ctx.GetString("message"))
	return state, nil
}

// Ping does nothing. A tab's action runs after its connection's OnConnect,
// so when a Ping returns, the session is in the registry.
func (c *Controller) Ping(state State, ctx *lt.Context) (State, error) {
	return state, nil
}
