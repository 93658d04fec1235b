package livetree

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/matryer/is"
)

// lsession splits pages like one connection of a page built on a
// renderer: Learner trees, full and diff messages as lt sends them (a full
// tree when the root fragment changed), applied to the Go client, which
// must show exactly what was rendered.
type lsession struct {
	t      testing.TB
	l      *Learner
	st     *Statics
	enc    *Encoder
	client *Client
	prev   *Frag
	msgs   []message
}

func newLSession(t testing.TB, l *Learner, st *Statics) *lsession {
	return &lsession{t: t, l: l, st: st, enc: NewEncoder(st), client: NewClient()}
}

// shown is what a client shows of html: JSON carries only UTF-8, so each
// byte of invalid UTF-8 arrives as U+FFFD (WriteString), as a browser
// shows the page from its GET too.
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

// step splits html and checks the client against it.
func (s *lsession) step(html string) message {
	s.t.Helper()
	m := message{Want: shown(html)}
	tree, err := s.l.Split([]byte(html))
	switch {
	case errors.Is(err, ErrShapes):
		m.HTML = m.Want
		s.prev, s.client = nil, NewClient()
		s.msgs = append(s.msgs, m)
		return m
	case err != nil:
		s.t.Fatal(err)
	}
	if got := tree.Render(s.st); got != html {
		s.t.Fatalf("tree renders\n%q\nthe renderer wrote\n%q", got, html)
	}
	switch {
	case s.prev != nil && s.prev.ID == tree.ID:
		if d, st, ok := s.enc.Diff(s.prev, tree); ok {
			m.Diff, m.Statics = string(d), string(st)
			must(s.t, s.client.Learn(st))
			must(s.t, s.client.Patch(d))
		}
	default:
		tr, st := s.enc.Full(tree, true)
		m.Tree, m.Statics = string(tr), string(st)
		must(s.t, s.client.Learn(st))
		must(s.t, s.client.Replace(tr))
	}
	got, err := s.client.HTML()
	must(s.t, err)
	if got != m.Want {
		s.t.Fatalf("client shows\n%q\nthe renderer wrote\n%q\nafter diff %s tree %s statics %s", got, html, m.Diff, m.Tree, m.Statics)
	}
	s.prev = tree
	s.msgs = append(s.msgs, m)
	return m
}

// plainPages renders a corpus template, uninstrumented, for states.
func plainPages(t testing.TB, name string, states []State) []string {
	tm := parseCorpus(name)
	out := make([]string, len(states))
	for i, st := range states {
		var b bytes.Buffer
		if err := tm.Execute(&b, st); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[i] = b.String()
	}
	return out
}

// runLearner runs pages forward and back through one session of a fresh
// Learner, or of l when not nil.
func runLearner(t testing.TB, l *Learner, st *Statics, pages []string) *lsession {
	if l == nil {
		st = NewStatics()
		l = NewLearner(st, 0)
	}
	s := newLSession(t, l, st)
	for _, p := range pages {
		s.step(p)
	}
	for i := len(pages) - 1; i >= 0; i-- {
		s.step(pages[i])
	}
	return s
}

// TestLearnerOracleCorpus splits html/template's plain output of the whole
// oracle corpus (no markers): the client shows every render exactly.
func TestLearnerOracleCorpus(t *testing.T) {
	for _, name := range corpusNames() {
		t.Run(name, func(t *testing.T) {
			// One Learner per template, as a page has: it learns across
			// sessions.
			st := NewStatics()
			l := NewLearner(st, 0)
			for _, seed := range seeds {
				runLearner(t, l, st, plainPages(t, name, genStates(seed)))
			}
		})
	}
}

// hostile are pages no escaping made: broken tags, unterminated comments,
// quotes and raw text, NUL, invalid UTF-8, stray end tags.
var hostile = []string{
	"", "<", "<a", "<a href=\"x", "<!--", "<!-- x --", "<script>", "<script>x</scrip", "</p>", "<p></div></p>",
	"<p a='1' b=2 c d=\"\">x</p>", "<br/><img src=x/><path d=\"m\"/>", "\x00<\x00p>\xff\xfe", "]]><![CDATA[x]]>",
	"<ul><li>a<li>b</ul>", "<P ID=x>X</P>", "<title><b></title>", "<textarea></textarea>", "<a =b>", "< p>",
	"<div data-key=\"1\"><p>x</p></div><div data-key=\"1\"></div>", "<!DOCTYPE html><html><body></body></html>",
	"text only", "<x-y a:b=\"c\"></x-y>", "<script>a</script >b</script>", "<a href='x\">'>y</a>",
}

func TestLearnerHostilePages(t *testing.T) {
	st := NewStatics()
	l := NewLearner(st, 0)
	runLearner(t, l, st, hostile)
	r := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		pages := make([]string, 1+r.IntN(5))
		for i := range pages {
			var b strings.Builder
			for range r.IntN(12) {
				b.WriteString(hostile[r.IntN(len(hostile))])
			}
			pages[i] = b.String()
		}
		runLearner(t, l, st, pages)
	}
}

// FuzzLearner splits the corpus's plain output over state sequences, and
// pages cut from the fuzz bytes themselves (arbitrary, not even HTML).
func FuzzLearner(f *testing.F) {
	for _, seed := range seeds {
		f.Add(seed)
	}
	for _, h := range hostile {
		f.Add([]byte(h))
	}
	names := corpusNames()
	f.Fuzz(func(t *testing.T, data []byte) {
		states := genStates(data)
		for _, name := range names {
			runLearner(t, nil, nil, plainPages(t, name, states))
		}
		runLearner(t, nil, nil, strings.Split(string(data), "\xff"))
	})
}

