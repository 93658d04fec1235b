package lt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// MessageVersion is the version of the JSON form of a Message (its "lt"
// key). An instance refuses a message of a later version, so upgrade
// every instance before one sends a new version.
const MessageVersion = 1

// ErrBadMessage is wrapped by the errors of ServerAction and of
// Message.UnmarshalJSON: a message that is malformed, of a later
// MessageVersion, or of a kind lt does not send.
var ErrBadMessage = errors.New("lt: bad message")

// Bounds of a message's names; longer ones are refused.
const (
	maxMessagePage   = 128
	maxMessageAction = 128
	maxMessageTarget = 512
)

// Message is work that one instance of an app sends to the others: a
// server action, a Sync after a client action, an action POST that
// reached the instance which does not hold its connection, a close. Its
// content is lt's own; a Broadcaster carries it as its JSON form
// (MarshalJSON, UnmarshalJSON, versioned by MessageVersion) and routes it
// by To. Apps make one with ServerAction, to publish it from a database
// transaction (pgnotify's PublishTx); the zero Message carries nothing
// and is refused by Publish.
//
// Data crosses as JSON, so numbers arrive as float64 (Context.GetInt and
// Bind convert).
type Message struct{ m message }

// ServerAction returns the Message that runs action with data, as a
// server action, on every connection of page's Handlers (kind ToAll,
// target ""), of the session target (ToSession) or of the user
// target (ToUser) on the instances that receive it: what TriggerAll,
// TriggerSession and TriggerUser send to the other instances. page is the
// Handler's name (WithName), or "" for every page that has the action.
// It returns an error wrapping ErrBadMessage for another kind, a missing
// or unexpected target, no action, or a name over its bound (128 bytes
// for page and action, 512 for target).
func ServerAction(page string, kind Kind, target, action string, data map[string]any) (Message, error) {
	m := message{Page: page, Kind: kind, Target: target, Action: action, Data: data}
	if kind != ToAll && kind != ToSession && kind != ToUser {
		return Message{}, fmt.Errorf("%w: kind %q: a server action goes to all, a group or a user", ErrBadMessage, clip(string(kind), 32))
	}
	if kind == ToAll && target != "" {
		return Message{}, fmt.Errorf("%w: kind all takes no target", ErrBadMessage)
	}
	if err := m.check(); err != nil {
		return Message{}, err
	}
	return Message{m}, nil
}

// To is the one instance m is for (an action POST goes to the instance
// that holds its connection), or "" for every instance.
func (m Message) To() string { return m.m.To }

// From is the instance that sent m, as its Broadcaster delivered it:
// the "i" key of the JSON it was decoded from. It is "" for a message
// made here (ServerAction) and for one from SQL.
func (m Message) From() string { return m.m.Instance }

// String describes m for logs and errors: its action (or what it does
// instead), its kind and its target. It never shows data.
func (m Message) String() string {
	what := m.m.Action
	switch {
	case m.m.Close:
		what = "close"
	case m.m.Sync:
		what = "sync after " + what
	}
	kind := string(m.m.Kind)
	switch m.m.Kind {
	case ToSession:
		kind = "session" // the wire's "group"
	case toConn:
		kind = "connection"
	}
	if m.m.Target == "" {
		return fmt.Sprintf("%s to %s", clip(what, maxShownName), kind)
	}
	return fmt.Sprintf("%s to %s %q", clip(what, maxShownName), kind, clip(m.m.Target, maxShownName))
}

