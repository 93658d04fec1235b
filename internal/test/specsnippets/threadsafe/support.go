package threadsafe

import "github.com/livesse/livesse/lt"

// State counts the updates applied.
type State struct {
	Update1s, Update2s int // "update1" and "update2", from triggerConcurrently
	Updates            int // "update", from triggerFromBackground
}

func (c *Controller) Update1(state State, ctx *lt.Context) (State, error) {
	state.Update1s++
	return state, nil
}

func (c *Controller) Update2(state State, ctx *lt.Context) (State, error) {
	state.Update2s++
	return state, nil
}

func (c *Controller) Update(state State, ctx *lt.Context) (State, error) {
	state.Updates++
	return state, nil
}

// Burst runs the doc's concurrent fragment n times (ctx "n") with the
// session stored in OnConnect: 2n goroutines call TriggerAction at once.
func (c *Controller) Burst(state State, ctx *lt.Context) (State, error) {
	c.mu.Lock()
	session := c.session
	c.mu.Unlock()
	for range ctx.GetInt("n") {
		triggerConcurrently(session)
	}
	return state, nil
}

// Background starts the doc's triggerFromBackground on a goroutine of its
// own, as a background job would.
func (c *Controller) Background(state State, ctx *lt.Context) (State, error) {
	go c.triggerFromBackground()
	return state, nil
}

// RaceDisconnect starts triggerFromBackground on a goroutine that waits
// for the connection to end, so that it reads the session field just as
// OnDisconnect clears it, with nothing but the mutex ordering the two.
func (c *Controller) RaceDisconnect(state State, ctx *lt.Context) (State, error) {
	done := ctx.Done()
	go func() {
		<-done
		c.triggerFromBackground()
	}()
	return state, nil
}
