package lt

import (
	"net/http/httptest"
	"testing"

	"github.com/matryer/is"
)

func TestWildcards(t *testing.T) {
	for _, c := range []struct {
		pattern string
		want    []string
	}{
		{"", nil},
		{"/", nil},
		{"/lists/{id}", []string{"id"}},
		{"GET /lists/{id}/items/{item}", []string{"id", "item"}},
		{"example.com/files/{path...}", []string{"path"}},
		{"/exact/{$}", nil},
		{"/chi/{id:[0-9]+}", []string{"id"}},
		{"/chi/{code:[a-z]{3}}/{n}", []string{"code", "n"}},
		{"/chi/*", nil},
		{"/broken/{id", nil},
	} {
		t.Run(c.pattern, func(t *testing.T) {
			is.New(t).Equal(wildcards(c.pattern), c.want)
		})
	}
}

func TestMethodOnly(t *testing.T) {
	for _, c := range []struct {
		pattern, method string
		ok              bool
	}{
		{"", "", false},
		{"/p", "", false},
		{"example.com/p", "", false},
		{"GET /p", "GET", true},
		{"HEAD example.com/p", "HEAD", true},
		{"POST /p", "", false},
	} {
		method, ok := methodOnly(c.pattern)
		is.New(t).Equal([]any{method, ok}, []any{c.method, c.ok})
	}
}

func TestPageURL(t *testing.T) {
	for _, c := range []struct {
		requestURI, path, query, want string
	}{
		{"/page", "/page", "", "/page"},
		{"/app/x?q=1", "/x", "q=1", "/app/x?q=1"},
		{"//evil.example/x", "//evil.example/x", "", "/evil.example/x"},
		{"/a/", "/a", "", "/a"}, // a path shortened otherwise: not a prefix taken off
		{"http://host/app/x", "/x", "", "/app/x"},
	} {
		r := httptest.NewRequest("POST", "/", nil)
		r.RequestURI = c.requestURI
		r.URL.Path, r.URL.RawPath, r.URL.RawQuery = c.path, "", c.query
		is.New(t).Equal(pageURL(r), c.want)
	}
}
