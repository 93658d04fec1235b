package livetree

import (
	"encoding/binary"
	"hash/maphash"
	"runtime"
	"sync"
	"unsafe"
	"weak"
)

// Interner makes equal fragments one object: Intern returns a tree equal
// to the one it is given whose fragments, at every depth, are the very
// fragments of the trees interned before that are equal to them and still
// in use. Connections whose pages render alike then hold one tree between
// them rather than a copy each, connections whose pages differ in part
// share the parts that do not (the rows of a table in another order), and
// a diff between two interned trees skips equal parts by comparing
// pointers.
//
// A tree is never changed once it is made (parsed or split): every holder
// of an interned fragment may read it at any time, without a lock. Intern
// itself does not change the tree it is given either; it builds the
// fragments that must point at shared children anew (copy on write).
//
// The Interner holds its fragments weakly: a fragment that no tree in use
// refers to any more is collected as if it had never been interned.
type Interner struct {
	seed maphash.Seed
	mu   sync.Mutex
	m    map[uint64][]weak.Pointer[Frag]
}

// NewInterner returns an empty Interner.
func NewInterner() *Interner {
	return &Interner{seed: maphash.MakeSeed(), m: map[uint64][]weak.Pointer[Frag]{}}
}

// Intern returns the shared tree equal to f (see Interner).
func (in *Interner) Intern(f *Frag) *Frag {
	if f == nil {
		return nil
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.intern(f)
}

// intern returns the shared fragment equal to f, which it makes f, or a
// copy of f pointing at shared children, when there is none. in.mu is
// held.
func (in *Interner) intern(f *Frag) *Frag {
	var h maphash.Hash
	h.SetSeed(in.seed)
	var num [8]byte
	writeInt := func(n uint64) {
		binary.LittleEndian.PutUint64(num[:], n)
		_, _ = h.Write(num[:])
	}
	writeInt(uint64(f.ID))
	writeInt(uint64(len(f.Key)))
	_, _ = h.WriteString(f.Key)
	writeInt(uint64(len(f.Slots)))
	slots := f.Slots // f's own, until a child must be replaced
	for i := range slots {
		s := &slots[i]
		_ = h.WriteByte(s.Kind)
		if s.Kind == kValue {
			writeInt(uint64(len(s.Value)))
			_, _ = h.WriteString(s.Value)
			continue
		}
		writeInt(uint64(len(s.Frags)))
		var frags []*Frag // s.Frags, copied once a child is replaced
		for j, c := range s.Frags {
			shared := in.intern(c)
			if shared != c && frags == nil {
				if &slots[0] == &f.Slots[0] {
					slots = append([]Slot(nil), f.Slots...)
					s = &slots[i]
				}
				frags = append(make([]*Frag, 0, len(s.Frags)), s.Frags...)
			}
			if frags != nil {
				frags[j] = shared
			}
			// A shared fragment is alive as long as the trees holding
			// it, and the collector does not move objects: its address
			// names it.
			writeInt(uint64(uintptr(unsafe.Pointer(shared))))
		}
		if frags != nil {
			s.Frags = frags
		}
	}
	sum := h.Sum64()
	for _, w := range in.m[sum] {
		if g := w.Value(); g != nil && sameFrag(g, f.ID, f.Key, slots) {
			return g
		}
	}
	if len(slots) > 0 && &slots[0] != &f.Slots[0] {
		f = &Frag{ID: f.ID, Key: f.Key, Slots: slots}
	}
	in.m[sum] = append(in.m[sum], weak.Make(f))
	runtime.AddCleanup(f, in.sweep, sum)
	return f
}

// sameFrag reports whether g equals a fragment of id, key and slots whose
// children are shared fragments (compared by identity).
func sameFrag(g *Frag, id int, key string, slots []Slot) bool {
	if g.ID != id || g.Key != key || len(g.Slots) != len(slots) {
		return false
	}
	for i := range slots {
		a, b := &g.Slots[i], &slots[i]
		if a.Kind != b.Kind || a.Value != b.Value || len(a.Frags) != len(b.Frags) {
			return false
		}
		for j := range a.Frags {
			if a.Frags[j] != b.Frags[j] {
				return false
			}
		}
	}
	return true
}

// sweep drops the entries of hash sum whose fragments were collected.
func (in *Interner) sweep(sum uint64) {
	in.mu.Lock()
	defer in.mu.Unlock()
	ws := in.m[sum]
	live := ws[:0]
	for _, w := range ws {
		if w.Value() != nil {
			live = append(live, w)
		}
	}
	clear(ws[len(live):])
	if len(live) == 0 {
		delete(in.m, sum)
	} else {
		in.m[sum] = live
	}
}
