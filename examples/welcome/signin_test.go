package main

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/livesse/livesse/lt"
	"github.com/matryer/is"
)

// The make-believe sign-in of signin.go (the same in chat, notifyuser and
// webhook, less what each does not use).
func TestValidUser(t *testing.T) {
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"alice", true},
		{"Bob_2.x-y", true},
		{"a", true},
		{strings.Repeat("a", 32), true},
		{"", false},
		{strings.Repeat("a", 33), false},
		{"has space", false},
		{"semi;colon", false},
		{"élodie", false},
		{"alice\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			is := is.New(t)
			is.Equal(validUser(tc.name), tc.want)
		})
	}
}

func TestAuthenticator(t *testing.T) {
	for _, tc := range []struct {
		desc   string
		cookie *http.Cookie
		want   lt.Identity
	}{
		{"no cookie", nil, lt.Identity{}},
		{"valid", &http.Cookie{Name: userCookie, Value: "alice"}, lt.Identity{UserID: "alice"}},
		{"invalid name", &http.Cookie{Name: userCookie, Value: "a b"}, lt.Identity{}},
		{"empty", &http.Cookie{Name: userCookie, Value: ""}, lt.Identity{}},
		{"other cookie", &http.Cookie{Name: "other", Value: "alice"}, lt.Identity{}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			is := is.New(t)
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if tc.cookie != nil {
				r.AddCookie(tc.cookie)
			}
			id, err := authenticate(r)
			is.NoErr(err)
			is.Equal(id, tc.want)
		})
	}
}

func TestSignInOut(t *testing.T) {
	toRoom := func(r *http.Request) string { return "/rooms/" + r.PostFormValue("room") }
	for _, tc := range []struct {
		desc       string
		handler    http.HandlerFunc
		form       url.Values
		wantStatus int
		wantTo     string // Location
		wantCookie string // Set-Cookie
		wantBody   string
	}{
		{
			desc: "sign in", handler: signInTo(home), form: url.Values{"name": {"  alice "}},
			wantStatus: http.StatusSeeOther, wantTo: "/",
			wantCookie: "user=alice; Path=/; HttpOnly; SameSite=Lax",
		},
		{
			desc: "sign in, bad name", handler: signInTo(home), form: url.Values{"name": {"a b"}},
			wantStatus: http.StatusBadRequest, wantBody: badName + "\n",
		},
		{
			desc: "sign in, no name", handler: signInTo(home),
			wantStatus: http.StatusBadRequest, wantBody: badName + "\n",
		},
		{
			desc: "sign out", handler: signOutTo(home),
			wantStatus: http.StatusSeeOther, wantTo: "/",
			wantCookie: "user=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax",
		},
		{
			desc: "sign in to", handler: signInTo(toRoom), form: url.Values{"name": {"bob"}, "room": {"r1"}},
			wantStatus: http.StatusSeeOther, wantTo: "/rooms/r1",
			wantCookie: "user=bob; Path=/; HttpOnly; SameSite=Lax",
		},
		{
			desc: "sign out to", handler: signOutTo(toRoom), form: url.Values{"room": {"r1"}},
			wantStatus: http.StatusSeeOther, wantTo: "/rooms/r1",
			wantCookie: "user=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax",
		},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			is := is.New(t)
			r := httptest.NewRequest(http.MethodPost, "/signin", strings.NewReader(tc.form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			w := httptest.NewRecorder()
			tc.handler(w, r)
			is.Equal(w.Code, tc.wantStatus)
			is.Equal(w.Header().Get("Location"), tc.wantTo)
			is.Equal(w.Header().Get("Set-Cookie"), tc.wantCookie)
			if tc.wantBody != "" {
				is.Equal(w.Body.String(), tc.wantBody)
			}
		})
	}
}
