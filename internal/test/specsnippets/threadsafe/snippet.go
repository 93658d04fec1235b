// Package threadsafe holds the thread-safety snippets of the Server Actions
// document.
package threadsafe

import (
	"sync"

	"github.com/livesse/livesse/lt"
)

// Doc: "Session methods are thread-safe and can be called from any
// goroutine:". The block is two bare statements using a variable session;
// this function only supplies that variable.
func triggerConcurrently(session lt.Session) {
	// Safe: Multiple goroutines using session concurrently
	go func() { session.TriggerAction("update1", nil) }()
	go func() { session.TriggerAction("update2", nil) }()
}

// Doc: "However, you must protect access to the session field itself:".
// State and the update actions are not declared by the snippet; see
// support.go.

type Controller struct {
	session lt.Session
	mu      sync.Mutex
}

func (c *Controller) OnConnect(state State, ctx *lt.Context) (State, error) {
	c.mu.Lock()
	c.session = ctx.Session()
	c.mu.Unlock()
	return state, nil
}

func (c *Controller) OnDisconnect() {
	c.mu.Lock()
	c.session = nil
	c.mu.Unlock()
}

func (c *Controller) triggerFromBackground() {
	c.mu.Lock()
	session := c.session
	c.mu.Unlock()
	if session != nil {
		session.TriggerAction("update", nil)
	}
}
