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
// Only then is the JSON decoded. From an instance it is
//
//	{"v":2,"i":"web-1","p":"orders","k":"all","t":"","a":"refresh","d":{...}}
//
// with e (true) asking the sending instance to apply the message too
// (PublishTx); the other keys are lt.Message's JSON fields: i sender, p
// page ("" for every page with the action), k kind (group, user, conn,
// all), t target, a action, d data (an object), x a connection to skip, s
// Sync, id the requester of a forwarded action, b sent by
// BroadcastAction, z close, to the one instance the message is for, rq a
// forwarded request. From SQL it has only v, p, k, t, a and d, and is a
// server action: kind all, user or group with an action, nothing else.
//
// A message too large for a notification (8000 bytes) is stored whole, as
// it would have been notified, in lt_messages under the SHA-256 of its
// bytes, and the notification is a message of the same type whose JSON is
// {"v":2,"i":"web-1","r":"<hex SHA-256>","to":"web-2"} (from SQL:
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

// Bounds of an envelope's fields; longer ones are refused.
const (
	maxPageLen   = 128
	maxActionLen = 128
	maxTargetLen = 512
)

// Beacons.
const (
	beaconHello = "hello"
	beaconAlive = "alive"
	beaconBye   = "bye"
)

// envelope is the JSON of a message.
type envelope struct {
	V      int    `json:"v"`
	Echo   bool   `json:"e,omitempty"`
	Ref    string `json:"r,omitempty"`  // a stored message: the hex SHA-256 of its payload
	Beacon string `json:"bc,omitempty"` // hello, alive or bye
	Every  int64  `json:"ev,omitempty"` // a beacon's interval, in milliseconds
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
	return e, e.validate()
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
// from lt_notify: a server action for all, a user or a group, or a
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
	e := envelope{V: s.V, Echo: true, Ref: s.Ref, Message: lt.Message{
		Instance: sqlInstance, Page: s.Page, Kind: s.Kind, Target: s.Target, Action: s.Action, Data: s.Data,
	}}
	if e.Ref == "" && (e.Kind == lt.ToConn || e.Action == "") {
		return e, fmt.Errorf("%w: SQL sends server actions only (kind all, user or group, with an action)", ErrBadPayload)
	}
	return e, e.validate()
}

// bare reports whether m carries nothing but its sender and recipient.
func bare(m *lt.Message) bool {
	return m.Page == "" && m.Kind == "" && m.Target == "" && m.Action == "" && m.Data == nil &&
		m.Except == "" && !m.Sync && m.Identity == nil && !m.FromBroadcast && !m.Close && m.Request == nil
}

// validate checks every field a sender could get wrong; lt checks the
// rest (pages, actions, connections and identities it knows).
func (e *envelope) validate() error {
	if e.V != EnvelopeVersion {
		return fmt.Errorf("%w %d", ErrUnknownVersion, e.V)
	}
	if e.Instance != sqlInstance && !lt.ValidInstance(e.Instance) {
		return fmt.Errorf("%w: sender %s is not an instance id", ErrBadPayload, clip(e.Instance))
	}
	if e.To != "" && !lt.ValidInstance(e.To) {
		return fmt.Errorf("%w: recipient %s is not an instance id", ErrBadPayload, clip(e.To))
	}
	switch {
	case e.Beacon != "":
		if e.Beacon != beaconHello && e.Beacon != beaconAlive && e.Beacon != beaconBye ||
			e.Every <= 0 || e.Echo || e.Ref != "" || e.To != "" || !bare(&e.Message) {
			return fmt.Errorf("%w: a beacon carries only v, i, bc (hello, alive, bye) and a positive ev", ErrBadPayload)
		}
		return nil
	case e.Ref != "":
		if !validDigest(e.Ref) || e.Every != 0 || !bare(&e.Message) {
			return fmt.Errorf("%w: a reference carries only v, i, e, to and r (a hex SHA-256)", ErrBadPayload)
		}
		return nil
	case e.Every != 0:
		return fmt.Errorf("%w: ev outside a beacon", ErrBadPayload)
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
	case e.Close && (e.Action != "" || e.Request != nil):
		return fmt.Errorf("%w: a close names no action and no request", ErrBadPayload)
	case e.Close && e.Kind == lt.ToConn && (e.Identity == nil || e.To == ""):
		return fmt.Errorf("%w: a close of a connection (a tab that left) names the requester and the instance", ErrBadPayload)
	case e.Close && e.Kind != lt.ToGroup && e.Kind != lt.ToUser && e.Kind != lt.ToConn:
		return fmt.Errorf("%w: a close names a group, a user or a connection", ErrBadPayload)
	case e.Action == "" && !e.Close:
		return fmt.Errorf("%w: no action", ErrBadPayload)
	case e.Request != nil && e.Kind != lt.ToConn:
		return fmt.Errorf("%w: a forwarded request goes to a connection", ErrBadPayload)
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
