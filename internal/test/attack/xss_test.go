package attack

import (
	"bytes"
	"context"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/livesse/livesse/internal/livetree"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
)

// hostile are values an attacker stores in a page's state (a chat
// message, a user name), one per template context they try to break out
// of.
var hostile = []string{
	`</script><script>alert(1)</script>`,
	`<img src=x onerror=alert(2)>`,
	`javascript:alert(3)`,
	`" onmouseover="alert(4)`,
	`' onmouseover='alert(5)`,
	`expression(alert(6))`,
	"red;}</style><script>alert(7)</script><style>",
	"line\u2028separator\u2029paragraph",
	`{{.V}} ]]> <!-- --> <![CDATA[`,
	`\u003cscript\u003ealert(8)\u003c/script\u003e`,
}

type xssState struct{ V string }

// xssPage prints the state in every template context: text, a quoted and
// an unquoted attribute, URLs (whole and a query value), JavaScript,
// CSS in a <style> and in a style attribute, and the error message.
const xssPage = `<!doctype html><html><head><title>xss</title></head><body>
<p id="t">{{.V}}</p>
<a id="u" href="{{.V}}">u</a>
<a id="q" href="/search?q={{.V}}">q</a>
<div id="a" title="{{.V}}" data-v={{.V}}>a</div>
<script id="j">window.ltV = {{.V}};</script>
<style id="c">#t::after { content: "{{.V}}"; } #a { color: {{.V}}; }</style>
<div id="s" style="color: {{.V}}">s</div>
<p id="e">{{ltError}}</p>
<form method="post"><input name="v" id="v"><button name="set" id="set">set</button><button name="fail" id="fail">fail</button></form>
</body></html>`

type xssCtrl struct{}

func (xssCtrl) Set(s xssState, ctx *lt.Context) (xssState, error) {
	s.V = ctx.GetString("v")
	return s, nil
}

// Fail shows v as the user's error message.
func (xssCtrl) Fail(s xssState, ctx *lt.Context) (xssState, error) {
	return s, lt.UserError(ctx.GetString("v"))
}

// oracle is html/template's own output of the live region for v with the
// error message msg: what every page and update must show, byte for byte.
func oracle(t *testing.T, v, msg string) string {
	t.Helper()
	tpl := template.Must(template.New("xss").Funcs(template.FuncMap{"ltError": func() string { return msg }}).Parse(xssPage))
	var b bytes.Buffer
	if err := tpl.Execute(&b, xssState{V: v}); err != nil {
		t.Fatal(err)
	}
	start, end, _ := livetree.Region(b.Bytes())
	return b.String()[start:end]
}

func xssApp(t *testing.T) (*httptest.Server, *lt.Handler) {
	t.Helper()
	h, err := lt.New(lt.Must(lt.Parse("xss", xssPage)), &xssCtrl{}, xssState{}, lt.WithLogger(newLogBook().logger()))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() { _ = h.Close(); srv.Close() })
	return srv, h
}

// Hostile values are escaped by html/template in every context, in the
// first page and in every live update: what the tab shows is exactly
// html/template's output, whether the value came from the tab's own
// action, a server action, a reload or an error message.
func TestHostileValuesEscapedLive(t *testing.T) {
	is := is.New(t)
	srv, h := xssApp(t)
	tab := lttest.Open(t, srv.URL+"/")
	// Another session, reached by server actions. (Not the tab's: a server
	// action runs on every connection of a session, the pages loaded below
	// included, and the last to finish saves the session's state.)
	other := lttest.Open(t, srv.URL+"/")
	group := groupOf(t, other.Jar(), srv.URL)
	is.Equal(tab.HTML(), oracle(t, "", ""))

	for _, v := range hostile {
		r := tab.Act("set", url.Values{"v": {v}})
		is.Equal(r.Status, http.StatusOK)
		is.Equal(tab.HTML(), oracle(t, v, "")) // the tab's own update

		// A fresh page of the session: its first render.
		page := lttest.Get(t, srv.URL+"/", lttest.WithJar(tab.Jar()))
		is.Equal(page.HTML(), oracle(t, v, ""))
		is.Equal(strings.Count(page.Page(), "<script"), 2) // lt's and the template's, nothing injected

		// The value as the user's error message.
		r = tab.Act("fail", url.Values{"v": {v}})
		is.Equal(r.Status, http.StatusUnprocessableEntity)
		is.Equal(r.Error, v)
		is.Equal(tab.HTML(), oracle(t, v, v))

		// From the server, to the other tab, as a diff on its stream.
		is.NoErr(h.TriggerSession(context.Background(), group, "set", map[string]any{"v": v + "!"}))
		want := oracle(t, v+"!", "")
		for other.HTML() != want {
			other.Next()
		}
	}
}
