package pgnotify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/livesse/livesse/lt"
)

// EnvelopeVersion is the version of the JSON envelope messages travel in.
// A notification payload is one JSON object:
//
//	{"v":1,"i":"web-1","p":"orders","k":"all","t":"","a":"refresh","d":{...}}
//
// v is the version; e (true) asks the sending instance to apply the
// message too (PublishTx, SQL); the other keys are lt.Message's JSON
// fields: i sender, p page ("" for every page with the action), k kind
// (group, user, conn, all), t target, a action, d data (an object), x a
// connection to skip, s Sync, id the requester of a forwarded action. A
// message too large for NOTIFY travels as {"v":1,"i":"web-1","r":42}: r
// is the id of the row of lt_messages that holds the full envelope.
const EnvelopeVersion = 1

// maxNotifyPayload is PostgreSQL's bound: a payload must be shorter.
const maxNotifyPayload = 8000

// Bounds of an envelope's fields; longer ones are refused.
const (
	maxInstanceLen = 64
	maxPageLen     = 128
	maxActionLen   = 128
	maxTargetLen   = 512
)

// envelope is the wire form of a message.
type envelope struct {
	V    int   `json:"v"`
	Echo bool  `json:"e,omitempty"`
	Ref  int64 `json:"r,omitempty"`
	lt.Message
}

// encode returns the compact JSON of e, without HTML escaping.
func encode(e envelope) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return nil, fmt.Errorf("pgnotify: encoding message: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// decode parses and validates a payload. Every error wraps ErrBadPayload.
func decode(payload []byte) (envelope, error) {
	var e envelope
	if err := json.Unmarshal(payload, &e); err != nil {
		return e, fmt.Errorf("%w: %v", ErrBadPayload, err)
	}
	return e, e.validate()
}

// validate checks every field a sender could get wrong; lt checks the
// rest (pages, actions, connections and identities it knows).
func (e *envelope) validate() error {
	if e.V != EnvelopeVersion {
		return fmt.Errorf("%w %d", ErrUnknownVersion, e.V)
	}
	if err := checkLen("instance", e.Instance, maxInstanceLen); err != nil {
		return err
	}
	if e.Ref != 0 {
		if e.Ref < 0 || e.Kind != "" || e.Action != "" || e.Data != nil || e.Identity != nil {
			return fmt.Errorf("%w: a reference carries only v, i, e and a positive r", ErrBadPayload)
		}
		return nil
	}
	switch e.Kind {
	case lt.ToGroup, lt.ToUser, lt.ToConn:
		if e.Target == "" {
			return fmt.Errorf("%w: kind %s without a target", ErrBadPayload, e.Kind)
		}
	case lt.ToAll:
	default:
		return fmt.Errorf("%w: unknown kind %s", ErrBadPayload, clip(string(e.Kind)))
	}
	switch {
	case e.Close && (e.Action != "" || (e.Kind != lt.ToGroup && e.Kind != lt.ToUser)):
		return fmt.Errorf("%w: a close names a group or a user and no action", ErrBadPayload)
	case e.Action == "" && !e.Close:
		return fmt.Errorf("%w: no action", ErrBadPayload)
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{
		{"page", e.Page, maxPageLen},
		{"action", e.Action, maxActionLen},
		{"target", e.Target, maxTargetLen},
		{"except", e.Except, maxTargetLen},
	} {
		if err := checkLen(f.name, f.v, f.max); err != nil {
			return err
		}
	}
	if id := e.Identity; id != nil {
		if err := checkLen("identity user", id.UserID, maxTargetLen); err != nil {
			return err
		}
		if err := checkLen("identity group", id.GroupID, maxTargetLen); err != nil {
			return err
		}
	}
	return nil
}

func checkLen(name, v string, maxLen int) error {
	if len(v) > maxLen {
		return fmt.Errorf("%w: %s is %d bytes, over %d", ErrBadPayload, name, len(v), maxLen)
	}
	return nil
}

// clip quotes s for a log line, cut to a few dozen bytes.
func clip(s string) string {
	const n = 48
	if len(s) <= n {
		return fmt.Sprintf("%q", s)
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%q… (%d bytes)", s[:cut], len(s))
}
