package webhook

import (
	"sync"

	"github.com/livesse/livesse/lt"
)

// WebhookPayload is what the external service posts.
type WebhookPayload struct {
	UserID  string `json:"user_id"`
	Message string `json:"message"`
}

// sessions holds each logged-in user's Session, stored during OnConnect
// and dropped when the user's last connection ends.
var sessions = struct {
	sync.Mutex
	byUser map[string]*userSessions
}{byUser: map[string]*userSessions{}}

type userSessions struct {
	session lt.Session
	conns   int
}

// getUserSession returns the Session of a connected user, or nil.
func getUserSession(userID string) lt.Session {
	sessions.Lock()
	defer sessions.Unlock()
	if us := sessions.byUser[userID]; us != nil {
		return us.session
	}
	return nil
}

// InboxState is the page's state: the notifications received.
type InboxState struct {
	Notifications []string
}

// InboxController stores the user's Session during OnConnect, for the
// webhook handler, and shows notifications.
type InboxController struct {
	userID string
}

func (c *InboxController) OnConnect(state InboxState, ctx *lt.Context) (InboxState, error) {
	c.userID = ctx.UserID()
	if c.userID == "" {
		return state, nil // anonymous: nothing to notify
	}
	sessions.Lock()
	defer sessions.Unlock()
	us := sessions.byUser[c.userID]
	if us == nil {
		us = &userSessions{session: ctx.Session()}
		sessions.byUser[c.userID] = us
	}
	us.conns++
	return state, nil
}

func (c *InboxController) OnDisconnect() {
	if c.userID == "" {
		return
	}
	sessions.Lock()
	defer sessions.Unlock()
	if us := sessions.byUser[c.userID]; us != nil {
		if us.conns--; us.conns == 0 {
			delete(sessions.byUser, c.userID)
		}
	}
}

// Notification is the action the webhook triggers.
func (c *InboxController) Notification(state InboxState, ctx *lt.Context) (InboxState, error) {
	state.Notifications = append(state.Notifications, ctx.GetString("type")+": "+ctx.GetString("message"))
	return state, nil
}

// Ping does nothing. A tab's action runs after its connection's OnConnect,
// so when a Ping returns, the session is stored.
func (c *InboxController) Ping(state InboxState, ctx *lt.Context) (InboxState, error) {
	return state, nil
}
