package lt

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"
)

// urlParams returns the path parameters of the route that r came by: chi's
// (its route context, which also holds chi's "*"), else those that
// net/http.ServeMux (or any router that sets r.Pattern and r.SetPathValue
// as it does) matched. Copied: chi recycles its route context after the
// request, and the connection keeps them for its whole life.
func urlParams(r *http.Request) map[string]string {
	if rc := chi.RouteContext(r.Context()); rc != nil && len(rc.URLParams.Keys) > 0 {
		m := make(map[string]string, len(rc.URLParams.Keys))
		for i, k := range rc.URLParams.Keys {
			if k != "*" || rc.URLParams.Values[i] != "" {
				m[k] = rc.URLParams.Values[i]
			}
		}
		return m
	}
	names := wildcards(r.Pattern)
	if len(names) == 0 {
		return nil
	}
	m := make(map[string]string, len(names))
	for _, k := range names {
		if v := r.PathValue(k); v != "" {
			m[k] = v
		}
	}
	return m
}

// wildcards returns the names of the wildcards of a route pattern:
// ServeMux's {name} and {name...}, chi's {name} and {name:regexp}. Its
// method and host, if any, are skipped; so is ServeMux's {$}.
func wildcards(pattern string) []string {
	var names []string
	for {
		i := strings.IndexByte(pattern, '{')
		if i < 0 {
			return names
		}
		pattern = pattern[i+1:]
		// chi's regexps may hold braces ({id:[0-9]{3}}): the wildcard
		// ends at the brace that balances its own.
		depth, end := 1, -1
		for j := 0; j < len(pattern) && end < 0; j++ {
			switch pattern[j] {
			case '{':
				depth++
			case '}':
				if depth--; depth == 0 {
					end = j
				}
			}
		}
		if end < 0 {
			return names
		}
		name := pattern[:end]
		pattern = pattern[end+1:]
		if k := strings.IndexByte(name, ':'); k >= 0 {
			name = name[:k]
		}
		name = strings.TrimSuffix(name, "...")
		if name != "" && name != "$" {
			names = append(names, name)
		}
	}
}

// methodOnly reports whether pattern, the ServeMux pattern that routed a
// request, names a method other than POST ("GET /lists/{id}"): such a
// route never passes the page's action POSTs on, unless another pattern
// routes them to the same handler.
func methodOnly(pattern string) (method string, ok bool) {
	method, _, found := strings.Cut(pattern, " ")
	if !found || strings.Contains(method, "/") || method == http.MethodPost {
		return "", false
	}
	return method, true
}

// pageURL is where a plain POST redirects: the page's own path and query,
// with a single leading slash, so that a request for //evil.example/x
// (which a catch-all route serves) cannot redirect to another host. Under
// http.StripPrefix, which shortens r.URL but not r.RequestURI, it is the
// path the browser asked for, prefix included.
func pageURL(r *http.Request) string {
	u := r.URL
	path := u.EscapedPath()
	if full, err := url.ParseRequestURI(r.RequestURI); err == nil {
		if p := full.EscapedPath(); len(p) > len(path) && strings.HasSuffix(p, path) {
			path = p
		}
	}
	p := "/" + strings.TrimLeft(path, `/\`)
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	return p
}

// warnMethodPattern logs, once per pattern, that the page was routed by a
// ServeMux pattern with a method other than POST: its clicks and form
// posts would get the mux's 405 and never run, which is otherwise silent.
func (h *Handler) warnMethodPattern(r *http.Request) {
	method, ok := methodOnly(r.Pattern)
	if !ok {
		return
	}
	if _, seen := h.patterns.LoadOrStore(r.Pattern, true); seen {
		return
	}
	h.log.Error("lt: the page is routed by a pattern for "+method+" only: its action POSTs get 405 from the mux and never run; register the handler for every method (drop the method from the pattern), or for POST too",
		"pattern", clip(r.Pattern, maxLoggedPath))
}
