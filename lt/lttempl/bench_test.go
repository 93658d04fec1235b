package lttempl_test

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/a-h/templ"
	"github.com/livesse/livesse/internal/livetree"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttempl"
	"github.com/livesse/livesse/lt/lttempl/internal/corpus"
	"github.com/livesse/livesse/lt/lttest"
)

// The same pages as html/template templates: the benchmarks check that
// both write the same HTML before they compare anything.
const (
	counterTmpl = `<!doctype html><html><head><title>Counter</title></head><body><main><h1>Counter</h1>` +
		`<output id="count">{{.}}</output><form method="post"><button name="increment">+</button></form></main></body></html>`
	condTmpl = `<!doctype html><html><head><title>Cond</title></head><body><main><h1>Cond</h1>` +
		`{{if .Flag}}<p class="on">{{.N}}</p>{{else}}<p>off</p>{{end}}<footer>end</footer></main></body></html>`
	todoTmpl = `<!doctype html><html><head><title>Todo</title></head><body><main><h1>Todo</h1><ul>` +
		`{{range .}}<li data-key="{{.ID}}"><input type="checkbox" name="done" value="{{.ID}}"{{if .Done}} checked{{end}}><span>{{.Name}}</span></li>{{end}}` +
		`</ul><form method="post"><input name="name"><button name="add">Add</button></form></main></body></html>`
)

type benchCounter struct{ Count int }

type benchTodo struct{ Items []corpus.Item }

type benchCond struct {
	Flag bool
	N    int
}

type condCtrl struct{}

func (condCtrl) Bump(s benchCond, _ *lt.Context) (benchCond, error) {
	s.N++
	return s, nil
}

func (condCtrl) Flip(s benchCond, _ *lt.Context) (benchCond, error) {
	s.Flag = !s.Flag
	return s, nil
}

type benchCtrl struct{}

func (benchCtrl) Increment(s benchCounter, _ *lt.Context) (benchCounter, error) {
	s.Count++
	return s, nil
}

type todoCtrl struct{}

// Rename changes one item's name, in place, to one of the same length.
func (todoCtrl) Rename(s benchTodo, _ *lt.Context) (benchTodo, error) {
	items := append([]corpus.Item(nil), s.Items...)
	it := &items[len(items)/2]
	if it.Name[0] == 'a' {
		it.Name = "b" + it.Name[1:]
	} else {
		it.Name = "a" + it.Name[1:]
	}
	s.Items = items
	return s, nil
}

func todoItems(n int) []corpus.Item {
	items := make([]corpus.Item, n)
	for i := range items {
		items[i] = corpus.Item{ID: i, Name: fmt.Sprintf("item %d", i), Done: i%3 == 0}
	}
	return items
}

// pair is one page as an html/template page and as a templ page.
type pair struct {
	tmpl, templ *lt.Handler
	action      string
	warm        []string // actions that teach the templ page's Learner first
}

func condPair(tb testing.TB) pair {
	for _, flag := range []bool{true, false} {
		want := renderTmpl(tb, condTmpl, benchCond{flag, 3})
		if got := render(tb, corpus.CondPage(flag, 3)); got != want {
			tb.Fatalf("the pages differ:\n%s\n%s", got, want)
		}
	}
	init := benchCond{Flag: true}
	a := lt.Must(lt.New(lt.Must(lt.Parse("cond", condTmpl)), &condCtrl{}, init, quiet()))
	b := lt.Must(lttempl.New("cond", func(s benchCond) templ.Component { return corpus.CondPage(s.Flag, s.N) }, &condCtrl{}, init, quiet()))
	return pair{a, b, "bump", []string{"flip", "flip"}}
}

func counterPair(tb testing.TB) pair {
	want := renderTmpl(tb, counterTmpl, 7)
	if got := render(tb, corpus.CounterPage(7)); got != want {
		tb.Fatalf("the pages differ:\n%s\n%s", got, want)
	}
	a := lt.Must(lt.New(lt.Must(lt.Parse("counter", replaceDot(counterTmpl))), &benchCtrl{}, benchCounter{}, quiet()))
	b := lt.Must(lttempl.New("counter", func(s benchCounter) templ.Component { return corpus.CounterPage(s.Count) }, &benchCtrl{}, benchCounter{}, quiet()))
	return pair{a, b, "increment", nil}
}

func todoPair(tb testing.TB, n int) pair {
	want := renderTmpl(tb, todoTmpl, todoItems(n))
	if got := render(tb, corpus.TodoPage(todoItems(n))); got != want {
		tb.Fatalf("the pages differ:\n%s\n%s", got, want)
	}
	a := lt.Must(lt.New(lt.Must(lt.Parse("todo", replaceItems(todoTmpl))), &todoCtrl{}, benchTodo{Items: todoItems(n)}, quiet()))
	b := lt.Must(lttempl.New("todo", func(s benchTodo) templ.Component { return corpus.TodoPage(s.Items) }, &todoCtrl{}, benchTodo{Items: todoItems(n)}, quiet()))
	return pair{a, b, "rename", nil}
}

// quiet keeps the streams' log lines out of the benchmark's output.
func quiet() lt.Option { return lt.WithLogger(slog.New(slog.DiscardHandler)) }

func renderTmpl(tb testing.TB, text string, data any) string {
	var b bytes.Buffer
	if err := template.Must(template.New("x").Parse(text)).Execute(&b, data); err != nil {
		tb.Fatal(err)
	}
	return b.String()
}

// replaceDot and replaceItems point the templates, written for a bare
// value, at the state's field.
func replaceDot(s string) string {
	return strings.Replace(s, "{{.}}", "{{.Count}}", 1)
}

