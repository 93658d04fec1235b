package lt

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/url"
	"slices"

	"github.com/go-chi/chi/v5"
)

// longLived returns a context for what outlives the request whose context
// ctx is (a connection, a stream): it keeps the request's values but not
// its cancellation, and holds a copy of chi's route context instead of
// chi's own, which chi puts back in a pool when the request ends and
// hands to later requests. chi.RouteContext and chi.URLParamFromCtx on it
// then read this request's route, for as long as the context lives.
func longLived(ctx context.Context) context.Context {
	return withRouteCopy(context.WithoutCancel(ctx))
}

// withRouteCopy returns ctx holding a copy of its chi route context.
func withRouteCopy(ctx context.Context) context.Context {
	rc := chi.RouteContext(ctx)
	if rc == nil {
		return ctx
	}
	cp := chi.NewRouteContext()
	cp.Routes = rc.Routes
	cp.RoutePath, cp.RouteMethod = rc.RoutePath, rc.RouteMethod
	cp.RoutePatterns = slices.Clone(rc.RoutePatterns)
	cp.URLParams.Keys = slices.Clone(rc.URLParams.Keys)
	cp.URLParams.Values = slices.Clone(rc.URLParams.Values)
	return context.WithValue(ctx, chi.RouteCtxKey, cp)
}

// request rebuilds, on the instance holding connection c, the POST another
// instance forwarded: its method, URL, Host, RemoteAddr, headers and form
// (parsed as ParseForm does: PostForm is the body's values, Form those and
// then the URL's query; there is no body), in a context that is c's, with
// the requester's Identity (IdentityFrom) and the page's chi route (its
// pattern and URL parameters) as the page's request had them.
func (f *forwardedRequest) request(c *conn) *http.Request {
	// A copy of the page's route, for the app to use as its own.
	ctx := withRouteCopy(WithIdentity(c.ctx, c.ident))
	u, err := url.ParseRequestURI(f.URL)
	if err != nil {
		u = &url.URL{Path: "/"}
	}
	post := f.Form
	if post == nil {
		post = url.Values{}
	}
	form := withQuery(post, u.RawQuery)
	r := (&http.Request{
		Method: f.Method, URL: u, RequestURI: f.URL, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: f.Header, Host: f.Host, RemoteAddr: f.RemoteAddr, Body: http.NoBody,
		Form: form, PostForm: post,
	}).WithContext(ctx)
	if r.Header == nil {
		r.Header = http.Header{}
	}
	if f.TLS {
		r.TLS = &tls.ConnectionState{} // says it came over TLS; the details stayed there
	}
	return r
}
