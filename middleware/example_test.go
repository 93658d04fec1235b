package middleware_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/middleware"
)

// CheckOrigin in front of a router: a form posted from the app's own
// origin, or from a trusted one, passes; one posted from another site gets
// 403 before any handler runs. Session gives each visitor an anonymous
// session that lt handlers and the app's own (lt.IdentityFrom) share.
func ExampleCheckOrigin() {
	r := chi.NewRouter()
	r.Use(middleware.CheckOrigin("https://admin.example.com"), middleware.Session)
	r.Post("/", func(w http.ResponseWriter, r *http.Request) {
		id, _ := lt.IdentityFrom(r.Context())
		fmt.Fprintf(w, "posted, anonymous session: %t", strings.HasPrefix(id.SessionID, "anon:"))
	})

	for _, origin := range []string{"https://app.example.com", "https://admin.example.com", "https://evil.example"} {
		req := httptest.NewRequest(http.MethodPost, "https://app.example.com/", strings.NewReader("name=x"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", origin)
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			fmt.Println(origin, rec.Code)
			continue
		}
		fmt.Println(origin, rec.Code, rec.Body.String())
	}
	// Output:
	// https://app.example.com 200 posted, anonymous session: true
	// https://admin.example.com 200 posted, anonymous session: true
	// https://evil.example 403
}
