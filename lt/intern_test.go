package lt_test

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"

	"github.com/livesse/livesse/internal/livetree"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
)

// Connections of one page share the parts of their trees that render
// alike (issue 16), yet no tab ever shows another's values: tabs in equal
// and in different states (each its own order of the rows), after
// fan-outs and after one tab's own actions, each show exactly what
// html/template renders for their own state (lttest reconstructs each
// tab's page with livetree.Client, the Go twin of the browser's code).
func TestSharedTreesKeepEachTabsOwnPage(t *testing.T) {
	is := is.New(t)
	rows := &tableRows{}
	for i := range 20 {
		rows.names = append(rows.names, fmt.Sprintf("item %d", i))
	}
	text := `<!DOCTYPE html><html><head><title>Table</title></head><body><h1>Table {{.N}}</h1>` +
		`<table>{{range rows .Sort .N}}<tr id="r{{.ID}}"><td>{{.ID}}</td><td>{{.Name}}</td><td>{{.Price}}</td></tr>{{end}}</table></body></html>`
	page := template.Must(template.New("table").Funcs(lt.Funcs()).Funcs(template.FuncMap{"rows": rows.rows}).Parse(text))
	plain := template.Must(page.Clone())
	h, err := lt.New(page, &tableCtrl{}, tableState{})
	is.NoErr(err)
	srv := httptest.NewServer(h)
	t.Cleanup(func() { _ = h.Close(); srv.Close() })

	want := func(s tableState) string {
		var b bytes.Buffer
		is.NoErr(plain.Execute(&b, s))
		start, end, _ := livetree.Region(b.Bytes())
		return b.String()[start:end]
	}
	sorts := []int{0, 0, 3, 7, 3}
	states := make([]tableState, len(sorts))
	tabs := make([]*lttest.Tab, len(sorts))
	for i, s := range sorts {
		tabs[i] = lttest.Open(t, srv.URL+"/?sort="+strconv.Itoa(s))
		states[i] = tableState{Sort: s}
		is.Equal(tabs[i].HTML(), want(states[i]))
	}
	check := func(step string) {
		t.Helper()
		for i, tab := range tabs {
			if got := tab.HTML(); got != want(states[i]) {
				t.Fatalf("%s: tab %d (%+v) shows\n%s\nwant\n%s", step, i, states[i], got, want(states[i]))
			}
		}
	}
	for round, n := range []int{5, 9, 0, 9, 11} {
		is.NoErr(h.TriggerAll(context.Background(), "tick", map[string]any{"n": n}))
		for i, tab := range tabs {
			if states[i].N != n {
				tab.WaitFor(fmt.Sprintf("<h1>Table %d</h1>", n))
			}
			states[i].N = n
		}
		check(fmt.Sprintf("fan-out %d", round))
		// One tab of each pair in equal states moves on alone, and the
		// others must not see it.
		k := round % len(tabs)
		res := tabs[k].Act("tick", url.Values{"n": {strconv.Itoa(100 + round)}})
		is.Equal(res.Error, "")
		states[k].N = 100 + round
		tabs[k].WaitFor(fmt.Sprintf("<h1>Table %d</h1>", 100+round))
		check(fmt.Sprintf("tab %d's action in round %d", k, round))
	}
}
