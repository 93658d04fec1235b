package middleware_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/middleware"
	"github.com/matryer/is"
)

func whoAmI(w http.ResponseWriter, r *http.Request) {
	id, _ := lt.IdentityFrom(r.Context())
	_, _ = w.Write([]byte(id.UserID + "|" + id.SessionID))
}

func TestSession(t *testing.T) {
	is := is.New(t)
	r := chi.NewRouter()
	r.Group(func(r chi.Router) {
		r.Use(middleware.Session)
		r.Get("/", whoAmI)
	})
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	c := rec.Result().Cookies()
	is.Equal(len(c), 1)
	is.Equal(c[0].Name, "lt_session")
	is.True(c[0].HttpOnly)
	is.Equal(c[0].SameSite, http.SameSiteLaxMode)
	is.True(!c[0].Secure)
	is.Equal(rec.Body.String(), "|"+lt.AnonymousIdentity(c[0].Value).SessionID) // the same group lt would use

	// The cookie is kept, and an unusable one is replaced.
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(c[0])
	rec = httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	is.Equal(len(rec.Result().Cookies()), 0)
	is.Equal(rec.Body.String(), "|"+lt.AnonymousIdentity(c[0].Value).SessionID)

	for _, forged := range []string{"../../etc/passwd", "AAAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA"} {
		// A cookie the app did not issue, well-formed or not, is replaced:
		// a client cannot choose its session.
		req = httptest.NewRequest(http.MethodGet, "/", nil)
		req.AddCookie(&http.Cookie{Name: "lt_session", Value: forged})
		rec = httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		is.Equal(len(rec.Result().Cookies()), 1)
		is.True(rec.Body.String() != "|anon:AAAAAAAAAAAAAAAAAAAAAA")
		is.Equal(rec.Body.String(), "|"+lt.AnonymousIdentity(rec.Result().Cookies()[0].Value).SessionID)
	}

	// Secure under TLS.
	req = httptest.NewRequest(http.MethodGet, "https://example.com/", nil)
	rec = httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	is.True(rec.Result().Cookies()[0].Secure)
}

func TestAuthenticateThenSession(t *testing.T) {
	is := is.New(t)
	auth := lt.AuthenticatorFunc(func(r *http.Request) (lt.Identity, error) {
		switch r.Header.Get("X-User") {
		case "":
			return lt.Identity{}, nil
		case "bad":
			return lt.Identity{}, errors.New("invalid token")
		}
		return lt.Identity{UserID: r.Header.Get("X-User"), SessionID: "team-1"}, nil
	})
	r := chi.NewRouter()
	r.Use(middleware.Authenticate(auth), middleware.Session)
	r.Get("/", whoAmI)
	for _, tc := range []struct {
		user, body string
		status     int
	}{
		{"ann", "ann|team-1", 200},
		{"bad", "invalid token\n", 401},
		{"", "|anon:", 200},
	} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("X-User", tc.user)
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		is.Equal(rec.Code, tc.status)
		is.True(strings.HasPrefix(rec.Body.String(), tc.body))
	}
}

func TestCheckOrigin(t *testing.T) {
	r := chi.NewRouter()
	r.Use(middleware.CheckOrigin("https://admin.example"))
	r.Post("/", func(w http.ResponseWriter, r *http.Request) {})
	r.Get("/", func(w http.ResponseWriter, r *http.Request) {})
	for _, tc := range []struct {
		name, method string
		header       map[string]string
		status       int
	}{
		{"no headers (not a browser)", "POST", nil, 200},
		{"same origin", "POST", map[string]string{"Origin": "http://example.com"}, 200},
		{"trusted origin", "POST", map[string]string{"Origin": "https://admin.example"}, 200},
		{"other origin", "POST", map[string]string{"Origin": "https://evil.example"}, 403},
		{"cross-site fetch", "POST", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"same-origin fetch", "POST", map[string]string{"Sec-Fetch-Site": "same-origin"}, 200},
		{"other Referer", "POST", map[string]string{"Referer": "https://evil.example/x"}, 403},
		{"own Referer", "POST", map[string]string{"Referer": "http://example.com/x"}, 200},
		{"GET is safe", "GET", map[string]string{"Origin": "https://evil.example"}, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, "http://example.com/", nil)
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, req)
			is.New(t).Equal(rec.Code, tc.status)
		})
	}
}

// Under the Session middleware, lt uses the middleware's identity instead
// of issuing a cookie of its own.
func TestSessionSharedWithLiveHandler(t *testing.T) {
	is := is.New(t)
	type st struct{ N int }
	h := lt.Must(lt.New(lt.Must(lt.Parse("p", `<body>{{.N}}</body>`)), &ctrlT{}, st{}))
	defer h.Close()
	r := chi.NewRouter()
	r.Use(middleware.Session)
	r.Handle("/", h)
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	is.Equal(rec.Code, 200)
	is.Equal(len(rec.Result().Cookies()), 1) // issued once, by the middleware
}

type ctrlT struct{}
