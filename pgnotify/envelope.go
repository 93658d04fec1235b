package pgnotify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/livesse/livesse/lt"
)

// EnvelopeVersion is the version of the wire format. Version 2
// authenticates every notification; version-1 payloads (plain JSON) are
// refused as unauthenticated.
//
// A payload starts with "2", a type letter and the id of the key it was
// made with (8 hex digits, a digest of the key):
//
//	2i<key id><base64url: salt(16) counter(8) time(8) sealed JSON>
//	2s<key id><HMAC-SHA256, 64 hex><time, 16 hex><nonce, 32 hex><JSON>
//
// Type i is sent by an instance: the JSON is encrypted and authenticated
// with AES-256-GCM under a key derived from the shared secret (see
// WithSecret) and the sender's salt, the counter is the nonce, and the
// channel name and everything before the ciphertext are authenticated too.
// Type s is sent by lt_notify from SQL: the JSON is in the clear, signed
// with HMAC-SHA256 over the channel name, a newline and the payload
// without the signature. Times are microseconds since the Unix epoch.
//
// Only then is the JSON decoded. From an instance it is one object:
// pgnotify's keys, then those of the lt.Message it carries (its JSON
// form, see lt.Message.MarshalJSON, with "lt" its lt.MessageVersion):
//
//	{"v":2,"i":"web-1","lt":1,"p":"orders","k":"all","t":"","a":"refresh","d":{...}}
//
// pgnotify's keys are v (EnvelopeVersion), i the sending instance, e
// (true) asking the sending instance to apply the message too
// (PublishTx), and, for what carries no message, r, bc and ev below; to,
// the one instance the message is for, is the message's own. From SQL
// it has only v, p, k, t, a and d, and is a server action: kind all,
// user or group with an action, nothing else (lt.ServerAction).
//
// A message too large for a notification (8000 bytes) is stored whole, as
// it would have been notified, in lt_messages under the SHA-256 of its
// bytes, and the notification is a message of the same type whose JSON is
// {"v":2,"i":"web-1","to":"web-2","r":"<hex SHA-256>"} (from SQL:
// {"v":2,"r":"..."}).
//
// An instance also announces itself with beacons, {"v":2,"i":"web-1",
// "bc":"hello","ev":5000}: hello when it starts, alive every ping interval
// (ev, in milliseconds) and in answer to a hello, bye when it closes.
const EnvelopeVersion = 2

// maxNotifyPayload is PostgreSQL's bound: a payload must be shorter.
const maxNotifyPayload = 8000

// sqlInstance is the sender of the messages lt_notify sends.
const sqlInstance = "@sql"

// Beacons.
const (
	beaconHello = "hello"
	beaconAlive = "alive"
	beaconBye   = "bye"
)

// envelope is pgnotify's part of a notification's JSON; Message, the
// rest of it, is decoded by lt. A reference or a beacon carries no
// message (Message is the zero lt.Message).
type envelope struct {
	V        int    `json:"v"`
	Instance string `json:"i,omitempty"` // the sender; sqlInstance for lt_notify
	To       string `json:"to,omitempty"`
	Echo     bool   `json:"e,omitempty"`
	Ref      string `json:"r,omitempty"`  // a stored message: the hex SHA-256 of its payload
	Beacon   string `json:"bc,omitempty"` // hello, alive or bye
	Every    int64  `json:"ev,omitempty"` // a beacon's interval, in milliseconds

	Message lt.Message `json:"-"`
}

// carries reports whether e carries a message (it is neither a beacon
// nor a reference).
func (e *envelope) carries() bool { return e.Ref == "" && e.Beacon == "" }

// encode returns the compact JSON of e, without HTML escaping: its own
// keys, then, if it carries one, its message's.
func encode(e envelope) ([]byte, error) {
	if e.carries() {
		e.To = "" // the message's own "to"
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return nil, fmt.Errorf("pgnotify: encoding message: %w", err)
	}
	head := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if !e.carries() {
		return head, nil
	}
	body, err := e.Message.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("pgnotify: cannot publish: %w", err)
	}
	if len(body) <= 2 { // {}
		return head, nil
	}
	out := make([]byte, 0, len(head)+len(body))
	out = append(out, head[:len(head)-1]...)
	out = append(out, ',')
	return append(out, body[1:]...), nil
}

