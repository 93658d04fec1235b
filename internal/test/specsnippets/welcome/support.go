package welcome

import "github.com/livesse/livesse/lt"

// AuthState is the page's state: who is logged in, and the welcome.
type AuthState struct {
	IsLoggedIn     bool
	Username       string
	WelcomeMessage string
}

// AuthController is the snippet's controller. It has no OnDisconnect: the
// snippet's welcome goroutine reads c.session without a lock, so clearing
// it on disconnect would be a data race.
type AuthController struct {
	session lt.Session
}

// Mount fills in the logged-in user from the Identity the Authenticator
// (lt.WithAuthenticator) gave the request. A page load starts without a
// welcome (lt starts it from the session's last state, which may hold
// an earlier one): the welcome is the server's to send after connect.
func (c *AuthController) Mount(state AuthState, ctx *lt.Context) (AuthState, error) {
	state.WelcomeMessage = ""
	state.Username = ctx.UserID()
	state.IsLoggedIn = state.Username != ""
	return state, nil
}
