// Package origin rejects cross-site state-changing requests (CSRF). It builds
// on net/http's CrossOriginProtection (Sec-Fetch-Site, then Origin against
// Host) and adds what that leaves out: a Referer naming another site when a
// request carries neither of the other headers.
package origin

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Checker is safe for concurrent use once configured.
type Checker struct {
	cop     *http.CrossOriginProtection
	trusted map[string]bool
}

// New returns a Checker that also accepts the given origins
// ("https://app.example.com"), e.g. a front end on another host.
func New(trusted ...string) (*Checker, error) {
	c := &Checker{cop: http.NewCrossOriginProtection(), trusted: map[string]bool{}}
	for _, o := range trusted {
		if err := c.cop.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("origin: trusted origin %q: %w", o, err)
		}
		c.trusted[strings.ToLower(o)] = true
	}
	return c, nil
}

// CheckStream returns an error for an event stream requested by a page of
// another origin, unless that origin is trusted. Unlike a POST, a stream
// is a GET, but it is not safe: it makes a connection in the session the
// cookie names, runs the page's Mount for it and holds it, and EventSource
// sends the cookie to other origins of the same site (another port or
// subdomain), which SameSite=Lax does not stop. Browsers send
// Sec-Fetch-Site, and Origin on a cross-origin EventSource; a request with
// neither (not a browser's) passes.
func (c *Checker) CheckStream(r *http.Request) error {
	origin := r.Header.Get("Origin")
	if origin != "" && c.trusted[strings.ToLower(origin)] {
		return nil
	}
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "", "same-origin", "none":
	default:
		return fmt.Errorf("origin: stream requested by another origin refused: Sec-Fetch-Site %.20q", site)
	}
	if origin == "" {
		return nil
	}
	if u, err := url.Parse(origin); err != nil || !strings.EqualFold(u.Host, r.Host) {
		return fmt.Errorf("origin: stream requested by another origin refused: Origin %.100q", origin)
	}
	return nil
}

// Check returns an error for a cross-site request with an unsafe method.
// Requests without any of Sec-Fetch-Site, Origin and Referer (non-browser
// clients) pass: browsers always send at least one on a cross-site POST.
func (c *Checker) Check(r *http.Request) error {
	if err := c.cop.Check(r); err != nil {
		return fmt.Errorf("origin: cross-site request refused: %w", err)
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	if r.Header.Get("Sec-Fetch-Site") != "" || r.Header.Get("Origin") != "" {
		return nil // judged above
	}
	ref := r.Header.Get("Referer")
	if ref == "" {
		return nil
	}
	u, err := url.Parse(ref)
	if err != nil || u.Host == "" {
		return fmt.Errorf("origin: unparseable Referer %q", ref)
	}
	if strings.EqualFold(u.Host, r.Host) || c.trusted[strings.ToLower(u.Scheme+"://"+u.Host)] {
		return nil
	}
	return fmt.Errorf("origin: cross-site request refused: Referer %s is another site", u.Scheme+"://"+u.Host)
}