// TestLearnerLimit: past its limit a Learner answers ErrShapes, and the
// session falls back to whole HTML and recovers from it.
func TestLearnerLimit(t *testing.T) {
	is := is.New(t)
	st := NewStatics()
	l := NewLearner(st, 4)
	s := newLSession(t, l, st)
	var fell int
	for i := range 20 {
		page := fmt.Sprintf("<t%d>%d</t%d>", i, i, i) // a new tag name: new statics
		if s.step(page).HTML != "" {
			fell++
		}
	}
	is.True(fell > 0)
	_, err := l.Split([]byte("<zz></zz>"))
	is.True(errors.Is(err, ErrShapes))
	_, err = l.Split([]byte("<t0>other value</t0>")) // a known shape still splits
	is.NoErr(err)
}

// diffOf splits a then b with a fresh Learner (b twice before, so that the
// Learner knows both) and returns the diff from a to b.
func diffOf(t *testing.T, a, b string) string {
	t.Helper()
	st := NewStatics()
	l := NewLearner(st, 0)
	s := newLSession(t, l, st)
	s.step(a)
	s.step(b)
	s.step(a)
	return s.step(b).Diff
}

func TestLearnerUpdates(t *testing.T) {
	li := func(keys ...string) string {
		var b strings.Builder
		b.WriteString(`<body><h1>Todo</h1><ul>`)
		for _, k := range keys {
			fmt.Fprintf(&b, `<li data-key="%s"><span>%s</span><button name="del" value="%s">x</button></li>`, k, k, k)
		}
		b.WriteString(`</ul><p>n</p></body>`)
		return b.String()
	}
	for _, tc := range []struct {
		name, a, b, want string
	}{
		{"one value", `<main><h1>Counter</h1><output id="count">41</output><button>+</button></main>`,
			`<main><h1>Counter</h1><output id="count">42</output><button>+</button></main>`, `{"2":"42"}`},
		{"attribute", `<p class="a">x</p>`, `<p class="b">x</p>`, `{"0":"b"}`},
		{"attribute names", `<p><input type="checkbox" checked></p>`, `<p><input type="checkbox"></p>`, `{"0":" type=\"checkbox\""}`},
		{"keyed insert", li("a", "b"), li("a", "c", "b"),
			`{"1":{"l":[["i",1,{"f":2,"k":"c","v":["c","c","del","c","x"]}]]}}`},
		{"keyed remove", li("a", "b", "c"), li("a", "c"), `{"1":{"l":[["r","b"]]}}`},
		{"keyed move", li("a", "b", "c"), li("c", "a", "b"), `{"1":{"l":[["m","c",0]]}}`},
		{"conditional", `<div><p>x</p><b>on</b></div>`, `<div><p>y</p></div>`,
			// <p> and <b> items differ: the list's items are wrapped, and
			// keyed by their fragment ids
			`{"0":{"l":[["r","#5.0"],["u","#3.0",{"0":{"j":{"0":{"0":"y"}}}}]]}}`},
		{"conditional before", `<div><p>x</p><form><b>1</b><i>2</i></form></div>`, `<div><p>x</p><em>!</em><form><b>1</b><i>3</i></form></div>`,
			`{"0":{"l":[["i",1,{"f":1,"k":"#4.0","v":[[{"f":4,"v":["!"]}]]}],["u","#5.0",{"0":{"j":{"0":{"1":"3"}}}}]]}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := diffOf(t, tc.a, tc.b); got != tc.want {
				t.Errorf("diff %s, want %s", got, tc.want)
			}
		})
	}
}

// TestLearnerJavaScriptClient replays Learner sessions (the corpus's plain
// output, hostile pages) with the browser client's tree code: it shows
// what the Go twin shows.
func TestLearnerJavaScriptClient(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("cannot check the JavaScript client: node is not on PATH")
		}
		t.Skip("skipping the JavaScript client check: node is not on PATH")
	}
	var cases []jsCase
	for _, name := range corpusNames() {
		st := NewStatics()
		l := NewLearner(st, 0)
		for i, seed := range jsSeeds()[:40] {
			s := runLearner(t, l, st, plainPages(t, name, genStates(seed)))
			cases = append(cases, jsCase{Name: fmt.Sprintf("%s seed %d", name, i), Steps: s.msgs})
		}
	}
	st := NewStatics()
	s := runLearner(t, NewLearner(st, 0), st, hostile)
	cases = append(cases, jsCase{Name: "hostile", Steps: s.msgs})
	in, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "cases.json")
	if err := os.WriteFile(file, in, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, filepath.Join("test", "oracle-run.mjs"), file)
	cmd.Dir = filepath.Join("..", "..", "web")
	cmd.Stderr = new(limitedBuffer)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node test/oracle-run.mjs: %v\n%s", err, cmd.Stderr)
	}
	var got [][]string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("oracle-run output: %v", err)
	}
	if len(got) != len(cases) {
		t.Fatalf("oracle-run answered %d sessions, want %d", len(got), len(cases))
	}
	for i, c := range cases {
		for j, m := range c.Steps {
			if got[i][j] != m.Want {
				t.Fatalf("%s step %d: JavaScript renders\n%q\nwant\n%q\nmessage: tree %s diff %s statics %s",
					c.Name, j, got[i][j], m.Want, m.Tree, m.Diff, m.Statics)
			}
		}
	}
}
