package pgnotify

import (
	"errors"
	"fmt"
)

var (
	// ErrClosed is returned by a Listener's methods after Close.
	ErrClosed = errors.New("pgnotify: listener closed")
	// ErrInvalidConfig is returned by New and Setup for an option value
	// they cannot use (no secret or a short one, an instance id lt
	// refuses, a channel that is not a plain identifier, a size out of
	// range).
	ErrInvalidConfig = errors.New("pgnotify: invalid configuration")
	// ErrTooLarge is returned by Publish and PublishTx for a message whose
	// envelope exceeds the maximum set with WithMaxMessageBytes.
	ErrTooLarge = errors.New("pgnotify: message too large")
	// ErrBadPayload wraps every reason an authentic notification is
	// refused as bad input: it is not a JSON envelope, a field is missing,
	// too long or of an unknown value. Publish returns it for a message
	// the receivers would refuse.
	ErrBadPayload = errors.New("pgnotify: bad notification payload")
	// ErrUnknownVersion is a payload whose envelope version this package
	// does not speak. It wraps ErrBadPayload.
	ErrUnknownVersion = fmt.Errorf("%w: unknown envelope version", ErrBadPayload)
	// ErrMissingMessage is an authentic notification naming a row of
	// lt_messages that does not exist (any more): the message is lost and
	// the pages resync. It wraps ErrBadPayload.
	ErrMissingMessage = fmt.Errorf("%w: referenced message not found", ErrBadPayload)
)