func replaceItems(s string) string {
	return strings.Replace(s, "{{range .}}", "{{range .Items}}", 1)
}

// BenchmarkUpdateBytes runs one action on the html/template page and on
// the templ page in turn, over the real wire (POST, the update on the
// stream), and reports the bytes of each update's event data and their
// ratio (templ / html/template). The pages have learned before the timer
// starts (the conditional page has shown both branches).
func BenchmarkUpdateBytes(b *testing.B) {
	for _, tc := range []struct {
		name string
		mk   func(testing.TB) pair
	}{
		{"counter", counterPair},
		{"todo-100", func(tb testing.TB) pair { return todoPair(tb, 100) }},
		{"conditional", condPair},
	} {
		b.Run(tc.name, func(b *testing.B) {
			p := tc.mk(b)
			var tabs [2]*lttest.Tab
			for i, h := range []*lt.Handler{p.tmpl, p.templ} {
				srv := httptest.NewServer(h)
				b.Cleanup(srv.Close)
				b.Cleanup(func() { _ = h.Close() })
				tabs[i] = lttest.Open(b, srv.URL+"/")
				for _, action := range append(p.warm, p.action, p.action) {
					tabs[i].Act(action, nil)
					tabs[i].Next()
				}
			}
			var size [2]int
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for j, tab := range tabs {
					tab.Act(p.action, nil)
					ev := tab.Next()
					if ev.Kind != "d" {
						b.Fatalf("update of kind %q, want a diff", ev.Kind)
					}
					size[j] += ev.Size
				}
			}
			b.ReportMetric(float64(size[0])/float64(b.N), "tmpl-B/op")
			b.ReportMetric(float64(size[1])/float64(b.N), "templ-B/op")
			b.ReportMetric(float64(size[1])/float64(size[0]), "ratio")
		})
	}
}

// BenchmarkRender compares, on the todo page with 100 items, a plain templ
// render with what lt does per update of a templ page (render, split,
// diff) and of an html/template page (instrumented render, parse, diff).
func BenchmarkRender(b *testing.B) {
	a, c := todoItems(100), todoItems(100)
	c[50].Name = "renamed"
	views := []templ.Component{corpus.TodoPage(a), corpus.TodoPage(c)}
	b.Run("templ-plain", func(b *testing.B) {
		var buf bytes.Buffer
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			buf.Reset()
			if err := views[i%2].Render(context.Background(), &buf); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("templ-split-diff", func(b *testing.B) {
		st := livetree.NewStatics()
		l := livetree.NewLearner(st, 0)
		var buf bytes.Buffer
		split := func(v templ.Component) *livetree.Frag {
			buf.Reset()
			if err := v.Render(context.Background(), &buf); err != nil {
				b.Fatal(err)
			}
			f, err := l.Split(buf.Bytes())
			if err != nil {
				b.Fatal(err)
			}
			return f
		}
		split(views[1]) // the Learner sees both states first
		prev := split(views[0])
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			next := split(views[(i+1)%2])
			if ch := livetree.Changes(prev, next); !ch.OK {
				b.Fatal("no diff")
			}
			prev = next
		}
	})
	b.Run("tmpl-parse-diff", func(b *testing.B) {
		tm := template.Must(template.New("b").Parse(todoTmpl))
		var buf bytes.Buffer
		_ = tm.Execute(&buf, a)
		marks, err := livetree.Instrument(tm, livetree.NewNonce())
		if err != nil {
			b.Fatal(err)
		}
		st := livetree.NewStatics()
		states := [][]corpus.Item{a, c}
		parse := func(s []corpus.Item) *livetree.Frag {
			buf.Reset()
			if err := tm.Execute(&buf, s); err != nil {
				b.Fatal(err)
			}
			f, err := marks.Parse(buf.Bytes(), st)
			if err != nil {
				b.Fatal(err)
			}
			return f
		}
		prev := parse(a)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			next := parse(states[(i+1)%2])
			if ch := livetree.Changes(prev, next); !ch.OK {
				b.Fatal("no diff")
			}
			prev = next
		}
	})
}

// BenchmarkSplitCost alternates, in one loop, a plain templ render of the
// 100-item todo page with what lt does per update of it (render, split,
// diff), timing each, so that both see the same machine load; it reports
// the time of each and their ratio.
func BenchmarkSplitCost(b *testing.B) {
	a, c := todoItems(100), todoItems(100)
	c[50].Name = "renamed"
	views := []templ.Component{corpus.TodoPage(a), corpus.TodoPage(c)}
	st := livetree.NewStatics()
	l := livetree.NewLearner(st, 0)
	var buf bytes.Buffer
	renderTo := func(v templ.Component) {
		buf.Reset()
		if err := v.Render(context.Background(), &buf); err != nil {
			b.Fatal(err)
		}
	}
	split := func(v templ.Component) *livetree.Frag {
		renderTo(v)
		f, err := l.Split(buf.Bytes())
		if err != nil {
			b.Fatal(err)
		}
		return f
	}
	split(views[1]) // the Learner sees both states first
	prev := split(views[0])
	var plain, lt time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v := views[(i+1)%2]
		t0 := time.Now()
		renderTo(v)
		t1 := time.Now()
		next := split(v)
		if ch := livetree.Changes(prev, next); !ch.OK {
			b.Fatal("no diff")
		}
		t2 := time.Now()
		prev = next
		plain += t1.Sub(t0)
		lt += t2.Sub(t1)
	}
	b.ReportMetric(float64(plain.Nanoseconds())/float64(b.N), "plain-ns/op")
	b.ReportMetric(float64(lt.Nanoseconds())/float64(b.N), "split-diff-ns/op")
	b.ReportMetric(float64(lt)/float64(plain), "ratio")
}
