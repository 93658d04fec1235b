package lt_test

import (
	"context"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
)

// revealState is plain data (a slice makes it not comparable), so a batch
// keys it by its JSON.
type revealState struct {
	Who  string
	N    int
	Show bool
	Tags []string
}

type revealCtrl struct{}

func (revealCtrl) Mount(s revealState, ctx *lt.Context) (revealState, error) {
	s.Who = ctx.URLParam("who")
	return s, nil
}

func (revealCtrl) Reveal(s revealState, ctx *lt.Context) (revealState, error) {
	s.Show, s.N = true, ctx.GetInt("n")
	s.Tags = []string{"t" + ctx.GetString("n")}
	return s, nil
}

// A server action reaching many tabs renders once per distinct state, yet
// every tab gets its own page and exactly the statics it lacks.
func TestBatchRendersOncePerDistinctState(t *testing.T) {
	is := is.New(t)
	var renders atomic.Int64
	funcs := lt.Funcs()
	funcs["counted"] = func(who string) string { // a render of a real state, not a new renderer's warm-up
		if who != "" {
			renders.Add(1)
		}
		return ""
	}
	page := `<html><body>{{counted .Who}}<p>{{.Who}}</p>{{if .Show}}<b>shown {{.N}} to {{.Who}}</b>{{range .Tags}}<i>{{.}}</i>{{end}}{{end}}</body></html>`
	tmpl := template.Must(template.New("reveal").Funcs(funcs).Parse(page))
	h, err := lt.New(tmpl, &revealCtrl{}, revealState{})
	is.NoErr(err)
	r := chi.NewRouter()
	r.Handle("/{who}", h)
	srv := httptest.NewServer(r)
	t.Cleanup(func() { _ = h.Close(); srv.Close() })

	var tabs []*lttest.Tab
	for _, who := range []string{"a", "a", "a", "b", "b", "b"} {
		tabs = append(tabs, lttest.Open(t, srv.URL+"/"+who))
	}
	// The first tab has seen the revealed fragment (and its statics) once.
	res := tabs[0].Act("reveal", url.Values{"n": {"1"}})
	is.Equal(res.Status, http.StatusOK)
	is.True(strings.Contains(res.HTML, "shown 1 to a"))

	before := renders.Load()
	is.NoErr(h.TriggerAll(context.Background(), "reveal", map[string]any{"n": 7}))
	for i, tab := range tabs {
		who := "a"
		if i >= 3 {
			who = "b"
		}
		ev := tab.WaitFor("shown 7 to " + who + "</b><i>t7</i>")
		hasStatics := strings.Contains(string(ev.Raw()), `"S":`)
		is.Equal(hasStatics, i != 0) // tab 0 had the statics; the others had not
	}
	is.Equal(renders.Load()-before, int64(2)) // two distinct states: a and b
}
