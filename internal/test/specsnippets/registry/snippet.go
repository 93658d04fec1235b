// Package registry holds the global session registry snippet of the Server
// Actions document.
package registry

import (
	"sync"

	"github.com/livesse/livesse/lt"
)

// Doc: "Push notifications from any part of your application:". Controller
// and State are not declared by the snippet; see support.go. Note that
// the snippet's OnDisconnect deletes c.userID, a field the snippet never
// sets; support.go's Mount sets it.

// Global session registry (thread-safe)
var userSessions = sync.Map{}

func (c *Controller) OnConnect(state State, ctx *lt.Context) (State, error) {
	c.session = ctx.Session()
	userSessions.Store(ctx.UserID(), c.session)
	return state, nil
}

func (c *Controller) OnDisconnect() {
	userSessions.Delete(c.userID)
	c.session = nil
}

// Call from anywhere in your application
func NotifyUser(userID string, message string) {
	if session, ok := userSessions.Load(userID); ok {
		session.(lt.Session).TriggerAction("notification", map[string]interface{}{
			"message": message,
		})
	}
}
