// Package periodic holds the "Periodic updates" snippet of the Server
// Actions document.
package periodic

import (
	"context"
	"time"

	"github.com/livesse/livesse/lt"
)

// Doc: "Periodic updates (dashboards, live data, countdowns):". Controller,
// State and fetchLatestData are not declared by the snippet; see support.go.

func (c *Controller) OnConnect(state State, ctx *lt.Context) (State, error) {
	c.session = ctx.Session()
	go c.runTicker(ctx)
	return state, nil
}

func (c *Controller) runTicker(ctx context.Context) {
	ticker := time.NewTicker(5 * time.Second)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			if c.session != nil {
				c.session.TriggerAction("refresh", nil)
			}
		}
	}
}

func (c *Controller) Refresh(state State, ctx *lt.Context) (State, error) {
	state.Data = c.fetchLatestData()
	return state, nil
}
