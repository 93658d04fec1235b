package livetree

import (
	"fmt"
	"html/template"
	"strings"
)

// Item and State feed the corpus templates.
type Item struct {
	ID   int
	Name string
	Done bool
	Tags []string
}

type State struct {
	N      int
	S      string
	U      string
	C      string
	Flag   bool
	Mode   string
	Items  []Item
	Groups [][]Item
	Ptr    *Item
	Raw    template.HTML
}

var funcs = template.FuncMap{
	"upper":   strings.ToUpper,
	"add":     func(a, b int) int { return a + b },
	"ltError": func() string { return "" },
}

// corpus covers every construct the splitter handles, and those it falls
// back on.
var corpus = map[string]string{
	"value":      `<!DOCTYPE html><html><head><title>{{.S}}</title></head><body><p id="n">{{.N}}</p></body></html>`,
	"fragment":   `<p>{{.N}}</p><span>{{.S}}</span>`,
	"if":         `<div>{{if .Flag}}<b>on {{.N}}</b>{{else if eq .Mode "x"}}<i>x {{.S}}</i>{{else}}<u>off</u>{{end}}</div>`,
	"if-noelse":  `<div>{{if .Flag}}<b>{{.N}}</b>{{end}}|{{if not .Flag}}{{.S}}{{end}}</div>`,
	"with":       `{{with .Ptr}}<p>{{.Name}} #{{.ID}}</p>{{else}}<p>none</p>{{end}}{{with $x := .N}}{{$x}}{{end}}`,
	"range-key":  `<ul>{{range .Items}}<li data-key="{{.ID}}">{{.Name}}{{if .Done}} ✓{{end}}</li>{{end}}</ul>`,
	"range-id":   `<table>{{range $i, $it := .Items}}<tr id="row-{{$it.ID}}"><td>{{$i}}</td><td>{{$it.Name}}</td></tr>{{end}}</table>`,
	"range-pos":  `<ol>{{range .Items}}<li>{{.Name}}</li>{{end}}</ol>`,
	"range-else": `<ul>{{range .Items}}<li data-key="{{.ID}}">{{.Name}}</li>{{else}}<li>empty</li>{{end}}</ul>`,
	"nested": `{{range $g, $items := .Groups}}<section data-key="g{{$g}}"><h2>{{len $items}}</h2>` +
		`{{range $items}}<p data-key="{{.ID}}">{{.Name}}{{range .Tags}}<em>{{.}}</em>{{end}}</p>{{end}}</section>{{end}}`,
	"template": `{{define "item"}}<li data-key="{{.ID}}">{{template "name" .}}</li>{{end}}{{define "name"}}<b>{{.Name}}</b>{{end}}` +
		`<ul>{{range .Items}}{{template "item" .}}{{end}}</ul>{{block "footer" .}}<footer>{{.N}}</footer>{{end}}`,
	"vars-pipes": `{{$n := .N}}{{$s := upper .S}}<p>{{$n}} {{$s}} {{.S | printf "%q"}} {{add .N 1}} {{len .Items}}</p>` +
		`{{/* a comment */}}<p>  {{- .N -}}  </p>{{range $i, $_ := .Items}}{{if $i}}, {{end}}{{$i}}{{end}}`,
	"contexts": `<a href="{{.U}}" title="{{.S}}" data-n="{{.N}}">{{.S}}</a><a href="/q?x={{.S}}">q</a>` +
		`<script>var s = {{.S}}; var n = {{.N}}; var o = {{.Ptr}};</script><style>p { color: {{.C}}; }</style>` +
		`<p style="color: {{.C}}">{{.S}}</p><button onclick="f({{.S}})">b</button><textarea>{{.S}}</textarea>`,
	"break":          `<ul>{{range .Items}}{{if .Done}}{{continue}}{{end}}<li>{{.Name}}</li>{{if gt .ID 5}}{{break}}{{end}}{{end}}</ul>{{.N}}`,
	"derived":        `{{define "t"}}{{.S}}{{end}}<p title="{{template "t" .}}">{{template "t" .}}</p>`,
	"range-template": `{{define "x"}}<i>{{.}}</i>{{end}}<p>{{range .Items}}{{if .Done}}{{break}}{{end}}{{template "x" .Name}}{{end}}</p>`,
	"raw":            `<div>{{.Raw}}</div><p>{{.N}}</p>`,
	"attrs-if":       `<p class="{{if .Flag}}on{{else}}off{{end}}" {{if .Flag}}data-on="1"{{end}}>{{.N}}</p>`,
}

func parseCorpus(name string) *template.Template {
	return template.Must(template.New(name).Funcs(funcs).Parse(corpus[name]))
}

// nasty values exercise html/template's contextual escaping.
var nasty = []string{
	"", "plain", `<script>alert(1)</script>`, `"quoted" & 'single'`, `javascript:alert(1)`,
	`</style><script>x</script>`, "line\nbreak", "ünïcødé ✓", `\`, "a\u2028b", "{{.N}}", "</body>",
}

// genStates turns fuzz bytes into a sequence of states.
func genStates(data []byte) []State {
	r := &byteReader{b: data}
	n := 1 + int(r.next()%6)
	states := make([]State, 0, n)
	for range n {
		var s State
		s.N = int(r.next()) - 100
		s.S = nasty[int(r.next())%len(nasty)]
		s.U = []string{"/a?b=1", "javascript:alert(1)", "https://x.example/<p>", ""}[r.next()%4]
		s.C = []string{"red", "expression(alert(1))", "</style>", "#fff"}[r.next()%4]
		s.Flag = r.next()%2 == 0
		s.Mode = []string{"x", "y"}[r.next()%2]
		items := int(r.next() % 7)
		for i := range items {
			id := int(r.next() % 9)
			s.Items = append(s.Items, Item{ID: id, Name: fmt.Sprintf("n%d%s", i, nasty[int(r.next())%3]), Done: r.next()%3 == 0,
				Tags: []string{"t", "u"}[:r.next()%3%2+1]})
		}
		groups := int(r.next() % 3)
		for g := range groups {
			s.Groups = append(s.Groups, s.Items[:min(len(s.Items), g+1)])
		}
		if r.next()%2 == 0 {
			s.Ptr = &Item{ID: int(r.next()), Name: nasty[int(r.next())%len(nasty)]}
		}
		s.Raw = template.HTML([]string{"<b>bold</b>", "x\x00y", ""}[r.next()%3])
		states = append(states, s)
	}
	return states
}

type byteReader struct {
	b []byte
	i int
}

func (r *byteReader) next() byte {
	if len(r.b) == 0 {
		return 0
	}
	c := r.b[r.i%len(r.b)] ^ byte(r.i*31)
	r.i++
	return c
}
