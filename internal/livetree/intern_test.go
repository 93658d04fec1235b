package livetree

import (
	"html/template"
	"runtime"
	"testing"

	"github.com/matryer/is"
)

// siblings returns n sessions of one template that share what the
// connections of one page share in lt: the instrumented template, its
// statics and the Interner; each has its own encoder, client and tree.
func siblings(t testing.TB, tmpl *template.Template, first any, n int) []*session {
	s := newSession(t, tmpl, first)
	out := []*session{s}
	for range n - 1 {
		c := *s
		c.enc, c.client, c.prev, c.msgs = NewEncoder(s.st), NewClient(), nil, nil
		out = append(out, &c)
	}
	return out
}

// Connections whose states differ share one Interner, step by step in
// turn: each one's client shows exactly its own state's html/template
// render after every step (session.step compares them), and the trees they
// hold still render their own pages after all the others were interned
// (nothing in a shared tree changed). Connections in equal states hold
// one tree.
func TestInternedTreesKeepEachConnectionsOwnValues(t *testing.T) {
	for _, name := range corpusNames() {
		t.Run(name, func(t *testing.T) {
			is := is.New(t)
			for si, seed := range seeds {
				fwd := genStates(seed)
				back := genStates(seeds[(si+1)%len(seeds)])
				ss := siblings(t, parseCorpus(name), fwd[0], 3)
				a, b, c := ss[0], ss[1], ss[2] // c follows a
				steps := max(len(fwd), len(back))
				for i := range 2 * steps {
					sa := fwd[i%len(fwd)]
					sb := back[len(back)-1-i%len(back)]
					ma := a.step(sa)
					mb := b.step(sb)
					mc := c.step(sa)
					is.Equal(ma.Want, mc.Want)
					if ma.HTML == "" {
						is.True(a.prev == c.prev) // equal renders: one tree
					}
					// Every tree still renders its own page.
					for _, x := range []struct {
						s *session
						m message
					}{{a, ma}, {b, mb}, {c, mc}} {
						if x.s.prev != nil {
							is.Equal(x.s.prev.Render(x.s.st), x.m.Want)
						}
					}
				}
			}
		})
	}
}

// Parts equal between two renders are one object; parts that differ are
// not; and the tree given to Intern is not changed.
func TestInternSharesEqualParts(t *testing.T) {
	is := is.New(t)
	in := NewInterner()
	row := func(v string) *Frag {
		return &Frag{ID: 2, Key: "r" + v, Slots: []Slot{{Kind: kValue, Value: v}}}
	}
	page := func(title string, rows ...*Frag) *Frag {
		return &Frag{ID: 1, Slots: []Slot{{Kind: kValue, Value: title}, {Kind: kList, Frags: rows}}}
	}
	a := in.Intern(page("t", row("a"), row("b"), row("c")))
	fresh := page("u", row("c"), row("b"), row("x"))
	before := fresh.Slots[1].Frags[0]
	b := in.Intern(fresh)
	is.True(fresh.Slots[1].Frags[0] == before) // the input is not changed
	is.True(a != b)
	is.True(a.Slots[1].Frags[2] == b.Slots[1].Frags[0]) // row c: one object
	is.True(a.Slots[1].Frags[1] == b.Slots[1].Frags[1]) // row b
	is.True(a.Slots[1].Frags[0] != b.Slots[1].Frags[2]) // a and x differ
	is.Equal(b.Slots[0].Value, "u")
	is.Equal(b.Slots[1].Frags[2].Slots[0].Value, "x")
	is.True(in.Intern(page("t", row("a"), row("b"), row("c"))) == a)

	// A tree no one holds is dropped from the Interner once collected.
	a, b, fresh, before = nil, nil, nil, nil
	runtime.GC()
	runtime.GC()
	for range 100 { // cleanups run on their own goroutine, after the GC
		in.mu.Lock()
		n := len(in.m)
		in.mu.Unlock()
		if n == 0 {
			break
		}
		runtime.GC()
		runtime.Gosched()
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	is.Equal(len(in.m), 0)
}
