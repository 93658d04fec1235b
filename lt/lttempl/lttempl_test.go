package lttempl_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"

	"github.com/a-h/templ"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttempl"
	"github.com/livesse/livesse/lt/lttempl/internal/corpus"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type errCtrl struct{}

func (errCtrl) Increment(s benchCounter, _ *lt.Context) (benchCounter, error) {
	s.Count++
	return s, nil
}

func (errCtrl) Fail(s benchCounter, _ *lt.Context) (benchCounter, error) {
	return s, lt.UserError(`no <b>"way"</b>`)
}

func TestLivePage(t *testing.T) {
	is := is.New(t)
	h, err := lttempl.New("errors", func(s benchCounter) templ.Component { return corpus.ErrorPage(s.Count) }, &errCtrl{}, benchCounter{})
	is.NoErr(err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer func() { _ = h.Close() }()

	tab := lttest.Open(t, srv.URL+"/")
	is.Equal(tab.HTML(), `<main><output id="count">0</output> </main>`) // templ's space before an if
	r := tab.Act("increment", nil)
	is.Equal(r.Kind, "d")
	is.Equal(r.HTML, `<main><output id="count">1</output> </main>`)
	r = tab.Act("fail", nil) // templ escapes the error lt.ActionError gives it
	is.Equal(r.Status, http.StatusUnprocessableEntity)
	is.True(strings.Contains(r.HTML, `<p role="alert">no &lt;b&gt;&#34;way&#34;&lt;/b&gt;</p></main>`))
	r = tab.Act("increment", nil)
	is.Equal(r.HTML, `<main><output id="count">2</output> </main>`) // the error is gone

	// A keyed list: an insert is a list operation.
	h2, err := lttempl.New("todo", func(s benchTodo) templ.Component { return corpus.TodoPage(s.Items) }, &todoCtrl{}, benchTodo{Items: todoItems(3)})
	is.NoErr(err)
	srv2 := httptest.NewServer(h2)
	defer srv2.Close()
	defer func() { _ = h2.Close() }()
	tab = lttest.Open(t, srv2.URL+"/")
	r = tab.Act("rename", nil)
	is.Equal(r.Kind, "d")
	is.True(strings.Contains(r.Body, `"l":[["u","1",`)) // item 1 changed in place
	is.True(strings.Contains(r.HTML, `<span>atem 1</span>`))
}

// TestServerActionFanOut: a server action reaches every tab of a templ
// page, which render once per state in the batch and share one diff.
func TestServerActionFanOut(t *testing.T) {
	is := is.New(t)
	h, err := lttempl.New("errors", func(s benchCounter) templ.Component { return corpus.ErrorPage(s.Count) }, &errCtrl{}, benchCounter{}, quiet())
	is.NoErr(err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer func() { _ = h.Close() }()
	tabs := []*lttest.Tab{lttest.Open(t, srv.URL+"/"), lttest.Open(t, srv.URL+"/"), lttest.Open(t, srv.URL+"/")}
	is.NoErr(h.TriggerAll(context.Background(), "increment", nil))
	for _, tab := range tabs {
		ev := tab.Next()
		is.Equal(ev.Kind, "d")
		is.Equal(ev.HTML, `<main><output id="count">1</output> </main>`)
	}
}

func TestRenderErrors(t *testing.T) {
	is := is.New(t)
	view := func(s benchCounter) templ.Component { return corpus.CounterPage(s.Count) }
	err := lttempl.Render(view)(context.Background(), io.Discard, "not a state")
	is.True(err != nil && strings.Contains(err.Error(), "state is string"))

	boom := errors.New("boom")
	failing := func(benchCounter) templ.Component {
		return templ.ComponentFunc(func(context.Context, io.Writer) error { return boom })
	}
	err = lttempl.Render(failing)(context.Background(), io.Discard, benchCounter{})
	is.True(errors.Is(err, boom)) // wrapped

	_, err = lttempl.New[benchCounter]("x", nil, &errCtrl{}, benchCounter{})
	is.True(errors.Is(err, lt.ErrBadController))
}

// TestLtDoesNotImportTempl: templ is this adapter's dependency, not lt's.
func TestLtDoesNotImportTempl(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	out, err := exec.Command(goCmd, "list", "-deps", "github.com/livesse/livesse/lt").Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "github.com/a-h/templ") {
		t.Fatal("package lt depends on templ")
	}
}
