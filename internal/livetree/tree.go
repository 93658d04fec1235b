package livetree

import (
	"strings"
	"sync"
)

// Frag is a rendered template list: its statics (fixed per ID, kept in a
// Statics registry) interleaved with its slots.
type Frag struct {
	ID    int
	Key   string // the item's key, in a list slot
	Slots []Slot
}

// Slot is one dynamic part of a fragment.
type Slot struct {
	Kind  byte   // kValue, kCond or kList
	Value string // kValue: the escaped output
	Frags []*Frag
}

// Statics maps fragment ids to their static parts. Statics never change
// for an id, so a registry is shared by every rendering of one template.
type Statics struct {
	mu sync.RWMutex
	m  map[int][]string
}

// NewStatics returns an empty registry.
func NewStatics() *Statics { return &Statics{m: map[int][]string{}} }

// Get returns the statics of id.
func (s *Statics) Get(id int) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.m[id]
}

// learn records the statics of id, or reports whether they differ from
// what was recorded (which means the output was not what the markers say).
func (s *Statics) learn(id int, statics []string) bool {
	s.mu.RLock()
	old, ok := s.m[id]
	s.mu.RUnlock()
	if ok {
		if len(old) != len(statics) {
			return false
		}
		for i := range old {
			if old[i] != statics[i] {
				return false
			}
		}
		return true
	}
	s.mu.Lock()
	s.m[id] = statics
	s.mu.Unlock()
	return true
}

// Render writes the HTML of f, which equals html/template's output.
func (f *Frag) Render(st *Statics) string {
	var b strings.Builder
	f.render(&b, st)
	return b.String()
}

func (f *Frag) render(b *strings.Builder, st *Statics) {
	statics := st.Get(f.ID)
	for i, s := range f.Slots {
		b.WriteString(statics[i])
		if s.Kind == kValue {
			b.WriteString(s.Value)
			continue
		}
		for _, c := range s.Frags {
			c.render(b, st)
		}
	}
	b.WriteString(statics[len(f.Slots)])
}
