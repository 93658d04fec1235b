// Package livetree splits html/template output into statics and dynamics
// and computes minimal updates between two renderings, the approach of
// LiveView and LiveTemplate.
//
// It works on the escaped parse trees of an html/template: after the first
// execution has escaped them, Instrument inserts marker text nodes around
// every dynamic part (actions, conditionals, ranges, template calls).
// Escaping is already baked into the trees, so markers change nothing of
// what the values render to; Parse reads the marked output back into a Tree
// whose Render is, byte for byte, html/template's own output.
package livetree

import (
	"crypto/rand"
	"fmt"
	"html/template"
	"sort"
	"strconv"
	"strings"
	"text/template/parse"
)

// Marker kinds, written as \x00 nonce kind id \x00.
const (
	kFrag  = 'f' // a fragment (a template list) starts
	kValue = 'v' // a value slot starts
	kCond  = 'c' // a compound slot ({{if}}, {{with}}, {{template}}) starts
	kList  = 'l' // a list slot ({{range}}) starts
	kEnd   = 'e' // the innermost open slot ends
)

// Marks describes an instrumented template: the nonce its markers carry.
type Marks struct {
	nonce string
	next  int
}

// NewNonce returns a random nonce for Instrument: markers carry it, so a
// value cannot imitate them without knowing it.
func NewNonce() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x", b)
}

// Instrument inserts markers into every parse tree of t's namespace. t
// must have been executed once (so that html/template has escaped it) and
// must not be executed concurrently while this runs. Instrument it once.
// Clones of one template instrumented with one nonce get the same
// fragment ids, so they can share a Statics registry.
func Instrument(t *template.Template, nonce string) (*Marks, error) {
	m := &Marks{nonce: nonce}
	trees := map[string]*parse.Tree{}
	for _, tt := range t.Templates() {
		if tt.Tree != nil && tt.Tree.Root != nil {
			trees[tt.Name()] = tt.Tree
		}
	}
	if trees[t.Name()] == nil {
		return nil, fmt.Errorf("livetree: template %q has no parse tree", t.Name())
	}
	for _, tr := range trees {
		if containsMarkerByte(tr.Root) {
			return nil, fmt.Errorf("livetree: template %q contains a NUL byte in its text", tr.Name)
		}
	}
	names := make([]string, 0, len(trees))
	for name := range trees {
		names = append(names, name)
	}
	sort.Strings(names) // the same ids in every clone
	for _, name := range names {
		m.list(trees[name].Root, trees)
	}
	return m, nil
}

func (m *Marks) mark(kind byte, id int) *parse.TextNode {
	s := "\x00" + m.nonce + string(kind)
	if kind != kEnd {
		s += strconv.Itoa(id)
	}
	return &parse.TextNode{NodeType: parse.NodeText, Text: []byte(s + "\x00")}
}

func (m *Marks) id() int {
	m.next++
	return m.next
}

// list instruments l in place: a fragment marker first, then each dynamic
// node wrapped in slot markers.
func (m *Marks) list(l *parse.ListNode, trees map[string]*parse.Tree) {
	if l == nil {
		return
	}
	out := make([]parse.Node, 0, 3*len(l.Nodes)+1)
	out = append(out, m.mark(kFrag, m.id()))
	for _, n := range l.Nodes {
		switch n := n.(type) {
		case *parse.TextNode, *parse.CommentNode:
			out = append(out, n)
		case *parse.ActionNode:
			if len(n.Pipe.Decl) > 0 {
				out = append(out, n) // a variable declaration prints nothing
				continue
			}
			out = append(out, m.mark(kValue, m.id()), n, m.mark(kEnd, 0))
		case *parse.IfNode:
			m.list(n.List, trees)
			m.list(n.ElseList, trees)
			out = append(out, m.mark(kCond, m.id()), n, m.mark(kEnd, 0))
		case *parse.WithNode:
			m.list(n.List, trees)
			m.list(n.ElseList, trees)
			out = append(out, m.mark(kCond, m.id()), n, m.mark(kEnd, 0))
		case *parse.RangeNode:
			if breaks(n.List) {
				// {{break}} and {{continue}} can skip closing markers: the
				// whole range is one value (see docs/protocol.md).
				out = append(out, m.mark(kValue, m.id()), n, m.mark(kEnd, 0))
				continue
			}
			m.list(n.List, trees)
			m.list(n.ElseList, trees)
			out = append(out, m.mark(kList, m.id()), n, m.mark(kEnd, 0))
		case *parse.TemplateNode:
			if trees[n.Name] != nil {
				out = append(out, m.mark(kCond, m.id()), n, m.mark(kEnd, 0))
			} else {
				// A copy html/template derived for another context
				// (an attribute, a script): not instrumented, one value.
				out = append(out, m.mark(kValue, m.id()), n, m.mark(kEnd, 0))
			}
		default:
			out = append(out, m.mark(kValue, m.id()), n, m.mark(kEnd, 0))
		}
	}
	l.Nodes = out
}

// breaks reports whether a {{break}} or {{continue}} of this range (not of
// a range nested in it) occurs in l.
func breaks(l *parse.ListNode) bool {
	if l == nil {
		return false
	}
	for _, n := range l.Nodes {
		switch n := n.(type) {
		case *parse.BreakNode, *parse.ContinueNode:
			return true
		case *parse.IfNode:
			if breaks(n.List) || breaks(n.ElseList) {
				return true
			}
		case *parse.WithNode:
			if breaks(n.List) || breaks(n.ElseList) {
				return true
			}
		}
	}
	return false
}

func containsMarkerByte(l *parse.ListNode) bool {
	if l == nil {
		return false
	}
	for _, n := range l.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			if strings.IndexByte(string(n.Text), 0) >= 0 {
				return true
			}
		case *parse.IfNode:
			if containsMarkerByte(n.List) || containsMarkerByte(n.ElseList) {
				return true
			}
		case *parse.WithNode:
			if containsMarkerByte(n.List) || containsMarkerByte(n.ElseList) {
				return true
			}
		case *parse.RangeNode:
			if containsMarkerByte(n.List) || containsMarkerByte(n.ElseList) {
				return true
			}
		}
	}
	return false
}
