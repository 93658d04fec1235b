package sessioncookie

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/matryer/is"
)

func request(value string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	if value != "" {
		r.AddCookie(&http.Cookie{Name: DefaultName, Value: value})
	}
	return r
}

func TestOnlyIssuedCookiesAreAccepted(t *testing.T) {
	is := is.New(t)
	secret := []byte(strings.Repeat("k", MinSecret))
	s := NewSigner(secret)
	rec := httptest.NewRecorder()
	id, issued := s.Ensure(rec, request(""), "", false)
	is.True(issued)
	value := rec.Result().Cookies()[0].Value
	is.Equal(ID(value), id)

	got, ok := s.Get(request(value), DefaultName)
	is.True(ok)
	is.Equal(got, id)
	again, issued := s.Ensure(httptest.NewRecorder(), request(value), "", false)
	is.True(!issued) // kept
	is.Equal(again, id)
	_, ok = NewSigner(secret).Get(request(value), DefaultName) // another instance with the secret
	is.True(ok)

	for name, forged := range map[string]string{
		"a well-formed id without a signature": NewID(),
		"a chosen id with another's signature": NewID() + "." + strings.SplitN(value, ".", 2)[1],
		"a signature by another secret":        id + "." + NewSigner([]byte(strings.Repeat("x", MinSecret))).sign(id),
		"a signature by the process key":       id + "." + Signer{}.sign(id),
		"a truncated signature":                value[:len(value)-1],
		"junk":                                 "../../etc/passwd",
	} {
		t.Run(name, func(t *testing.T) {
			is := is.New(t)
			_, ok := s.Get(request(forged), DefaultName)
			is.True(!ok)
			rec := httptest.NewRecorder()
			r := request(forged)
			fresh, issued := s.Ensure(rec, r, "", false)
			is.True(issued) // a new session, never the chosen one
			is.True(fresh != ID(forged))
			got, ok := s.Get(r, DefaultName) // later handlers see the new one
			is.True(ok)
			is.Equal(got, fresh)
		})
	}
}

// While the secret is rotated, cookies signed with the previous one are
// accepted and new ones are signed with the current one.
func TestRotation(t *testing.T) {
	is := is.New(t)
	oldSecret, newSecret := []byte(strings.Repeat("o", MinSecret)), []byte(strings.Repeat("n", MinSecret))
	rec := httptest.NewRecorder()
	id, _ := NewSigner(oldSecret).Ensure(rec, request(""), "", false)
	oldCookie := rec.Result().Cookies()[0].Value

	rotating := NewSigner(newSecret, oldSecret)
	got, ok := rotating.Get(request(oldCookie), DefaultName)
	is.True(ok)
	is.Equal(got, id)
	rec = httptest.NewRecorder()
	rotating.Ensure(rec, request(""), "", false)
	newCookie := rec.Result().Cookies()[0].Value
	_, ok = NewSigner(newSecret).Get(request(newCookie), DefaultName)
	is.True(ok) // signed with the current secret
	_, ok = NewSigner(newSecret).Get(request(oldCookie), DefaultName)
	is.True(!ok) // once the old secret is dropped
}
