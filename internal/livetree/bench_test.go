package livetree

import (
	"bytes"
	"fmt"
	"html/template"
	"testing"
)

// The benchmarks render, split and diff typical updates, and report the
// bytes an update puts on the wire ("wire-B/op": the diff and any new
// statics) beside the bytes of the whole page ("html-B/op"), which is what
// an update carrying full HTML would send. BenchmarkFullHTML measures a
// plain html/template render of the same page for comparison of ns/op.

type row struct {
	ID    int
	Name  string
	Price int
}

type table struct {
	Title string
	Rows  []row
}

const tableTmpl = `<!DOCTYPE html><html><head><title>{{.Title}}</title></head><body><h1>{{.Title}}</h1>` +
	`<table>{{range .Rows}}<tr id="r{{.ID}}"><td>{{.ID}}</td><td>{{.Name}}</td><td>{{.Price}}</td></tr>{{end}}</table></body></html>`

const counterTmpl = `<!DOCTYPE html><html><head><title>Counter</title></head><body><main><h1>Counter</h1>` +
	`<output id="count">{{.}}</output><form method="post"><button name="increment">+</button>` +
	`<button name="decrement">-</button></form></main></body></html>`

func rows(n int) []row {
	out := make([]row, n)
	for i := range out {
		out[i] = row{ID: i, Name: fmt.Sprintf("item %d", i), Price: i * 3}
	}
	return out
}

// benchUpdate measures turning state a into state b, alternately, so every
// iteration renders, parses and diffs a real change.
func benchUpdate(b *testing.B, text string, a, c any) {
	tm := template.Must(template.New("b").Parse(text))
	var buf bytes.Buffer
	_ = tm.Execute(&buf, a)
	marks, err := Instrument(tm, NewNonce())
	if err != nil {
		b.Fatal(err)
	}
	st := NewStatics()
	enc := NewEncoder(st)
	render := func(state any) *Frag {
		buf.Reset()
		if err := tm.Execute(&buf, state); err != nil {
			b.Fatal(err)
		}
		f, err := marks.Parse(buf.Bytes(), st)
		if err != nil {
			b.Fatal(err)
		}
		return f
	}
	prev := render(a)
	enc.Full(prev, false)
	html := len(prev.Render(st))
	states := []any{c, a}
	wire := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		next := render(states[i%2])
		d, s, ok := enc.Diff(prev, next)
		if ok {
			wire += len(d) + len(s)
		}
		prev = next
	}
	b.ReportMetric(float64(wire)/float64(b.N), "wire-B/op")
	b.ReportMetric(float64(html), "html-B/op")
}

func BenchmarkCounterIncrement(b *testing.B) { benchUpdate(b, counterTmpl, 41, 42) }

func BenchmarkTableOneCell(b *testing.B) {
	a := table{Title: "t", Rows: rows(1000)}
	c := table{Title: "t", Rows: rows(1000)}
	c.Rows[500].Price = 999999
	benchUpdate(b, tableTmpl, a, c)
}

func BenchmarkTableAppendRow(b *testing.B) {
	a := table{Title: "t", Rows: rows(1000)}
	c := table{Title: "t", Rows: append(rows(1000), row{ID: 1000, Name: "new", Price: 1})}
	benchUpdate(b, tableTmpl, a, c)
}

func BenchmarkTableMoveRow(b *testing.B) {
	a := table{Title: "t", Rows: rows(1000)}
	moved := rows(1000)
	moved = append([]row{moved[700]}, append(moved[:700:700], moved[701:]...)...)
	benchUpdate(b, tableTmpl, a, table{Title: "t", Rows: moved})
}

func BenchmarkTableNoChange(b *testing.B) {
	a := table{Title: "t", Rows: rows(1000)}
	benchUpdate(b, tableTmpl, a, a)
}

func BenchmarkFullHTMLTable(b *testing.B) {
	tm := template.Must(template.New("b").Parse(tableTmpl))
	a := table{Title: "t", Rows: rows(1000)}
	var buf bytes.Buffer
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf.Reset()
		_ = tm.Execute(&buf, a)
	}
	b.ReportMetric(float64(buf.Len()), "html-B/op")
}

func BenchmarkFullHTMLCounter(b *testing.B) {
	tm := template.Must(template.New("b").Parse(counterTmpl))
	var buf bytes.Buffer
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf.Reset()
		_ = tm.Execute(&buf, 42)
	}
	b.ReportMetric(float64(buf.Len()), "html-B/op")
}
