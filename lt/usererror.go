package lt

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"unicode/utf8"

	chimw "github.com/go-chi/chi/v5/middleware"
)

// UserError returns an error whose message is meant for the user: an
// action or lifecycle method that returns it shows msg in {{ltError}} and
// in the POST's answer, and a Mount that returns it shows msg on the
// error page. Any other error is treated as internal: lt logs it in full
// at Error level, with a reference, and shows the user only a generic
// message carrying that reference, so that a database's or a panic's
// text never reaches a browser.
//
// An error type of your own can be shown the same way: give it a
// UserMessage() string method (errors.As finds it anywhere in the chain).
func UserError(msg string) error { return &userError{msg: msg} }

type userError struct{ msg string }

func (e *userError) Error() string       { return e.msg }
func (e *userError) UserMessage() string { return e.msg }

// userMessage returns the message err carries for the user, if any.
func userMessage(err error) (string, bool) {
	var um interface{ UserMessage() string }
	if errors.As(err, &um) {
		return um.UserMessage(), true
	}
	return "", false
}

// genericMessage is what a user sees of an internal error, with a
// reference that finds its log line.
const genericMessage = "Something went wrong; please try again"

// panicError is a recovered panic, with the stack where it happened.
type panicError struct {
	method string
	value  any
	stack  []byte
}

func (e *panicError) Error() string {
	return fmt.Sprintf("%v: %s panicked: %v", ErrActionPanic, e.method, e.value)
}

func (e *panicError) Unwrap() error { return ErrActionPanic }

// shownError returns what the user sees of err, the error of an action or
// lifecycle method, and logs it: a UserError at Debug (it is an answer,
// not a fault), anything else at Error with its reference (the request's
// id, else a new one) and, for a panic, the stack.
func (h *Handler) shownError(ctx context.Context, err error, r *http.Request, attrs ...any) string {
	if msg, ok := userMessage(err); ok {
		h.log.DebugContext(ctx, "lt: action answered with an error for the user", append(attrs, "err", err)...)
		return msg
	}
	ref := errorRef(r)
	if r != nil {
		if id := chimw.GetReqID(r.Context()); id != "" {
			attrs = append(attrs, "request_id", clip(id, 64)) // attrs name the connection
		}
	}
	attrs = append(attrs, "ref", ref, "err", err)
	if pe := (*panicError)(nil); errors.As(err, &pe) {
		attrs = append(attrs, "stack", string(pe.stack))
	}
	h.log.ErrorContext(ctx, "lt: action failed", attrs...)
	if h.opts.dev {
		return devText(err, ref) // WithDevMode
	}
	return genericMessage + " (ref " + ref + ")"
}

// errorRef names an error for the user and the log: the request id that
// chi's RequestID middleware (or a proxy's X-Request-Id) gave r, else a
// random one.
func errorRef(r *http.Request) string {
	if r != nil {
		if id := chimw.GetReqID(r.Context()); id != "" {
			return clip(id, 64)
		}
		if id := r.Header.Get("X-Request-Id"); id != "" {
			return clip(id, 64)
		}
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// requestAttrs are the log attributes that name r: its request id (chi's
// RequestID middleware) and the connection it is for, when it has them.
func requestAttrs(r *http.Request) []any {
	var attrs []any
	if r == nil {
		return nil
	}
	if id := chimw.GetReqID(r.Context()); id != "" {
		attrs = append(attrs, "request_id", clip(id, 64))
	}
	c := r.URL.Query().Get(fieldConn) // a stream's first
	if r.PostForm != nil {
		c = r.PostForm.Get(fieldConn)
	}
	if c != "" {
		attrs = append(attrs, "conn", clip(c, 64))
	}
	return attrs
}

// clip cuts client-supplied text for an error message or a log line.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("…(%d bytes)", len(s))
}

// ownError reports whether err is one of lt's own refusals, whose text
// says what was wrong with the request and is safe to show.
func ownError(err error) bool {
	for _, s := range []error{ErrBadRequest, ErrUnknownAction, ErrForeignConnection, ErrUnknownConnection,
		ErrQueueFull, ErrClosed, ErrCrossSite, ErrTooManyConnections} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// publicText is what a refused request's answer says: a message meant
// for users, lt's own refusal, the status's name for other client errors
// (an Authenticator's, a Mount's 404), and a generic message with ref for
// server errors.
func publicText(err error, status int, ref string) string {
	if msg, ok := userMessage(err); ok {
		return msg
	}
	switch {
	case status >= 500 && !errors.Is(err, ErrClosed) && !errors.Is(err, ErrQueueFull) && !errors.Is(err, ErrTooManyConnections):
		return genericMessage + " (ref " + ref + ")"
	case ownError(err):
		return err.Error()
	default:
		return http.StatusText(status)
	}
}

// logLevel is how loud a refusal is: server errors are errors, bad input
// a warning, and what happens in normal use (an expired connection, a
// page that does not exist, a user who is not signed in) information.
func logLevel(status int, err error) slog.Level {
	switch {
	case errors.Is(err, errMovesAway):
		return slog.LevelDebug // the client's way to learn it must load the page
	case status >= 500 && (errors.Is(err, ErrClosed) || errors.Is(err, ErrTooManyConnections)):
		return slog.LevelWarn
	case status >= 500:
		return slog.LevelError
	case status == http.StatusGone || status == http.StatusNotFound || status == http.StatusUnauthorized:
		return slog.LevelInfo
	}
	return slog.LevelWarn
}

// refusal names why a request was refused, for PageMetrics.Refused.
func refusal(status int, err error) string {
	switch {
	case errors.Is(err, ErrCrossSite):
		return RefusedCrossSite
	case errors.Is(err, ErrUnknownAction):
		return RefusedUnknownAction
	case errors.Is(err, ErrForeignConnection):
		return RefusedForeign
	case errors.Is(err, ErrQueueFull):
		return RefusedQueueFull
	case errors.Is(err, ErrTooManyConnections):
		return RefusedTooMany
	case status == http.StatusUnauthorized:
		return RefusedUnauthorized
	case status == http.StatusRequestEntityTooLarge:
		return RefusedTooLarge
	case status == http.StatusGone:
		return RefusedGone
	case status == http.StatusServiceUnavailable:
		return RefusedUnavailable
	case status >= 500:
		return RefusedInternal
	}
	return RefusedBadRequest
}

// stack returns the current goroutine's stack, for a recovered panic.
func stack() []byte { return debug.Stack() }
