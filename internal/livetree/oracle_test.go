package livetree

import (
	"bytes"
	"errors"
	"html/template"
	"sort"
	"testing"
)

// session renders states like one connection: instrumented renders parsed
// into trees, full and diff messages encoded and applied to the Go client,
// which must show exactly what html/template renders.
type session struct {
	t      testing.TB
	plain  *template.Template
	instr  *template.Template
	marks  *Marks
	st     *Statics
	in     *Interner // every tree is interned, as lt does
	enc    *Encoder
	client *Client
	prev   *Frag
	msgs   []message
}

// message is what a step sent, for the JavaScript check.
type message struct {
	Tree    string `json:"tree,omitempty"`
	Diff    string `json:"diff,omitempty"`
	Statics string `json:"statics,omitempty"`
	HTML    string `json:"html,omitempty"` // a fallback: whole HTML
	Want    string `json:"want"`
}

func newSession(t testing.TB, tmpl *template.Template, first any) *session {
	t.Helper()
	plain, err := tmpl.Clone()
	if err != nil {
		t.Fatal(err)
	}
	instr, err := tmpl.Clone()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	_ = instr.Execute(&buf, first) // escapes it
	marks, err := Instrument(instr, NewNonce())
	if err != nil {
		t.Fatal(err)
	}
	st := NewStatics()
	return &session{t: t, plain: plain, instr: instr, marks: marks, st: st, in: NewInterner(), enc: NewEncoder(st), client: NewClient()}
}

// step renders state and checks the client against html/template.
func (s *session) step(state any) message {
	s.t.Helper()
	var want, out bytes.Buffer
	if err := s.plain.Execute(&want, state); err != nil {
		s.t.Fatalf("plain render: %v", err)
	}
	if err := s.instr.Execute(&out, state); err != nil {
		s.t.Fatalf("instrumented render: %v", err)
	}
	m := message{Want: want.String()}
	tree, err := s.marks.Parse(out.Bytes(), s.st)
	switch {
	case errors.Is(err, ErrMarkers):
		// The coarse fallback: whole HTML, and the client starts over.
		m.HTML = want.String()
		s.prev, s.client = nil, NewClient()
		s.msgs = append(s.msgs, m)
		return m
	case err != nil:
		s.t.Fatal(err)
	}
	tree = s.in.Intern(tree)
	if got := tree.Render(s.st); got != want.String() {
		s.t.Fatalf("tree renders\n%q\nhtml/template renders\n%q", got, want.String())
	}
	if s.prev == nil {
		tr, st := s.enc.Full(tree, true)
		m.Tree, m.Statics = string(tr), string(st)
		must(s.t, s.client.Learn(st))
		must(s.t, s.client.Replace(tr))
	} else if d, st, ok := s.enc.Diff(s.prev, tree); ok {
		m.Diff, m.Statics = string(d), string(st)
		must(s.t, s.client.Learn(st))
		must(s.t, s.client.Patch(d))
	} else if s.prev.ID != tree.ID {
		s.t.Fatal("root fragment changed id")
	}
	got, err := s.client.HTML()
	must(s.t, err)
	if got != want.String() {
		s.t.Fatalf("client shows\n%q\nhtml/template renders\n%q\nafter diff %s", got, want.String(), m.Diff)
	}
	s.prev = tree
	s.msgs = append(s.msgs, m)
	return m
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func corpusNames() []string {
	names := make([]string, 0, len(corpus))
	for n := range corpus {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// seeds are state sequences every go test runs, for every template.
var seeds = [][]byte{
	{0}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
	[]byte("the quick brown fox jumps over the lazy dog"),
	[]byte("\xff\xfe\xfd\x00\x01\x02 livesse 0123456789 ABCDEFGHIJKLMNOP"),
	bytes.Repeat([]byte{7, 200, 3, 91}, 40),
	bytes.Repeat([]byte{42}, 64),
}

func TestOracleCorpus(t *testing.T) {
	for _, name := range corpusNames() {
		t.Run(name, func(t *testing.T) {
			for _, seed := range seeds {
				states := genStates(seed)
				s := newSession(t, parseCorpus(name), states[0])
				for _, st := range states {
					s.step(st)
				}
				// And back through them, so every change is also undone.
				for i := len(states) - 1; i >= 0; i-- {
					s.step(states[i])
				}
			}
		})
	}
}

func FuzzOracle(f *testing.F) {
	for _, seed := range seeds {
		f.Add(seed)
	}
	names := corpusNames()
	f.Fuzz(func(t *testing.T, data []byte) {
		states := genStates(data)
		for _, name := range names {
			s := newSession(t, parseCorpus(name), states[0])
			for _, st := range states {
				s.step(st)
			}
		}
	})
}
