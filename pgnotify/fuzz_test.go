package pgnotify

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/livesse/livesse/lt"
)

// FuzzReceive feeds arbitrary payloads through the path of a notification
// (authenticate, check time and replays, decode, fetch a stored message):
// it must never panic, and never deliver anything but the payloads made
// with the key for delivery. The seeds are such payloads (sealed by an
// instance, signed as by lt_notify, references to stored messages), and
// mangled ones.
func FuzzReceive(f *testing.F) {
	rows := map[string]string{}
	// Every fuzzing process makes the same seeds: fixed salts.
	a := offline(f, "a", nil)
	a.keys.salt = [saltLen]byte{1}
	a.keys.sender = senderAEAD(a.keys.current.inst, a.keys.salt)
	other := offline(f, "a", nil, WithSecret([]byte(strings.Repeat("o", 32))))
	other.keys.salt = [saltLen]byte{2}
	other.keys.sender = senderAEAD(other.keys.current.inst, other.keys.salt)
	k := deriveSubkeys(testSecret)
	deliverable := map[string]bool{}
	nonce := 0
	seal := func(l *Listener, e envelope, at time.Time) string {
		return l.keys.seal("livesse", at.UnixMicro(), mustEncode(f, e))
	}
	sign := func(body string, at time.Time) string {
		nonce++
		return signSQL(k.sql, k.sqlKID, "livesse", at.UnixMicro(), strings.Repeat("0", 24)+hex.EncodeToString([]byte{byte(nonce >> 24), byte(nonce >> 16), byte(nonce >> 8), byte(nonce)}), body)
	}
	store := func(p string) string {
		sum := sha256.Sum256([]byte(p))
		rows[hex.EncodeToString(sum[:])] = p
		return hex.EncodeToString(sum[:])
	}
	add := func(p string, deliver bool) {
		f.Add(p)
		if deliver {
			deliverable[p] = true
		}
		// Mangled: truncated, a byte changed, a v1 payload.
		f.Add(p[:len(p)/2])
		q := []byte(p)
		q[len(q)*2/3] ^= 0x20
		f.Add(string(q))
	}
	msgs := []lt.Message{
		Msg{Page: "page", Kind: lt.ToAll, Action: "refresh"}.M(f),
		Msg{Page: "page", Kind: lt.ToSession, Target: "anon:g", Action: "set_msg", Data: map[string]any{"msg": "hi"}}.M(f),
		Msg{Page: "page", Kind: lt.ToUser, Target: "ann", Close: true}.M(f),
		Msg{Page: "page", Kind: "conn", Target: "b.xyz", Action: "add_item", To: "b",
			Identity: &lt.Identity{SessionID: "anon:g"}, Request: map[string]any{"m": "POST", "u": "/page", "f": map[string]any{"item": []any{"x"}}}}.M(f),
	}
	for _, m := range msgs {
		add(seal(a, envelope{V: 2, Instance: "a", Message: m}, t0), true)
		add(seal(a, envelope{V: 2, Instance: "a", Message: m}, t0.Add(-MessageWindow-time.Second)), false) // stale
		add(seal(other, envelope{V: 2, Instance: "a", Message: m}, t0), false)                             // another secret
		body := mustEncode(f, envelope{V: 1, Instance: "a", Message: m})
		f.Add(string(body))
	}
	add(seal(a, envelope{V: 2, Instance: "a", Echo: true, Message: msgs[1]}, t0), true)
	add(seal(a, envelope{V: 2, Instance: "a", Beacon: beaconHello, Every: 5000}, t0), false)
	add(a.keys.seal("livesse", t0.UnixMicro(), []byte(`{"v":2,"i":"a","k":"all"}`)), false) // no action
	big := seal(a, envelope{V: 2, Instance: "a", Message: Msg{Kind: lt.ToAll, Action: "big", Data: map[string]any{"s": strings.Repeat("x", 9000)}}.M(f)}, t0)
	add(seal(a, envelope{V: 2, Instance: "a", Ref: store(big)}, t0), true)
	add(seal(a, envelope{V: 2, Instance: "a", To: "c", Ref: store(big)}, t0), false)
	add(seal(a, envelope{V: 2, Instance: "a", Ref: strings.Repeat("0", 64)}, t0), false)
	add(sign(`{"a": "refresh", "k": "all", "p": "", "t": "", "v": 2}`, t0), true)
	add(sign(`{"a": "x", "d": {"n": 1}, "k": "user", "p": "page", "t": "42", "v": 2}`, t0), true)
	add(sign(`{"a": "x", "k": "conn", "p": "page", "t": "b.xyz", "v": 2}`, t0), false)
	add(sign(`{"a": "x", "k": "all", "v": 2, "id": {"u": "ann"}}`, t0), false)
	bigSQL := sign(`{"a": "big", "d": {"s": "`+strings.Repeat("y", 9000)+`"}, "k": "all", "p": "", "t": "", "v": 2}`, t0)
	add(sign(`{"r": "`+store(bigSQL)+`", "v": 2}`, t0), true)
	add(sign(`{"r": "`+store(big)+`", "v": 2}`, t0), false) // a sealed message behind a signed reference
	f.Add(`{"v":1,"r":1}`)
	f.Add("")

	f.Fuzz(func(t *testing.T, payload string) {
		b := offline(t, "b", rows)
		m, _, ok := b.receive(t.Context(), payload)
		if !ok {
			return
		}
		if !deliverable[payload] {
			t.Fatalf("delivered %+v from a payload not made with the key for delivery: %q", m, payload)
		}
		if _, err := m.MarshalJSON(); err != nil {
			t.Fatalf("delivered an incomplete message %v (%v)", m, err)
		}
		if _, _, ok := b.receive(t.Context(), payload); ok {
			t.Fatalf("delivered twice: %q", payload)
		}
	})
}
