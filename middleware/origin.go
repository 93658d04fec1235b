package middleware

import (
	"log/slog"
	"net/http"

	"github.com/livesse/livesse/internal/origin"
)

// CheckOrigin refuses cross-site requests with unsafe methods (POST, PUT,
// PATCH, DELETE) with 403: those whose Sec-Fetch-Site says cross-site,
// whose Origin names another host, or, lacking both, whose Referer does.
// Requests from the page's own origin, or from one of trusted
// ("https://admin.example.com"), pass. It panics on a malformed trusted
// origin, as that is a programming error found at start-up.
func CheckOrigin(trusted ...string) func(http.Handler) http.Handler {
	c, err := origin.New(trusted...)
	if err != nil {
		panic(err)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := c.Check(r); err != nil {
				slog.WarnContext(r.Context(), "middleware: request refused", "method", r.Method, "path", r.URL.Path, "err", err)
				http.Error(w, err.Error(), http.StatusForbidden)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
