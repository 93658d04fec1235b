package pgnotify

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
)

// validChannel accepts lower-case identifiers that need no quoting, so the
// channel is the same name in LISTEN, NOTIFY and pg_notify('...').
func validChannel(ch string) bool {
	if ch == "" || len(ch) > 63 || '0' <= ch[0] && ch[0] <= '9' {
		return false
	}
	for _, r := range ch {
		if !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// randomInstance makes an instance id of 10 random characters.
func randomInstance() string {
	var b [6]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}
