// Package sessioninterface holds the first two code blocks of the Server
// Actions document: a TriggerAction call and the Session interface.
package sessioninterface

import "github.com/livesse/livesse/lt"

// Doc: introduction, first code block, after "Server actions use the Session
// interface to trigger updates:". The block is a bare statement using a
// variable session; this function only supplies that variable.
func notifyExportReady(session lt.Session) {
	// From any goroutine - timer, webhook handler, background job
	session.TriggerAction("notification", map[string]interface{}{
		"message": "Your export is ready!",
	})
}

// Doc: introduction, second code block (type Session interface). Declared
// here under its own name; support.go shows it has exactly lt.Session's
// method set.
type Session interface {
	// TriggerAction dispatches the action to the controller,
	// then sends the updated template to ALL connections for this user.
	TriggerAction(action string, data map[string]interface{}) error
}
