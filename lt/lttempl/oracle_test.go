package lttempl_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/a-h/templ"
	"github.com/livesse/livesse/internal/livetree"
	"github.com/livesse/livesse/lt/lttempl/internal/corpus"
)

// session splits renders like one connection of a templ page: Learner
// trees, a full tree first and whenever the root fragment changes, diffs
// otherwise, applied to livetree.Client, the Go twin of the browser's tree
// code, which must show exactly what templ rendered.
type session struct {
	t      testing.TB
	l      *livetree.Learner
	st     *livetree.Statics
	enc    *livetree.Encoder
	client *livetree.Client
	prev   *livetree.Frag
	steps  []step
}

// step is one message, as web/test/oracle-run.mjs reads it.
type step struct {
	Tree    string `json:"tree,omitempty"`
	Diff    string `json:"diff,omitempty"`
	Statics string `json:"statics,omitempty"`
	HTML    string `json:"html,omitempty"`
	Want    string `json:"want"`
}

func newSession(t testing.TB, l *livetree.Learner, st *livetree.Statics) *session {
	return &session{t: t, l: l, st: st, enc: livetree.NewEncoder(st), client: livetree.NewClient()}
}

// shown is what a client shows of html: JSON strings carry only UTF-8, so
// each byte of invalid UTF-8 arrives as U+FFFD, as a browser decoding the
// page shows it.
func shown(html string) string {
	if utf8.ValidString(html) {
		return html
	}
	var b strings.Builder
	for i := 0; i < len(html); {
		r, n := utf8.DecodeRuneInString(html[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteString("\uFFFD")
		} else {
			b.WriteString(html[i : i+n])
		}
		i += n
	}
	return b.String()
}

func (s *session) step(html string) step {
	s.t.Helper()
	m := step{Want: shown(html)}
	tree, err := s.l.Split([]byte(html))
	switch {
	case errors.Is(err, livetree.ErrShapes):
		m.HTML = m.Want
		s.prev, s.client = nil, livetree.NewClient()
		s.steps = append(s.steps, m)
		return m
	case err != nil:
		s.t.Fatal(err)
	}
	if got := tree.Render(s.st); got != html {
		s.t.Fatalf("tree renders\n%q\ntempl rendered\n%q", got, html)
	}
	if s.prev != nil && s.prev.ID == tree.ID {
		if d, st, ok := s.enc.Diff(s.prev, tree); ok {
			m.Diff, m.Statics = string(d), string(st)
			must(s.t, s.client.Learn(st))
			must(s.t, s.client.Patch(d))
		}
	} else {
		tr, st := s.enc.Full(tree, true)
		m.Tree, m.Statics = string(tr), string(st)
		must(s.t, s.client.Learn(st))
		must(s.t, s.client.Replace(tr))
	}
	got, err := s.client.HTML()
	must(s.t, err)
	if got != m.Want {
		s.t.Fatalf("client shows\n%q\ntempl rendered\n%q\nafter diff %s tree %s statics %s", got, html, m.Diff, m.Tree, m.Statics)
	}
	s.prev = tree
	s.steps = append(s.steps, m)
	return m
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func render(t testing.TB, c templ.Component) string {
	t.Helper()
	var b bytes.Buffer
	if err := c.Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// nasty values test templ's escaping and the splitter's cuts.
var nasty = []string{
	"", "plain", `<script>alert(1)</script>`, `"quoted" & 'single'`, `javascript:alert(1)`,
	`</style><script>x</script>`, "line\nbreak", "ünïcødé ✓", `\`, "a\u2028b", "]]>", "</body>",
	"\x00nul", "\xff\xfebad utf-8\xc3", "<!--", "-->", `{{ .N }}`, "</script>", "a=b c", "'",
}

// raws is trusted HTML for templ.Raw: markup whose shape changes.
var raws = []string{"<b>bold</b>", "", "<i>x</i><br>text", "<ul><li id=\"a\">a</li><li id=\"b\">b</li></ul>", "x\x00y"}

// genStates turns bytes into a sequence of states.
func genStates(data []byte) []corpus.State {
	r := &byteReader{b: data}
	n := 1 + int(r.next()%6)
	states := make([]corpus.State, 0, n)
	for range n {
		var s corpus.State
		s.N = int(r.next()) - 100
		s.S = nasty[int(r.next())%len(nasty)]
		s.U = []string{"/a?b=1", "javascript:alert(1)", "https://x.example/<p>", ""}[r.next()%4]
		s.C = []string{"red", "expression(alert(1))", "</style>", "#fff"}[r.next()%4]
		s.Flag = r.next()%2 == 0
		s.Mode = []string{"x", "y"}[r.next()%2]
		for i := range int(r.next() % 7) {
			id := int(r.next() % 9)
			s.Items = append(s.Items, corpus.Item{ID: id, Name: fmt.Sprintf("n%d%s", i, nasty[int(r.next())%len(nasty)]),
				Done: r.next()%3 == 0, Tags: []string{"t", "u"}[:r.next()%3%2+1]})
		}
		for g := range int(r.next() % 3) {
			s.Groups = append(s.Groups, s.Items[:min(len(s.Items), g+1)])
		}
		if r.next()%2 == 0 {
			s.Ptr = &corpus.Item{ID: int(r.next()), Name: nasty[int(r.next())%len(nasty)]}
		}
		if k := r.next() % 4; k > 0 {
			s.Attrs = templ.Attributes{"data-x": nasty[int(r.next())%len(nasty)], "hidden": k == 2, "aria-label": s.S}
			if k == 3 {
				s.Attrs["data-extra"] = "1"
			}
		}
		s.Raw = raws[int(r.next())%len(raws)]
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

var seeds = [][]byte{
	{0}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
	[]byte("the quick brown fox jumps over the lazy dog"),
	[]byte("\xff\xfe\xfd\x00\x01\x02 livesse 0123456789 ABCDEFGHIJKLMNOP"),
	bytes.Repeat([]byte{7, 200, 3, 91}, 40),
	bytes.Repeat([]byte{42}, 64),
}

// moreSeeds are the seeds and fixed random ones.
func moreSeeds(n int) [][]byte {
	out := slices.Clone(seeds)
	r := rand.New(rand.NewPCG(1, 2))
	for range n {
		b := make([]byte, 4+r.IntN(60))
		for i := range b {
			b[i] = byte(r.UintN(256))
		}
		out = append(out, b)
	}
	return out
}

func names() []string {
	return slices.Sorted(func(yield func(string) bool) {
		for n := range corpus.Pages() {
			if !yield(n) {
				return
			}
		}
	})
}

// run runs states forward and back through a session of l.
func run(t testing.TB, l *livetree.Learner, st *livetree.Statics, view func(corpus.State) templ.Component, states []corpus.State) *session {
	s := newSession(t, l, st)
	for _, x := range states {
		s.step(render(t, view(x)))
	}
	for i := len(states) - 1; i >= 0; i-- {
		s.step(render(t, view(states[i])))
	}
	return s
}

// TestOracleCorpus: over every component of the corpus and many state
// sequences, the client shows exactly what templ renders.
func TestOracleCorpus(t *testing.T) {
	pages := corpus.Pages()
	var kinds [3]int
	for _, name := range names() {
		t.Run(name, func(t *testing.T) {
			st := livetree.NewStatics()
			l := livetree.NewLearner(st, 0) // one per page, as lt has
			for _, seed := range moreSeeds(60) {
				s := run(t, l, st, pages[name], genStates(seed))
				for _, m := range s.steps {
					switch {
					case m.Tree != "":
						kinds[0]++
					case m.Diff != "":
						kinds[1]++
					default:
						kinds[2]++
					}
				}
			}
		})
	}
	t.Logf("%d full trees, %d diffs, %d steps without change", kinds[0], kinds[1], kinds[2])
}

// FuzzOracle runs the corpus over state sequences made of the fuzz input.
func FuzzOracle(f *testing.F) {
	for _, seed := range seeds {
		f.Add(seed)
	}
	pages := corpus.Pages()
	list := names()
	f.Fuzz(func(t *testing.T, data []byte) {
		states := genStates(data)
		for _, name := range list {
			st := livetree.NewStatics()
			run(t, livetree.NewLearner(st, 0), st, pages[name], states)
		}
	})
}

// TestJavaScriptClient replays corpus sessions with the browser client's
// tree code (web/src/tree.js): it shows what templ rendered.
func TestJavaScriptClient(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("cannot check the JavaScript client: node is not on PATH")
		}
		t.Skip("skipping the JavaScript client check: node is not on PATH")
	}
	type jsCase struct {
		Name  string `json:"name"`
		Steps []step `json:"steps"`
	}
	var cases []jsCase
	pages := corpus.Pages()
	for _, name := range names() {
		st := livetree.NewStatics()
		l := livetree.NewLearner(st, 0)
		for i, seed := range moreSeeds(30) {
			s := run(t, l, st, pages[name], genStates(seed))
			cases = append(cases, jsCase{Name: fmt.Sprintf("%s seed %d", name, i), Steps: s.steps})
		}
	}
	in, err := json.Marshal(cases)
	must(t, err)
	file := filepath.Join(t.TempDir(), "cases.json")
	must(t, os.WriteFile(file, in, 0o644))
	cmd := exec.Command(node, filepath.Join("test", "oracle-run.mjs"), file)
	cmd.Dir = filepath.Join("..", "..", "web")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node test/oracle-run.mjs: %v\n%.4000s", err, stderr.String())
	}
	var got [][]string
	must(t, json.Unmarshal(out, &got))
	if len(got) != len(cases) {
		t.Fatalf("oracle-run answered %d sessions, want %d", len(got), len(cases))
	}
	for i, c := range cases {
		for j, m := range c.Steps {
			if got[i][j] != m.Want {
				t.Fatalf("%s step %d: JavaScript renders\n%q\nwant\n%q", c.Name, j, got[i][j], m.Want)
			}
		}
	}
}
