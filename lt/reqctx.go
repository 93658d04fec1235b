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
	ctx = context.WithoutCancel(ctx)
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
// (parsed: Form and PostForm are set; there is no body), in a context
// that is c's, with the requester's Identity (IdentityFrom) and the page's
// route parameters (chi.URLParam) as lt saw them.
func (f *ForwardedRequest) request(c *conn) *http.Request {
	ctx := WithIdentity(c.ctx, c.ident)
	if len(c.params) > 0 {
		rc := chi.NewRouteContext()
		for k, v := range c.params {
			rc.URLParams.Add(k, v)
		}
		ctx = context.WithValue(ctx, chi.RouteCtxKey, rc)
	}
	u, err := url.ParseRequestURI(f.URL)
	if err != nil {
		u = &url.URL{Path: "/"}
	}
	r := (&http.Request{
		Method: f.Method, URL: u, RequestURI: f.URL, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: f.Header, Host: f.Host, RemoteAddr: f.RemoteAddr, Body: http.NoBody,
		Form: f.Form, PostForm: f.Form,
	}).WithContext(ctx)
	if r.Header == nil {
		r.Header = http.Header{}
	}
	if r.Form == nil {
		r.Form, r.PostForm = url.Values{}, url.Values{}
	}
	if f.TLS {
		r.TLS = &tls.ConnectionState{} // says it came over TLS; the details stayed there
	}
	return r
}
