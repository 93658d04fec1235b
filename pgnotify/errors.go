package pgnotify

import (
	"errors"
	"fmt"
)

var (
	// ErrClosed is returned by a Listener's methods after Close.
	ErrClosed = errors.New("pgnotify: listener closed")
	// ErrInvalidConfig is returned by New and Setup for an option value
	// they cannot use (an instance id lt refuses, a channel that is not a
	// plain identifier, a size out of range).
	ErrInvalidConfig = errors.New("pgnotify: invalid configuration")
	// ErrTooLarge is returned by Publish and PublishTx for a message whose
	// envelope exceeds the maximum set with WithMaxMessageBytes.
	ErrTooLarge = errors.New("pgnotify: message too large")
	// ErrBadPayload wraps every reason a notification is refused: it is
	// not a JSON envelope, a field is missing, too long or of an unknown
	// value, or its referenced row is gone.
	ErrBadPayload = errors.New("pgnotify: bad notification payload")
	// ErrUnknownVersion is a payload whose envelope version this package
	// does not speak. It wraps ErrBadPayload.
	ErrUnknownVersion = fmt.Errorf("%w: unknown envelope version", ErrBadPayload)
	// ErrMissingMessage is a payload referring to a row of lt_messages
	// that does not exist (any more). It wraps ErrBadPayload.
	ErrMissingMessage = fmt.Errorf("%w: referenced message not found", ErrBadPayload)
)
