package pgnotify

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"strconv"
)

// The wire format of version 2 (see EnvelopeVersion). Every payload starts
// with '2', a type letter and the key id (8 hex digits):
//
//	sealed by an instance:  "2i" kid base64url(salt[16] counter[8] time[8] AES-256-GCM(JSON))
//	signed by lt_notify:    "2s" kid hmac[64 hex] time[16 hex] nonce[32 hex] JSON
const (
	typeSealed = 'i'
	typeSigned = 's'

	prefixLen = 2 + keyIDLen // "2i" and the key id

	saltLen       = 16
	sealHeaderLen = saltLen + 8 + 8 // salt, counter, time (µs), in the clear but authenticated
	gcmTagLen     = 16

	sigHexLen       = 2 * sha256.Size
	timeHexLen      = 16
	nonceHexLen     = 32
	signedHeaderLen = prefixLen + sigHexLen + timeHexLen + nonceHexLen
)

// b64 is strict: a payload has exactly one encoding, so a changed
// character is always a different (and unauthenticated) message.
var b64 = base64.RawURLEncoding.Strict()

// Reasons a payload is refused before (or instead of) being decoded. They
// do not wrap ErrBadPayload, which is for authenticated payloads that are
// not a valid message.
var (
	errUnauthenticated = errors.New("pgnotify: unauthenticated notification")
	errStale           = errors.New("pgnotify: notification outside the time window")
	errReplayed        = errors.New("pgnotify: notification replayed")
)

// opened is a payload whose authenticity is proved.
type opened struct {
	signed bool   // signed by lt_notify (SQL); else sealed by an instance
	time   int64  // when it was made, µs since the Unix epoch
	id     uint64 // replay id: a digest of its unique salt and counter, or nonce
	body   []byte // the JSON envelope
}

// seal makes the payload of an instance message: body, encrypted and
// authenticated under this process's sender key, with the channel as
// associated data.
func (k *keyring) seal(channel string, now int64, body []byte) string {
	ctr := k.counter.Add(1)
	blob := make([]byte, sealHeaderLen, sealHeaderLen+len(body)+gcmTagLen)
	copy(blob, k.salt[:])
	binary.BigEndian.PutUint64(blob[saltLen:], ctr)
	binary.BigEndian.PutUint64(blob[saltLen+8:], uint64(now))
	prefix := "2" + string(rune(typeSealed)) + k.current.instKID
	var nonce [12]byte
	binary.BigEndian.PutUint64(nonce[4:], ctr)
	blob = k.sender.Seal(blob, nonce[:], body, sealedAAD(channel, prefix, blob[:sealHeaderLen]))
	out := make([]byte, 0, prefixLen+b64.EncodedLen(len(blob)))
	out = append(out, prefix...)
	return string(b64.AppendEncode(out, blob))
}

func sealedAAD(channel, prefix string, header []byte) []byte {
	aad := make([]byte, 0, len(channel)+1+len(prefix)+len(header))
	aad = append(aad, channel...)
	aad = append(aad, '\n')
	aad = append(aad, prefix...)
	return append(aad, header...)
}

// open proves a payload authentic, under one of the keyring's secrets
// and for channel, and returns its parts. Every error wraps
// errUnauthenticated, except a malformed time in an authentic signed
// payload (ErrBadPayload).
func (k *keyring) open(channel, payload string) (opened, error) {
	if len(payload) < prefixLen || payload[0] != '2' {
		if len(payload) > 0 && payload[0] == '{' {
			return opened{}, fmt.Errorf("%w: a version-1 payload (plain JSON)", errUnauthenticated)
		}
		return opened{}, fmt.Errorf("%w: not a version-2 payload", errUnauthenticated)
	}
	switch payload[1] {
	case typeSealed:
		return k.openSealed(channel, payload)
	case typeSigned:
		return k.verifySigned(channel, payload)
	}
	return opened{}, fmt.Errorf("%w: unknown payload type", errUnauthenticated)
}

func (k *keyring) openSealed(channel, payload string) (opened, error) {
	kid := payload[2:prefixLen]
	blob, err := b64.DecodeString(payload[prefixLen:])
	// The decoder skips CR and LF: an encoding of another length than the
	// canonical one is another payload.
	if err != nil || len(blob) < sealHeaderLen+gcmTagLen || b64.EncodedLen(len(blob)) != len(payload)-prefixLen {
		return opened{}, fmt.Errorf("%w: not a sealed message", errUnauthenticated)
	}
	var salt [saltLen]byte
	copy(salt[:], blob)
	aead, cached, ok := k.senderFor(kid, salt)
	if !ok {
		return opened{}, fmt.Errorf("%w: unknown key %q", errUnauthenticated, kid)
	}
	var nonce [12]byte
	copy(nonce[4:], blob[saltLen:saltLen+8])
	header, sealed := blob[:sealHeaderLen], blob[sealHeaderLen:]
	body, err := aead.Open(sealed[:0], nonce[:], sealed, sealedAAD(channel, payload[:prefixLen], header))
	if err != nil {
		return opened{}, fmt.Errorf("%w: message authentication failed", errUnauthenticated)
	}
	if !cached {
		k.remember(kid, salt, aead)
	}
	return opened{
		time: int64(binary.BigEndian.Uint64(header[saltLen+8:])),
		id:   maphash.Bytes(k.seed, header[:saltLen+8]),
		body: body,
	}, nil
}

// signSQL makes the payload lt_notify makes, in Go (for tests); the SQL in
// schema.sql computes the same.
func signSQL(key [32]byte, kid, channel string, now int64, nonce, body string) string {
	rest := fmt.Sprintf("%016x%s%s", now, nonce, body)
	prefix := "2" + string(rune(typeSigned)) + kid
	mac := hmacSum(key[:], []byte(channel), []byte{'\n'}, []byte(prefix), []byte(rest))
	return prefix + hex.EncodeToString(mac[:]) + rest
}

func (k *keyring) verifySigned(channel, payload string) (opened, error) {
	if len(payload) < signedHeaderLen {
		return opened{}, fmt.Errorf("%w: not a signed message", errUnauthenticated)
	}
	kid := payload[2:prefixLen]
	key, ok := k.sql[kid]
	if !ok {
		return opened{}, fmt.Errorf("%w: unknown key %q", errUnauthenticated, kid)
	}
	rest := payload[prefixLen+sigHexLen:]
	mac := hmacSum(key[:], []byte(channel), []byte{'\n'}, []byte(payload[:prefixLen]), []byte(rest))
	var want [sigHexLen]byte
	hex.Encode(want[:], mac[:])
	if subtle.ConstantTimeCompare(want[:], []byte(payload[prefixLen:prefixLen+sigHexLen])) != 1 {
		return opened{}, fmt.Errorf("%w: signature mismatch", errUnauthenticated)
	}
	ts, err := strconv.ParseInt(rest[:timeHexLen], 16, 64)
	if err != nil {
		return opened{}, fmt.Errorf("%w: time %q", ErrBadPayload, rest[:timeHexLen])
	}
	return opened{
		signed: true,
		time:   ts,
		id:     maphash.String(k.seed, rest[timeHexLen:timeHexLen+nonceHexLen]),
		body:   []byte(rest[timeHexLen+nonceHexLen:]),
	}, nil
}
