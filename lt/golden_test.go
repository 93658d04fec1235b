package lt_test

import (
	"flag"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

type todoState struct {
	Title string
	Items []todoItem
	Next  int
}

type todoItem struct {
	ID   int
	Text string
}

type todoCtrl struct{}

func (*todoCtrl) Add(s todoState, ctx *lt.Context) (todoState, error) {
	s.Next++
	s.Items = append(s.Items, todoItem{ID: s.Next, Text: ctx.GetString("text")})
	return s, nil
}

func (*todoCtrl) Remove(s todoState, ctx *lt.Context) (todoState, error) {
	id := ctx.GetInt("id")
	for i, it := range s.Items {
		if it.ID == id {
			s.Items = append(s.Items[:i:i], s.Items[i+1:]...)
		}
	}
	return s, nil
}

func (*todoCtrl) Top(s todoState, ctx *lt.Context) (todoState, error) {
	id := ctx.GetInt("id")
	for i, it := range s.Items {
		if it.ID == id {
			s.Items = append([]todoItem{it}, append(s.Items[:i:i], s.Items[i+1:]...)...)
		}
	}
	return s, nil
}

func (*todoCtrl) Rename(s todoState, ctx *lt.Context) (todoState, error) {
	s.Title = ctx.GetString("title")
	return s, nil
}

const todoHTML = `<!DOCTYPE html><html><head><title>{{.Title}}</title></head><body>` +
	`<h1>{{.Title}}</h1>{{if .Items}}<ul>{{range .Items}}<li data-key="{{.ID}}">{{.Text}}</li>{{end}}</ul>` +
	`{{else}}<p>Nothing to do.</p>{{end}}</body></html>`

// TestProtocolGolden pins the wire format of docs/protocol.md: a first
// render, a one-value update, a branch appearing (with its statics), keyed
// list insert, move and remove, and a resync. Run with -update to rewrite.
func TestProtocolGolden(t *testing.T) {
	h := lt.Must(lt.New(lt.Must(lt.Parse("todo", todoHTML)), &todoCtrl{}, todoState{Title: "Todo"}))
	srv := httptest.NewServer(h)
	t.Cleanup(func() { h.Close(); srv.Close() })
	tab := lttest.OpenStream(t, srv.URL+"/")
	var b strings.Builder
	record := func(what, conn, data string) {
		b.WriteString("# " + what + "\n" + strings.ReplaceAll(data, conn, "CONN") + "\n\n")
	}
	// OpenStream consumed the first render; a second stream shows one.
	_, first := tab.OpenStreamFor("", 0)
	record("render: the first event of a stream without a sequence number", first.Conn, string(first.Raw()))
	steps := []struct {
		what, action string
		fields       url.Values
	}{
		{"update: one value changed", "rename", url.Values{"title": {"Today"}}},
		{"update: a branch appears; its statics come along", "add", url.Values{"text": {"milk"}}},
		{"update: keyed insert at the end", "add", url.Values{"text": {"eggs"}}},
		{"update: keyed move", "top", url.Values{"id": {"2"}}},
		{"update: keyed remove", "remove", url.Values{"id": {"1"}}},
		{"update: an action that changes nothing (POST answer only)", "remove", url.Values{"id": {"42"}}},
	}
	for _, s := range steps {
		r := tab.Act(s.action, s.fields)
		record(s.what, tab.Conn(), r.Body)
	}
	got := b.String()
	path := filepath.Join("testdata", "protocol.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./lt -run Golden -update to create it)", err)
	}
	if got != string(want) {
		t.Fatalf("the wire format changed; if on purpose, update docs/protocol.md and run with -update.\ngot:\n%s\nwant:\n%s", got, want)
	}
}