// MarshalJSON returns the JSON form of m, or an error wrapping
// ErrBadMessage for a message UnmarshalJSON would refuse (the zero
// Message among them). The form is an object of short keys,
// "lt" its MessageVersion, never "i" (the sender is the Broadcaster's to
// say). A Broadcaster may add keys of its own beside them, two letters
// or fewer and not lt's ("v", "e", "r", "bc" and "ev" are pgnotify's).
func (m Message) MarshalJSON() ([]byte, error) {
	if err := m.m.check(); err != nil {
		return nil, err // what the receivers would refuse
	}
	w := m.m
	w.Instance = ""
	w.Version = MessageVersion
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(w); err != nil {
		return nil, fmt.Errorf("lt: encoding a message: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// UnmarshalJSON decodes the JSON form of a Message (keys of a
// Broadcaster's own are ignored, an "i" key is its sender, see From) and
// checks it: every error wraps ErrBadMessage. Whatever it accepts may
// still be dropped by the Handler that receives it (an action or
// connection it does not know), with a log line.
func (m *Message) UnmarshalJSON(b []byte) error {
	var w message
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	if w.Version > MessageVersion {
		return fmt.Errorf("%w: version %d, this instance reads %d: upgrade it", ErrBadMessage, w.Version, MessageVersion)
	}
	if w.Instance != "" && !ValidInstance(w.Instance) {
		return fmt.Errorf("%w: sender %q is not an instance id", ErrBadMessage, clip(w.Instance, 64))
	}
	if err := w.check(); err != nil {
		return err
	}
	w.Version = 0
	m.m = w
	return nil
}

// message is what a Message carries. Its JSON keys are its wire form.
type message struct {
	Version  int            `json:"lt,omitempty"` // MessageVersion; absent (0) from lt before versions, read as 1
	Instance string         `json:"i,omitempty"`  // the sending instance, set by the Broadcaster that delivered it
	Page     string         `json:"p"`            // the Handler's name (WithName); "" for every page that has Action
	Kind     Kind           `json:"k"`            // group, user, all or conn
	Target   string         `json:"t"`            // the group id, user id or connection id
	Action   string         `json:"a"`            // wire name of the action
	Data     map[string]any `json:"d,omitempty"`  // the action's data
	// Except is a connection the message must skip (the tab whose action
	// caused a Sync or BroadcastAction).
	Except string `json:"x,omitempty"`
	// Sync runs the controller's Sync method (after a client action in
	// another tab) instead of Action, which then names the action that was
	// run there.
	Sync bool `json:"s,omitempty"`
	// Identity is the requester of a forwarded action (kind conn); the
	// instance that holds the connection checks it owns it.
	Identity *Identity `json:"id,omitempty"`
	// FromBroadcast marks an action sent by BroadcastAction: running it, a
	// connection cannot broadcast again, which would echo forever.
	FromBroadcast bool `json:"b,omitempty"`
	// Close ends the target connections (CloseSession, CloseUser, or, with
	// kind conn, the connection of a tab that left, whose beacon reached
	// another instance) instead of running an action; Action is empty.
	Close bool `json:"z,omitempty"`
	// To is the one instance the message is for, "" for every instance: a
	// forwarded POST goes to the instance that holds its connection.
	To string `json:"to,omitempty"`
	// Request is the action POST a message of kind conn carries: the
	// instance holding the connection runs it as that client's action,
	// with the same request data (Context.Request, Context.FromClient) as
	// on the instance that received it.
	Request *forwardedRequest `json:"rq,omitempty"`
	// Trace is the trace context of the work that sent the message (see
	// Tracer), so that the receiving instance's spans continue its trace.
	Trace map[string]string `json:"tc,omitempty"`
}

// check refuses what no instance of lt sends: it is what a Broadcaster
// can check without knowing the app (the receiving Handler checks
// pages, actions, connections and identities).
func (m *message) check() error {
	if m.To != "" && !ValidInstance(m.To) {
		return fmt.Errorf("%w: recipient %q is not an instance id", ErrBadMessage, clip(m.To, 64))
	}
	switch m.Kind {
	case ToSession, ToUser, toConn:
		if m.Target == "" {
			return fmt.Errorf("%w: kind %s without a target", ErrBadMessage, m.Kind)
		}
	case ToAll:
	default:
		return fmt.Errorf("%w: unknown kind %q", ErrBadMessage, clip(string(m.Kind), 32))
	}
	switch {
	case m.Close && (m.Action != "" || m.Request != nil):
		return fmt.Errorf("%w: a close names no action and no request", ErrBadMessage)
	case m.Close && m.Kind == toConn && (m.Identity == nil || m.To == ""):
		return fmt.Errorf("%w: a close of a connection (a tab that left) names the requester and the instance", ErrBadMessage)
	case m.Close && m.Kind != ToSession && m.Kind != ToUser && m.Kind != toConn:
		return fmt.Errorf("%w: a close names a group, a user or a connection", ErrBadMessage)
	case m.Action == "" && !m.Close:
		return fmt.Errorf("%w: no action", ErrBadMessage)
	case m.Request != nil && m.Kind != toConn:
		return fmt.Errorf("%w: a forwarded request goes to a connection", ErrBadMessage)
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{
		{"page", m.Page, maxMessagePage},
		{"action", m.Action, maxMessageAction},
		{"target", m.Target, maxMessageTarget},
		{"except", m.Except, maxMessageTarget},
	} {
		if len(f.v) > f.max {
			return fmt.Errorf("%w: %s of %d bytes, over %d", ErrBadMessage, f.name, len(f.v), f.max)
		}
	}
	if id := m.Identity; id != nil {
		if len(id.UserID) > maxMessageTarget {
			return fmt.Errorf("%w: identity user of %d bytes, over %d", ErrBadMessage, len(id.UserID), maxMessageTarget)
		}
		if len(id.SessionID) > maxMessageTarget {
			return fmt.Errorf("%w: identity group of %d bytes, over %d", ErrBadMessage, len(id.SessionID), maxMessageTarget)
		}
	}
	return nil
}

// forwardedRequest is what travels of an action POST that reached an
// instance which does not hold its connection. Only authenticated
// instances can send one (a Broadcaster must make sure of that): the
// receiver trusts it as the POST it forwards.
type forwardedRequest struct {
	Method     string      `json:"m"`
	URL        string      `json:"u"` // the request URI: path and query
	Host       string      `json:"h,omitempty"`
	RemoteAddr string      `json:"ra,omitempty"`
	TLS        bool        `json:"tls,omitempty"` // it came over TLS
	Header     http.Header `json:"hd,omitempty"`
	Form       url.Values  `json:"f,omitempty"` // the form values, files left out
}
