package lttest_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
)

type row struct {
	ID   string
	Text string
}

type feedState struct{ Title string }

type feed struct{}

func (*feed) Mount(s feedState, ctx *lt.Context) (feedState, error) {
	l := ctx.List("rows", "row")
	return s, l.Append(row{"r1", "one"})
}

func (*feed) Add(s feedState, ctx *lt.Context) (feedState, error) {
	l := ctx.List("rows", "row")
	if err := l.Append(row{ctx.GetString("id"), ctx.GetString("text")}); err != nil {
		return s, err
	}
	return s, nil
}

func (*feed) Top(s feedState, ctx *lt.Context) (feedState, error) {
	return s, ctx.List("rows", "row").Prepend(row{"r0", "zero"})
}

func (*feed) Edit(s feedState, ctx *lt.Context) (feedState, error) {
	return s, ctx.List("rows", "row").Update(row{"r1", "ONE"})
}

func (*feed) Drop(s feedState, ctx *lt.Context) (feedState, error) {
	return s, ctx.List("rows", "row").Delete("r0")
}

func (*feed) Rename(s feedState, _ *lt.Context) (feedState, error) {
	s.Title = "renamed"
	return s, nil
}

func (*feed) Clear(s feedState, ctx *lt.Context) (feedState, error) {
	return s, ctx.List("rows", "row").Reset()
}

// A Tab shows a page's live lists as the browser does: the items the
// server sent, kept through updates and renders of the page, changed by
// each update's L.
func TestLiveLists(t *testing.T) {
	is := is.New(t)
	page := lt.Must(lt.Parse("feed", `{{define "row"}}<li id="{{.ID}}">{{.Text}}</li>{{end}}<!doctype html><html><body>
<h1>{{.Title}}</h1><ul id="rows" data-lt-list>{{ltList "rows"}}</ul><p>after</p>
</body></html>`))
	h, err := lt.New(page, &feed{}, feedState{Title: "feed"})
	is.NoErr(err)
	srv := httptest.NewServer(h)
	t.Cleanup(func() { _ = h.Close(); srv.Close() })
	tab := lttest.Open(t, srv.URL+"/")
	items := func() string {
		h := tab.HTML()
		start := strings.Index(h, `<ul id="rows" data-lt-list>`)
		end := strings.Index(h, "</ul>")
		if start < 0 || end < start {
			t.Fatalf("no list in %s", h)
		}
		return h[start+len(`<ul id="rows" data-lt-list>`) : end]
	}
	is.Equal(items(), `<li id="r1">one</li>`) // Mount's item, in the page

	tab.Act("add", map[string][]string{"id": {"r2"}, "text": {"two <b>"}})
	is.Equal(items(), `<li id="r1">one</li><li id="r2">two &lt;b&gt;</li>`)
	tab.Act("top", nil)
	tab.Act("edit", nil)
	is.Equal(items(), `<li id="r0">zero</li><li id="r1">ONE</li><li id="r2">two &lt;b&gt;</li>`)
	tab.Act("rename", nil) // the page changes; the list stays
	is.True(strings.Contains(tab.HTML(), "<h1>renamed</h1>"))
	is.Equal(items(), `<li id="r0">zero</li><li id="r1">ONE</li><li id="r2">two &lt;b&gt;</li>`)
	tab.Act("drop", nil)
	is.Equal(items(), `<li id="r1">ONE</li><li id="r2">two &lt;b&gt;</li>`)
	is.True(strings.Contains(tab.HTML(), "<p>after</p>"))

	// A second tab of the browser sees its own connection's list.
	other := lttest.Open(t, srv.URL+"/", lttest.WithJar(tab.Jar()))
	is.True(strings.Contains(other.HTML(), `<ul id="rows" data-lt-list><li id="r1">one</li></ul>`))

	tab.Act("clear", nil)
	is.Equal(items(), "")
}
