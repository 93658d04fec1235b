package sessioncookie

import "crypto/hmac"

// Sign returns s's signature of value for purpose (a name such as "flash"
// that keeps the signatures of one use from passing for another's, or for
// a session cookie's). It is safe in cookies and URLs.
func (s Signer) Sign(purpose, value string) string {
	return string(s.all()[0].appendSig(nil, purpose+"\x00"+value))
}

// Verify reports whether sig is a signature that s, with its current
// secret or a previous one, made of value for purpose.
func (s Signer) Verify(purpose, value, sig string) bool {
	if len(sig) != sigLen {
		return false
	}
	var buf [sigLen]byte
	for _, k := range s.all() {
		if hmac.Equal([]byte(sig), k.appendSig(buf[:0], purpose+"\x00"+value)) {
			return true
		}
	}
	return false
}
