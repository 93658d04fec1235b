package serve

import (
	"net/http"
	"testing"
	"time"

	"github.com/matryer/is"
)

// A client that trickles its headers or body, or idles between requests,
// must be cut: the examples are what users copy.
func TestNewServerBoundsSlowClients(t *testing.T) {
	is := is.New(t)
	srv := NewServer(http.NotFoundHandler())
	for _, d := range []time.Duration{srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout} {
		is.True(d > 0 && d <= 2*time.Minute)
	}
	is.True(srv.ReadTimeout <= 30*time.Second) // a request body cannot be held longer
}
