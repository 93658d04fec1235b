package lt_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
)

// noRedirect is a client that shows a 303 instead of following it.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// Under net/http.ServeMux, URLParam reads the pattern's wildcards in Mount,
// in client actions, and in server actions, where no request is at hand.
func TestURLParamUnderServeMux(t *testing.T) {
	is := is.New(t)
	j := newJournal()
	h := lt.Must(lt.New(lt.Must(lt.Parse("page", pageHTML)), &ctrl{j: j}, state{}))
	mux := http.NewServeMux()
	mux.Handle("/items/{id}", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { _ = h.Close(); srv.Close() })

	tab := lttest.Open(t, srv.URL+"/items/7")
	is.True(strings.Contains(tab.HTML(), "param=7")) // Mount
	is.True(strings.Contains(tab.Act("show_param", nil).Body, "param=7"))

	is.NoErr(h.TriggerAll(context.Background(), "set_msg", map[string]any{"msg": "x"}))
	tab.WaitFor("msg=x")
	is.NoErr(h.TriggerAll(context.Background(), "show_param", nil))
	tab.WaitFor("msg=param=7") // a server action
}

// A no-JS POST redirects to the page the browser asked for: with the
// prefix that http.StripPrefix took off, and chi's Mount prefix.
func TestPlainPostRedirectKeepsThePrefix(t *testing.T) {
	h := lt.Must(lt.New(lt.Must(lt.Parse("page", pageHTML)), &ctrl{j: newJournal()}, state{}))
	t.Cleanup(func() { _ = h.Close() })
	mux := http.NewServeMux()
	mux.Handle("/app/", http.StripPrefix("/app", h))
	r := chi.NewRouter()
	r.Mount("/chi", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	sub := chi.NewRouter()
	sub.Handle("/items/{id}", h)
	r.Mount("/sub", sub)
	for _, c := range []struct {
		name    string
		handler http.Handler
		path    string
	}{
		{"StripPrefix", mux, "/app/"},
		{"StripPrefix, a deeper path and a query", mux, "/app/x/y?tab=2"},
		{"chi Mount", r, "/chi/"},
		{"chi Mount of a router with a parameter", r, "/sub/items/3"},
	} {
		t.Run(c.name, func(t *testing.T) {
			is := is.New(t)
			srv := httptest.NewServer(c.handler)
			defer srv.Close()
			resp, err := noRedirect.PostForm(srv.URL+c.path, url.Values{"increment": {""}})
			is.NoErr(err)
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			is.Equal(resp.StatusCode, http.StatusSeeOther)
			is.Equal(resp.Header.Get("Location"), c.path)
		})
	}
}

// A page routed by a ServeMux pattern for GET only would never receive
// its action POSTs (the mux answers them 405): lt says so in the log, once
// per pattern.
func TestMethodPatternIsLogged(t *testing.T) {
	is := is.New(t)
	var logs syncBuffer
	h := lt.Must(lt.New(lt.Must(lt.Parse("page", pageHTML)), &ctrl{j: newJournal()}, state{},
		lt.WithLogger(slog.New(slog.NewTextHandler(&logs, nil)))))
	mux := http.NewServeMux()
	mux.Handle("GET /only/{id}", h)
	mux.Handle("/any/{id}", h)
	mux.Handle("POST /posted/{id}", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { _ = h.Close(); srv.Close() })
	for _, p := range []string{"/any/1", "/posted/1", "/only/1", "/only/2"} {
		resp, err := http.Get(srv.URL + p)
		is.NoErr(err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	resp, err := noRedirect.PostForm(srv.URL+"/only/1", url.Values{"increment": {""}})
	is.NoErr(err)
	resp.Body.Close()
	is.Equal(resp.StatusCode, http.StatusMethodNotAllowed) // what the log warns of
	out := logs.String()
	is.Equal(strings.Count(out, "routed by a pattern for GET only"), 1)
	is.True(strings.Contains(out, `pattern="GET /only/{id}"`))
	is.True(strings.Contains(out, "level=ERROR"))
}
