package lt_test

import (
	"html/template"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/go-chi/chi/v5"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
	"go.uber.org/goleak"
)

func TestParseFSAndFiles(t *testing.T) {
	is := is.New(t)
	fsys := fstest.MapFS{
		"pages/page.html":    {Data: []byte(`<body>{{template "count" .}}{{ltError}}</body>`)},
		"pages/partial.html": {Data: []byte(`{{define "count"}}<b>{{.N}}</b>{{end}}`)},
	}
	tmpl, err := lt.ParseFS(fsys, "pages/page.html", "pages/partial.html")
	is.NoErr(err)
	is.Equal(tmpl.Name(), "page.html") // the first file is the page

	dir := t.TempDir()
	for name, f := range fsys {
		p := filepath.Join(dir, filepath.Base(name))
		is.NoErr(os.WriteFile(p, f.Data, 0o644))
	}
	tmpl2, err := lt.ParseFiles(filepath.Join(dir, "page.html"), filepath.Join(dir, "partial.html"))
	is.NoErr(err)

	for _, tm := range []*template.Template{tmpl, tmpl2} {
		h := lt.Must(lt.New(tm, &ctrl{j: newJournal()}, state{N: 5}))
		srv := httptest.NewServer(h)
		t.Cleanup(func() { h.Close(); srv.Close() })
		tab := lttest.Get(t, srv.URL+"/")
		is.True(strings.Contains(tab.Page(), "<body><b>5</b></body>"))
	}

	_, err = lt.ParseFS(fsys, "nothing/*.html")
	is.True(err != nil)
	_, err = lt.ParseFiles()
	is.True(err != nil)
}

// r.Mount hands the handler every path under a prefix; the page, its
// stream and its actions all work there.
func TestChiMount(t *testing.T) {
	is := is.New(t)
	h := lt.Must(lt.New(lt.Must(lt.Parse("p", pageHTML)), &ctrl{j: newJournal()}, state{}))
	r := chi.NewRouter()
	r.Mount("/app", h)
	srv := httptest.NewServer(r)
	t.Cleanup(func() { h.Close(); srv.Close() })
	tab := lttest.Open(t, srv.URL+"/app/sub/page")
	r1 := tab.Act("increment", nil)
	is.Equal(r1.Status, http.StatusOK)
	tab.WaitFor("n=1")
}

// After many streams open and close, nothing is left running.
func TestStreamsLeaveNoGoroutines(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	is := is.New(t)
	j := newJournal()
	h := lt.Must(lt.New(lt.Must(lt.Parse("p", pageHTML)), &ctrl{j: j}, state{}, lt.WithReconnectGrace(1)))
	srv := httptest.NewServer(h)
	tabs := make([]*lttest.Tab, 0, 50)
	for range 50 {
		tab := lttest.Open(t, srv.URL+"/")
		tab.Act("increment", nil)
		tabs = append(tabs, tab)
	}
	for _, tab := range tabs {
		tab.Close()
	}
	is.NoErr(h.Close())
	srv.Close()
	var disconnects int
	for _, e := range j.list() {
		if e == "disconnect" {
			disconnects++
		}
	}
	is.Equal(disconnects, 50) // every connection ended for good
}
