// Package welcome holds the "Greet users after page loads" snippet of the
// Server Actions document.
package welcome

import (
	"fmt"
	"time"

	"github.com/livesse/livesse/lt"
)

// Doc: "Greet users after page loads:". AuthController, AuthState and the
// Mount that sets IsLoggedIn are not declared by the snippet; see
// support.go.

func (c *AuthController) OnConnect(state AuthState, ctx *lt.Context) (AuthState, error) {
	c.session = ctx.Session()
	if state.IsLoggedIn {
		// Send welcome after short delay (let page render first)
		go func() {
			time.Sleep(500 * time.Millisecond)
			if c.session != nil {
				c.session.TriggerAction("serverWelcome", map[string]interface{}{
					"message": fmt.Sprintf("Welcome back, %s!", state.Username),
				})
			}
		}()
	}
	return state, nil
}

func (c *AuthController) ServerWelcome(state AuthState, ctx *lt.Context) (AuthState, error) {
	state.WelcomeMessage = ctx.GetString("message")
	return state, nil
}
