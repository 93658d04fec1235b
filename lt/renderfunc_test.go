package lt_test

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
)

type fnState struct {
	Items []string
	Count int
}

type fnCtrl struct{}

func (*fnCtrl) Add(s fnState, ctx *lt.Context) (fnState, error) {
	name := ctx.GetString("name")
	if name == "" {
		return s, lt.UserError("a name, please")
	}
	s.Items = append(s.Items, name)
	return s, nil
}

func (*fnCtrl) Increment(s fnState, _ *lt.Context) (fnState, error) {
	s.Count++
	return s, nil
}

// renderFnPage writes the page by hand, escaping as templ does.
func renderFnPage(ctx context.Context, w io.Writer, state any) error {
	s := state.(fnState)
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html><html><head><title>Todo</title></head><body><main><h1>Todo</h1>`)
	fmt.Fprintf(&b, `<output id="count">%d</output>`, s.Count)
	if msg := lt.ActionError(ctx); msg != "" {
		fmt.Fprintf(&b, `<p role="alert">%s</p>`, html.EscapeString(msg))
	}
	b.WriteString(`<ul>`)
	for i, it := range s.Items {
		fmt.Fprintf(&b, `<li data-key="%d">%s</li>`, i, html.EscapeString(it))
	}
	b.WriteString(`</ul><form method="post"><input name="name"><button name="add">Add</button></form></main></body></html>`)
	_, err := io.WriteString(w, b.String())
	return err
}

func TestNewFuncLivePage(t *testing.T) {
	is := is.New(t)
	h, err := lt.NewFunc("todo", renderFnPage, &fnCtrl{}, fnState{})
	is.NoErr(err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.Close()

	tab := lttest.Open(t, srv.URL+"/")
	is.True(strings.Contains(tab.HTML(), `<output id="count">0</output>`))
	r := tab.Act("increment", nil)
	is.Equal(r.Status, http.StatusOK)
	is.Equal(r.Kind, "d") // a diff, not HTML
	is.True(strings.Contains(r.HTML, `<output id="count">1</output>`))

	r = tab.Act("add", url.Values{"name": {`<script>"x"</script>`}})
	is.Equal(r.Status, http.StatusOK)
	is.True(strings.Contains(r.HTML, `<li data-key="0">&lt;script&gt;&#34;x&#34;&lt;/script&gt;</li>`))
	r = tab.Act("add", url.Values{"name": {"b"}})
	is.True(strings.Contains(r.Body, `["i",1,`)) // the second item is a list insert
	is.True(strings.Contains(r.HTML, `<li data-key="1">b</li>`))

	r = tab.Act("add", nil) // ActionError shows the action's error
	is.Equal(r.Status, http.StatusUnprocessableEntity)
	is.True(strings.Contains(r.HTML, `<p role="alert">a name, please</p>`))
}

func TestNewFuncWithoutJavaScript(t *testing.T) {
	is := is.New(t)
	h, err := lt.NewFunc("todo", renderFnPage, &fnCtrl{}, fnState{})
	is.NoErr(err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.PostForm(srv.URL+"/", url.Values{"add": {""}, "name": {""}})
	is.NoErr(err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	is.Equal(res.StatusCode, http.StatusUnprocessableEntity)
	is.True(strings.Contains(string(body), `<p role="alert">a name, please</p>`))
	is.True(strings.Contains(string(body), `data-lt-conn`))
}

func TestNewFuncRenderErrors(t *testing.T) {
	is := is.New(t)
	_, err := lt.NewFunc("x", nil, &fnCtrl{}, fnState{})
	is.True(errors.Is(err, lt.ErrBadController))

	boom := errors.New("boom")
	for name, render := range map[string]lt.RenderFunc{
		"error": func(context.Context, io.Writer, any) error { return boom },
		"panic": func(context.Context, io.Writer, any) error { panic("boom") },
	} {
		t.Run(name, func(t *testing.T) {
			is := is.New(t)
			h, err := lt.NewFunc("x", render, &fnCtrl{}, fnState{})
			is.NoErr(err)
			defer h.Close()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
			is.Equal(rec.Code, http.StatusInternalServerError) // not a crash
		})
	}
}

func TestViewOutsideRender(t *testing.T) {
	is := is.New(t)
	is.Equal(lt.ActionError(context.Background()), "")
	is.Equal(lt.FieldError(context.Background(), "x"), "")
	is.True(!lt.Invalid(context.Background(), "x"))
}
