package lt

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"
)

// Context is what lt passes to actions and lifecycle methods. It embeds a
// context.Context, so it can be handed to anything that takes one: for an
// action or lifecycle method of a live connection it is done when that
// connection ends for good; for a request without a live connection (a
// plain form POST with JavaScript off, a page GET) it is the request's.
//
// A Context is valid only during the call it was passed to (lt reuses it
// for the connection's next call); keep what you need from it (Session,
// UserID), not the Context itself, except as a context.Context to stop
// background work when the connection ends: that part never changes.
type Context struct {
	context.Context

	// What changes from call to call comes first, together (a connection
	// reuses its Context for every job).
	action string
	data   map[string]any
	req    *http.Request
	client bool // the call is a client's action
	// h and bs collect BroadcastAction calls; they run after the current
	// method returns so that they never wait for themselves. Without h,
	// BroadcastAction triggers at once.
	bs      []broadcast
	flash   []Flash    // Flash, until the call ends (outcome)
	events  []byte     // PushEvent's, until the call ends (outcome)
	lists   *listCall  // List operations, until the call ends (outcome, list.go)
	nav     navigation // PushURL's and ReplaceURL's request (navigate.go)
	h       *Handler
	params  map[string]string
	url     string // the tab's URL, path and query (URL, navigate.go)
	id      Identity
	session Session
}

// Action is the wire name of the action being run ("increment"), or the
// action that caused a Sync. It is empty in Mount, Params and OnConnect.
func (c *Context) Action() string { return c.action }

// UserID is the id the Authenticator gave the user, or "" for an
// anonymous session.
func (c *Context) UserID() string { return c.id.UserID }

// SessionID is the session of this connection: every tab of an
// anonymous browser session, or every device of a logged-in user, unless
// the Authenticator groups them otherwise.
func (c *Context) SessionID() string { return c.id.SessionID }

// Session returns the session of this connection. Its TriggerAction
// reaches every connection of the session; it is safe to keep and to use
// from any goroutine after this call returns.
func (c *Context) Session() Session { return c.session }

// BroadcastAction runs action with data on every other connection of this
// session (the other tabs), after the current method returns. Use it
// for explicit cross-tab updates when the controller has no Sync method.
func (c *Context) BroadcastAction(action string, data map[string]any) error {
	if c.h == nil {
		return c.session.TriggerAction(action, data)
	}
	if _, err := c.h.ct.lookup(action); err != nil {
		return err
	}
	c.bs = append(c.bs, broadcast{action, data})
	return nil
}

// FromClient reports whether a client caused this call: the method is an
// action that a browser posted (live, or as a plain form without
// JavaScript), on this instance or on another that forwarded the POST
// here. It is false for server actions (TriggerAction, TriggerSession,
// TriggerUser, TriggerAll, lt_notify from SQL, BroadcastAction) and for
// lifecycle methods (Mount, OnConnect, Sync). An action meant for the
// server alone refuses client calls with it:
//
//	if ctx.FromClient() {
//		return s, lt.UserError("this is sent by the server")
//	}
//
// Every instance knows it truthfully: forwarded POSTs travel marked as
// client actions in messages only instances with the app's secret can
// make.
func (c *Context) FromClient() bool { return c.client }

// Request is the HTTP request of a client's action (see FromClient; for a
// POST another instance forwarded, a copy of that POST with its method,
// URL, Host, RemoteAddr, headers and form, and no body), of the page GET
// that runs Mount and Params, or of the POST of a tab whose URL changed,
// which runs Params (navigate.go). It is nil for server actions and lifecycle calls that
// no request caused. Do not keep it past the call. Whether a client caused
// the call is FromClient's answer, not whether Request is nil.
func (c *Context) Request() *http.Request { return c.req }

// URLParam returns a path parameter of the page's route ("{id}" in chi's
// pattern, or in net/http.ServeMux's, or any router's that sets
// r.Pattern and r.SetPathValue as ServeMux does). It works in every
// method, also when no request is at hand: the parameters are captured
// when the connection is created.
func (c *Context) URLParam(key string) string { return c.params[key] }

// Has reports whether the action's data has key.
func (c *Context) Has(key string) bool {
	_, ok := c.data[key]
	return ok
}

// Get returns the raw value of key: a string or []string from a form, or
// whatever the caller of TriggerAction put in the map. nil when absent.
func (c *Context) Get(key string) any { return c.data[key] }

// Data returns a copy of all of the action's data.
func (c *Context) Data() map[string]any { return maps.Clone(c.data) }

// GetString returns key as a string: a form value as sent (the first of
// several), other values formatted with fmt. "" when absent.
func (c *Context) GetString(key string) string {
	switch v := c.data[key].(type) {
	case nil:
		return ""
	case string:
		return v
	case []string:
		if len(v) > 0 {
			return v[0]
		}
		return ""
	default:
		return fmt.Sprint(v)
	}
}

// GetInt returns key as an int, parsing strings ("42", " 7 ") and
// converting numbers (a float64 from JSON is truncated). 0 when absent or
// not a number; use Bind to get an error instead.
func (c *Context) GetInt(key string) int {
	n, _ := toInt(c.data[key])
	return n
}

// GetFloat returns key as a float64. 0 when absent or not a number.
func (c *Context) GetFloat(key string) float64 {
	f, _ := toFloat(c.data[key])
	return f
}

// GetBool returns key as a bool: true for a bool true and for the strings
// "true", "1", "on", "yes" (what a checked checkbox sends), false otherwise.
func (c *Context) GetBool(key string) bool {
	b, _ := toBool(c.data[key])
	return b
}

func first(v any) any {
	if s, ok := v.([]string); ok {
		if len(s) == 0 {
			return nil
		}
		return s[0]
	}
	return v
}

func toInt(v any) (int, error) {
	switch v := first(v).(type) {
	case int:
		return v, nil
	case int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return strconv.Atoi(fmt.Sprint(v))
	case float32:
		return int(v), nil
	case float64:
		return int(v), nil
	case string:
		return strconv.Atoi(strings.TrimSpace(v))
	case nil:
		return 0, fmt.Errorf("missing")
	default:
		return 0, fmt.Errorf("%T is not a number", v)
	}
}

func toFloat(v any) (float64, error) {
	switch v := first(v).(type) {
	case float64:
		return v, nil
	case float32:
		return float64(v), nil
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return strconv.ParseFloat(fmt.Sprint(v), 64)
	case string:
		return strconv.ParseFloat(strings.TrimSpace(v), 64)
	case nil:
		return 0, fmt.Errorf("missing")
	default:
		return 0, fmt.Errorf("%T is not a number", v)
	}
}

func toBool(v any) (bool, error) {
	switch v := first(v).(type) {
	case bool:
		return v, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true", "1", "on", "yes":
			return true, nil
		case "false", "0", "off", "no", "":
			return false, nil
		}
		return false, fmt.Errorf("%q is not a boolean", v)
	case nil:
		return false, nil
	default:
		return false, fmt.Errorf("%T is not a boolean", v)
	}
}
