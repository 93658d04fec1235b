// Package timer holds the TimerController of the Server Actions document.
package timer

import (
	"context"
	"sync"
	"time"

	"github.com/livesse/livesse/lt"
)

// Doc: "Access the Session through the OnConnect lifecycle method on your
// controller" shows TimerController, OnConnect and OnDisconnect; the next
// block (under "Context (ctx):") repeats them verbatim and completes the
// controller. This file holds that complete second block, which therefore
// covers the first one too.

type TimerState struct {
	Seconds int
}

type TimerController struct {
	session lt.Session
	mu      sync.Mutex
}

func (c *TimerController) OnConnect(state TimerState, ctx *lt.Context) (TimerState, error) {
	c.mu.Lock()
	c.session = ctx.Session()
	c.mu.Unlock()
	// Start background timer
	go c.runTimer(ctx)
	return state, nil
}

func (c *TimerController) OnDisconnect() {
	c.mu.Lock()
	c.session = nil
	c.mu.Unlock()
}

func (c *TimerController) runTimer(ctx context.Context) {
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return // Connection closed
		case <-ticker.C:
			c.mu.Lock()
			session := c.session
			c.mu.Unlock()
			if session != nil {
				session.TriggerAction("tick", nil)
			}
		}
	}
}

func (c *TimerController) Tick(state TimerState, ctx *lt.Context) (TimerState, error) {
	state.Seconds++
	return state, nil
}

func (c *TimerController) Reset(state TimerState, ctx *lt.Context) (TimerState, error) {
	state.Seconds = 0
	return state, nil
}
