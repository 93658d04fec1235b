package pgnotify

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// MinSecretBytes is the least length of a secret given to WithSecret.
const MinSecretBytes = 32

// Labels of the keys derived from a secret, with HMAC-SHA256(secret, label)
// for the two subkeys, so that one key never serves two purposes.
const (
	labelInstance = "livesse pgnotify v2: instance messages"
	labelSQL      = "livesse pgnotify v2: sql messages"
	labelSender   = "livesse pgnotify v2: sender key"
	labelKeyID    = "livesse pgnotify v2: key id"
)

// keyIDLen is the length of a key id on the wire: 8 hex digits.
const keyIDLen = 8

// subkeys are the keys one secret yields.
type subkeys struct {
	instKID string   // id of inst
	inst    [32]byte // seals instance messages (through a per-sender key)
	sqlKID  string   // id of sql
	sql     [32]byte // signs SQL messages (lt_notify), with HMAC-SHA256
}

func hmacSum(key []byte, parts ...[]byte) [32]byte {
	h := hmac.New(sha256.New, key)
	for _, p := range parts {
		h.Write(p)
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// keyID names a subkey on the wire: a short digest of it, which tells a
// receiver which key to use without revealing anything of the key.
func keyID(subkey []byte) string {
	h := sha256.Sum256(append([]byte(labelKeyID), subkey...))
	return hex.EncodeToString(h[:keyIDLen/2])
}

func deriveSubkeys(secret []byte) subkeys {
	k := subkeys{
		inst: hmacSum(secret, []byte(labelInstance)),
		sql:  hmacSum(secret, []byte(labelSQL)),
	}
	k.instKID, k.sqlKID = keyID(k.inst[:]), keyID(k.sql[:])
	return k
}

// hmacPads returns the two 64-byte blocks HMAC-SHA256 hashes a key into
// (key XOR ipad, key XOR opad): with them SQL computes the HMAC with the
// built-in sha256() alone, as sha256(opad || sha256(ipad || message)).
func hmacPads(key [32]byte) (ipad, opad []byte) {
	ipad, opad = make([]byte, 64), make([]byte, 64)
	for i := range 64 {
		var b byte
		if i < len(key) {
			b = key[i]
		}
		ipad[i], opad[i] = b^0x36, b^0x5c
	}
	return ipad, opad
}

// keyring holds the keys of every secret a Listener accepts, and the
// sending state of this process.
//
// Instance messages are sealed with AES-256-GCM. A sender does not use the
// instance subkey itself: at start it draws a random 16-byte salt and seals
// with HMAC-SHA256(subkey, label || salt), numbering its messages with a
// counter that serves as the GCM nonce. Random 96-bit nonces under one key
// would be safe for only about 2³² messages in all, across every instance
// and restart; a key of its own per sender process with a counter never
// repeats a nonce.
type keyring struct {
	current subkeys
	inst    map[string][32]byte // instance subkeys by key id, every secret
	sql     map[string][32]byte // SQL subkeys by key id, every secret

	salt    [saltLen]byte
	sender  cipher.AEAD // current inst subkey with salt
	counter atomic.Uint64

	seed maphash.Seed // for replay ids

	mu      sync.Mutex
	senders map[senderKey]cipher.AEAD // other senders' keys, once authenticated
}

type senderKey struct {
	kid  string
	salt [saltLen]byte
}

// maxSenderKeys bounds the cache of other senders' keys (one per live
// sender process); it is emptied when full.
const maxSenderKeys = 256

func newKeyring(secrets [][]byte) (*keyring, error) {
	k := &keyring{
		inst:    map[string][32]byte{},
		sql:     map[string][32]byte{},
		seed:    maphash.MakeSeed(),
		senders: map[senderKey]cipher.AEAD{},
	}
	for i, s := range secrets {
		sk := deriveSubkeys(s)
		if i == 0 {
			k.current = sk
		}
		if _, dup := k.inst[sk.instKID]; dup {
			return nil, fmt.Errorf("%w: secret %d repeats an earlier secret (or its key id does)", ErrInvalidConfig, i+1)
		}
		if _, dup := k.sql[sk.sqlKID]; dup {
			return nil, fmt.Errorf("%w: secret %d repeats an earlier secret (or its key id does)", ErrInvalidConfig, i+1)
		}
		k.inst[sk.instKID] = sk.inst
		k.sql[sk.sqlKID] = sk.sql
	}
	_, _ = rand.Read(k.salt[:]) // never fails (crypto/rand)
	k.sender = senderAEAD(k.current.inst, k.salt)
	return k, nil
}

// senderAEAD is the AES-256-GCM of one sender process.
func senderAEAD(inst [32]byte, salt [saltLen]byte) cipher.AEAD {
	key := hmacSum(inst[:], []byte(labelSender), salt[:])
	block, err := aes.NewCipher(key[:])
	if err != nil {
		panic(err) // a 32-byte key is always valid
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return aead
}

// senderFor returns the AEAD of the sender that drew salt, under the
// instance key kid, and whether it came from the cache. Callers add it to
// the cache (remember) only once a message opened with it.
func (k *keyring) senderFor(kid string, salt [saltLen]byte) (cipher.AEAD, bool, bool) {
	inst, ok := k.inst[kid]
	if !ok {
		return nil, false, false
	}
	if kid == k.current.instKID && salt == k.salt {
		return k.sender, true, true
	}
	sk := senderKey{kid, salt}
	k.mu.Lock()
	a, cached := k.senders[sk]
	k.mu.Unlock()
	if cached {
		return a, true, true
	}
	return senderAEAD(inst, salt), false, true
}

func (k *keyring) remember(kid string, salt [saltLen]byte, a cipher.AEAD) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.senders) >= maxSenderKeys {
		clear(k.senders)
	}
	k.senders[senderKey{kid, salt}] = a
}
