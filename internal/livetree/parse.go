package livetree

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// ErrMarkers means the output does not parse as instrumented output: a
// value carried marker bytes (only trusted template.HTML or JS content can)
// or the template was not instrumented with these Marks. The caller falls
// back to sending whole HTML.
var ErrMarkers = errors.New("livetree: output does not match its markers")

type parser struct {
	out    []byte
	prefix []byte // \x00 + nonce
	pos    int
	st     *Statics
}

type token struct {
	kind byte
	id   int
	text []byte // the text before the marker
}

// Parse reads instrumented output into a tree, learning statics into st.
func (m *Marks) Parse(out []byte, st *Statics) (*Frag, error) {
	p := &parser{out: out, prefix: []byte("\x00" + m.nonce), st: st}
	t, err := p.next()
	if err != nil {
		return nil, err
	}
	if t.kind != kFrag || len(t.text) != 0 {
		return nil, fmt.Errorf("%w: output does not start with a fragment", ErrMarkers)
	}
	f, end, err := p.frag(t.id)
	if err != nil {
		return nil, err
	}
	if end.kind != 0 {
		return nil, fmt.Errorf("%w: unexpected %q marker at the top level", ErrMarkers, end.kind)
	}
	return f, nil
}

// next returns the next marker and the text before it; kind 0 at the end.
func (p *parser) next() (token, error) {
	i := bytes.Index(p.out[p.pos:], p.prefix)
	if i < 0 {
		t := token{text: p.out[p.pos:]}
		p.pos = len(p.out)
		return t, nil
	}
	start := p.pos + i
	j := start + len(p.prefix)
	end := bytes.IndexByte(p.out[j:], 0)
	if end < 1 {
		return token{}, fmt.Errorf("%w: unterminated marker", ErrMarkers)
	}
	t := token{kind: p.out[j], text: p.out[p.pos:start]}
	if t.kind != kEnd {
		id, err := strconv.Atoi(string(p.out[j+1 : j+end]))
		if err != nil {
			return token{}, fmt.Errorf("%w: bad marker id", ErrMarkers)
		}
		t.id = id
	}
	p.pos = j + end + 1
	return t, nil
}

// frag reads the fragment whose marker was just read, up to the token that
// ends it (an end, the next item's fragment, or the end of output), which
// it returns unconsumed in meaning: the caller acts on it.
func (p *parser) frag(id int) (*Frag, token, error) {
	f := &Frag{ID: id}
	var statics []string
	var cur []byte
	for {
		t, err := p.next()
		if err != nil {
			return nil, t, err
		}
		cur = append(cur, t.text...)
		switch t.kind {
		case 0, kEnd, kFrag:
			statics = append(statics, string(cur))
			if !p.st.learn(id, statics) {
				return nil, t, fmt.Errorf("%w: statics of fragment %d changed", ErrMarkers, id)
			}
			return f, t, nil
		case kValue:
			statics = append(statics, string(cur))
			cur = cur[:0]
			v, err := p.value()
			if err != nil {
				return nil, t, err
			}
			f.Slots = append(f.Slots, Slot{Kind: kValue, Value: v})
		case kCond, kList:
			statics = append(statics, string(cur))
			cur = cur[:0]
			s := Slot{Kind: t.kind}
			t2, err := p.next()
			if err != nil {
				return nil, t, err
			}
			for {
				if len(t2.text) != 0 {
					return nil, t, fmt.Errorf("%w: text outside a fragment in a slot", ErrMarkers)
				}
				if t2.kind == kEnd {
					break
				}
				if t2.kind != kFrag {
					return nil, t, fmt.Errorf("%w: %q marker where a fragment should start", ErrMarkers, t2.kind)
				}
				c, end, err := p.frag(t2.id)
				if err != nil {
					return nil, t, err
				}
				s.Frags = append(s.Frags, c)
				t2 = end
				t2.text = nil // it ended the fragment's last static
			}
			if s.Kind == kList {
				keyItems(s.Frags, p.st)
			}
			f.Slots = append(f.Slots, s)
		default:
			return nil, t, fmt.Errorf("%w: unknown marker kind %q", ErrMarkers, t.kind)
		}
	}
}

// value reads a value slot's output up to its end marker. Markers nested in
// it (from a template called inside a range kept whole) are dropped: the
// value is the text they surround.
func (p *parser) value() (string, error) {
	var b []byte
	depth := 0
	for {
		t, err := p.next()
		if err != nil {
			return "", err
		}
		b = append(b, t.text...)
		switch t.kind {
		case 0:
			return "", fmt.Errorf("%w: unterminated value", ErrMarkers)
		case kEnd:
			if depth == 0 {
				return string(b), nil
			}
			depth--
		case kValue, kCond, kList:
			depth++
		}
	}
}

// Strip removes the markers of the given nonce from out: the plain HTML of
// output that did not parse.
func Strip(out []byte, nonce string) []byte {
	prefix := []byte("\x00" + nonce)
	var b []byte
	for {
		i := bytes.Index(out, prefix)
		if i < 0 {
			return append(b, out...)
		}
		b = append(b, out[:i]...)
		end := bytes.IndexByte(out[i+len(prefix):], 0)
		if end < 0 {
			return append(b, out[i:]...)
		}
		out = out[i+len(prefix)+end+1:]
	}
}
