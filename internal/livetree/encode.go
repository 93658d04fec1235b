package livetree

import (
	"bytes"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Encoder writes the JSON of trees and of diffs between them for one
// client, and remembers which fragments' statics that client has, so that
// statics go over the wire once, when a fragment first appears. Its calls
// must follow the order in which the client applies the messages.
//
// A tree is {"f":id,"v":[slot,...]} (with "k":key for a list item); a slot
// is a string (a value) or an array of trees. Statics travel beside it as
// {"id":["static",...],...}.
type Encoder struct {
	st   *Statics
	sent map[int]bool
}

// NewEncoder returns an Encoder for a client that has no statics yet.
func NewEncoder(st *Statics) *Encoder { return &Encoder{st: st, sent: map[int]bool{}} }

// Full encodes the whole tree f and the statics the client needs with it.
// With resend, the statics of every fragment sent before are included too,
// for a client that may have missed the messages that carried them.
func (e *Encoder) Full(f *Frag, resend bool) (tree, statics []byte) {
	var b, s bytes.Buffer
	var ids []int
	if resend {
		for id := range e.sent {
			ids = append(ids, id)
		}
	}
	e.frag(&b, f, &ids)
	return b.Bytes(), e.statics(&s, ids)
}

// Diff encodes what turns old into new, and the statics of the fragments
// that appear for the first time. ok is false when nothing changed.
func (e *Encoder) Diff(old, new *Frag) (diff, statics []byte, ok bool) {
	c := Changes(old, new)
	return c.Diff, e.Statics(c), c.OK
}

// Change is what turns one tree into another, independent of any client:
// the diff, and the fragments it writes whole (whose statics a client may
// not have yet). One Change serves every client whose page was old.
type Change struct {
	Diff []byte
	OK   bool // false when nothing changed, or the trees are not comparable
	ids  []int
}

// Changes computes the Change from old to new. OK is false when nothing
// changed or when the roots differ (the caller then sends Full).
func Changes(old, new *Frag) Change {
	var b bytes.Buffer
	var ids []int
	if old.ID != new.ID {
		return Change{}
	}
	var all Encoder // no sent set: it notes every fragment written whole
	if !all.fragDiff(&b, old, new, &ids) {
		return Change{}
	}
	slices.Sort(ids)
	return Change{Diff: b.Bytes(), OK: true, ids: slices.Compact(ids)}
}

// Statics returns the statics, as JSON, that this encoder's client needs
// to apply c (nil when it has them all), and notes them as sent.
func (e *Encoder) Statics(c Change) []byte {
	var ids []int
	for _, id := range c.ids {
		if !e.sent[id] {
			ids = append(ids, id)
		}
	}
	var s bytes.Buffer
	return e.statics(&s, ids)
}

func (e *Encoder) statics(b *bytes.Buffer, ids []int) []byte {
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	b.WriteByte('{')
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		b.WriteString(strconv.Itoa(id))
		b.WriteString(`":[`)
		for j, s := range e.st.Get(id) {
			if j > 0 {
				b.WriteByte(',')
			}
			WriteString(b, s)
		}
		b.WriteByte(']')
		e.sent[id] = true
	}
	b.WriteByte('}')
	return b.Bytes()
}

// frag writes a whole tree, noting the fragments whose statics must go.
func (e *Encoder) frag(b *bytes.Buffer, f *Frag, ids *[]int) {
	if !e.sent[f.ID] && (len(*ids) == 0 || (*ids)[len(*ids)-1] != f.ID) {
		*ids = append(*ids, f.ID)
	}
	b.WriteString(`{"f":`)
	b.WriteString(strconv.Itoa(f.ID))
	if f.Key != "" {
		b.WriteString(`,"k":`)
		WriteString(b, f.Key)
	}
	b.WriteString(`,"v":[`)
	for i, s := range f.Slots {
		if i > 0 {
			b.WriteByte(',')
		}
		e.slot(b, s, ids)
	}
	b.WriteString("]}")
}

func (e *Encoder) slot(b *bytes.Buffer, s Slot, ids *[]int) {
	if s.Kind == kValue {
		WriteString(b, s.Value)
		return
	}
	b.WriteByte('[')
	for i, c := range s.Frags {
		if i > 0 {
			b.WriteByte(',')
		}
		e.frag(b, c, ids)
	}
	b.WriteByte(']')
}

// fragDiff writes {"slot index": change, ...} for the slots that differ
// and reports whether any did. old and new have the same id, so the same
// slots. One fragment (an interned tree's part that did not change, see
// Interner) has nothing to write.
func (e *Encoder) fragDiff(b *bytes.Buffer, old, new *Frag, ids *[]int) bool {
	if old == new {
		return false
	}
	start := b.Len()
	b.WriteByte('{')
	n := 0
	for i := range new.Slots {
		o, s := &old.Slots[i], &new.Slots[i]
		mark := b.Len()
		if n > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		b.WriteString(strconv.Itoa(i))
		b.WriteString(`":`)
		if e.slotDiff(b, o, s, ids) {
			n++
		} else {
			b.Truncate(mark)
		}
	}
	if n == 0 {
		b.Truncate(start)
		return false
	}
	b.WriteByte('}')
	return true
}

// slotDiff writes a slot's change: a string (new value), an array (new
// content), {"j":{position: diff}} (same fragments, changed inside) or
// {"l":[ops]} (a keyed list).
func (e *Encoder) slotDiff(b *bytes.Buffer, o, s *Slot, ids *[]int) bool {
	switch {
	case s.Kind == kValue:
		if o.Value == s.Value {
			return false
		}
		WriteString(b, s.Value)
		return true
	case s.Kind == kList && sameIDs(o.Frags, s.Frags):
		return e.listDiff(b, o.Frags, s.Frags, ids)
	case len(o.Frags) == len(s.Frags) && sameIDs(o.Frags, s.Frags):
		start := b.Len()
		b.WriteString(`{"j":{`)
		n := 0
		for i := range s.Frags {
			mark := b.Len()
			if n > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('"')
			b.WriteString(strconv.Itoa(i))
			b.WriteString(`":`)
			if e.fragDiff(b, o.Frags[i], s.Frags[i], ids) {
				n++
			} else {
				b.Truncate(mark)
			}
		}
		if n == 0 {
			b.Truncate(start)
			return false
		}
		b.WriteString("}}")
		return true
	default:
		e.slot(b, *s, ids)
		return true
	}
}

// sameIDs: every fragment of both sides has one and the same id (the
// items of one range), or, for a list, one side is empty and the other
// holds items.
func sameIDs(a, b []*Frag) bool {
	id := 0
	for _, fs := range [][]*Frag{a, b} {
		for _, f := range fs {
			if id == 0 {
				id = f.ID
			} else if f.ID != id {
				return false
			}
		}
	}
	return true
}

// WriteString writes s as a JSON string. Unlike encoding/json it leaves
// <, > and & alone: the HTML is data here, and escaping only adds bytes.
func WriteString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b.WriteString(s[start:i])
				b.WriteString(`\ufffd`)
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		b.WriteString(s[start:i])
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[c>>4])
			b.WriteByte("0123456789abcdef"[c&0xf])
		}
		i++
		start = i
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
}