// decode parses and validates the JSON of an authenticated instance
// message. Every error wraps ErrBadPayload.
func decode(body []byte) (envelope, error) {
	var e envelope
	if err := json.Unmarshal(body, &e); err != nil {
		return e, fmt.Errorf("%w: %v", ErrBadPayload, err)
	}
	if e.Instance == sqlInstance {
		return e, fmt.Errorf("%w: sender %s is not an instance id", ErrBadPayload, clip(e.Instance))
	}
	if err := e.validate(body); err != nil {
		return e, err
	}
	if e.carries() {
		if err := e.Message.UnmarshalJSON(body); err != nil {
			return e, fmt.Errorf("%w: %w", ErrBadPayload, err)
		}
	}
	return e, nil
}

// sqlEnvelope is all that a message from SQL may hold.
type sqlEnvelope struct {
	V      int            `json:"v"`
	Ref    string         `json:"r"`
	Page   string         `json:"p"`
	Kind   lt.Kind        `json:"k"`
	Target string         `json:"t"`
	Action string         `json:"a"`
	Data   map[string]any `json:"d"`
}

// decodeSQL parses and validates the JSON of an authenticated message
// from lt_notify: a server action for all, a user or a session, or a
// reference. Any other key is refused. Every error wraps ErrBadPayload.
func decodeSQL(body []byte) (envelope, error) {
	var s sqlEnvelope
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return envelope{}, fmt.Errorf("%w: %v", ErrBadPayload, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return envelope{}, fmt.Errorf("%w: data after the JSON object", ErrBadPayload)
	}
	e := envelope{V: s.V, Instance: sqlInstance, Echo: true, Ref: s.Ref}
	if e.Ref != "" {
		if s.Page != "" || s.Kind != "" || s.Target != "" || s.Action != "" || s.Data != nil {
			return e, fmt.Errorf("%w: a reference carries only v, i, e, to and r (a hex SHA-256)", ErrBadPayload)
		}
		return e, e.validate(nil)
	}
	if err := e.validate(nil); err != nil {
		return e, err
	}
	m, err := lt.ServerAction(s.Page, s.Kind, s.Target, s.Action, s.Data)
	if err != nil {
		return e, fmt.Errorf("%w: SQL sends server actions only (kind all, user or group, with an action): %w", ErrBadPayload, err)
	}
	e.Message = m
	return e, nil
}

// envelopeKeys are the keys a reference or a beacon may have.
var envelopeKeys = map[string]bool{"v": true, "i": true, "to": true, "e": true, "r": true, "bc": true, "ev": true}

// validate checks pgnotify's keys; lt checks the message's (UnmarshalJSON)
// and the Handler those it knows (pages, actions, connections,
// identities). body is the JSON e was decoded from, nil from SQL.
func (e *envelope) validate(body []byte) error {
	if e.V != EnvelopeVersion {
		return fmt.Errorf("%w %d", ErrUnknownVersion, e.V)
	}
	if e.Instance != sqlInstance && !lt.ValidInstance(e.Instance) {
		return fmt.Errorf("%w: sender %s is not an instance id", ErrBadPayload, clip(e.Instance))
	}
	if e.To != "" && !lt.ValidInstance(e.To) {
		return fmt.Errorf("%w: recipient %s is not an instance id", ErrBadPayload, clip(e.To))
	}
	bare := func() bool {
		if body == nil {
			return true
		}
		var keys map[string]json.RawMessage
		if json.Unmarshal(body, &keys) != nil {
			return false
		}
		for k := range keys {
			if !envelopeKeys[k] {
				return false
			}
		}
		return true
	}
	switch {
	case e.Beacon != "":
		if e.Beacon != beaconHello && e.Beacon != beaconAlive && e.Beacon != beaconBye ||
			e.Every <= 0 || e.Echo || e.Ref != "" || e.To != "" || !bare() {
			return fmt.Errorf("%w: a beacon carries only v, i, bc (hello, alive, bye) and a positive ev", ErrBadPayload)
		}
	case e.Ref != "":
		if !validDigest(e.Ref) || e.Every != 0 || !bare() {
			return fmt.Errorf("%w: a reference carries only v, i, e, to and r (a hex SHA-256)", ErrBadPayload)
		}
	case e.Every != 0:
		return fmt.Errorf("%w: ev outside a beacon", ErrBadPayload)
	}
	return nil
}

// validDigest accepts a SHA-256 in lower-case hex.
func validDigest(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := range len(s) {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
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
