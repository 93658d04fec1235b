package livetree

import (
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// ErrShapes means a Learner has registered as many fragment shapes as it
// may: the caller sends the page's HTML instead of a tree. A page reaches
// it only when its markup itself (tags, attribute names) varies without
// bound, as with attribute names taken from user input.
var ErrShapes = errors.New("livetree: too many distinct fragment shapes")

// Learner splits HTML that carries no markers (a templ component's output,
// any renderer's) into a tree of the form Parse makes, so that Encoder,
// Client and the browser client treat it like a template's.
//
// It cuts the HTML at every text node and attribute value: those are the
// values, and the markup around them (tag names, attribute names, quotes,
// comments) is static. Elements are inlined into their parent's fragment
// while their children keep one shape; an element whose children change
// shape (a conditional, a loop) is learned, from one render to the next
// and between siblings of one render, to hold its children in a slot of
// item fragments, one per child element. Children with data-key
// attributes, or two or more alike with id attributes, are such a list
// from the first render. Items are keyed as Parse keys a {{range}}'s.
// Fragments are content-addressed: equal statics (and slot kinds) get one
// id, so equal skeletons share their statics on the wire.
//
// The tree always renders to exactly the HTML it was split from: the cuts
// only decide how small updates are. A Learner is safe for concurrent use
// and learns from every page rendered through it.
type Learner struct {
	st    *Statics
	max   int
	wrap  int // the id of the item wrapper fragment
	mu    sync.RWMutex
	ids   map[string]int // registry key (see builder) -> fragment id
	next  int
	paths map[uint64]*pathInfo
	// full is the pathInfo of paths beyond the limit: their children are
	// always a slot of wrapped items, which fits any shape.
	full pathInfo
}

// pathInfo is what a Learner knows of the elements at one path (their
// ancestors' and their own start tags).
type pathInfo struct {
	shape   uint64      // of their children, when first seen
	tag     uint64      // of their start tags' statics (attribute names), when first seen
	varying atomic.Bool // their children are a slot of items
	wrapped atomic.Bool // those items are wrapped (not all of one fragment id)
	attrs   atomic.Bool // their attributes are one value: their names vary
}

// NewLearner returns a Learner that registers the statics of the fragments
// it makes in st, at most max of them (max <= 0: 1<<14). Give it a Statics
// of its own.
func NewLearner(st *Statics, max int) *Learner {
	if max <= 0 {
		max = 1 << 14
	}
	l := &Learner{st: st, max: max, ids: map[string]int{}, paths: map[uint64]*pathInfo{}}
	l.full.varying.Store(true)
	l.full.wrapped.Store(true)
	l.full.attrs.Store(true)
	var b builder
	b.slot(kCond)
	l.wrap, _ = l.id(b.finish()) // an empty registry has room
	return l
}

// Split turns html into a tree whose Render is html, byte for byte. It
// returns ErrShapes when the Learner is full.
func (l *Learner) Split(html []byte) (*Frag, error) {
	s := string(html)
	var a arena
	root := parseHTML(s, &a)
	root.path = hashString(fnvOffset, "\x00root")
	l.analyze(root)
	e := emitter{l: l}
	b := e.get()
	if err := e.kids(b, root); err != nil {
		return nil, err
	}
	return e.done(b, "")
}

// Node kinds of a parsed page.
const (
	nText  = 't'
	nOther = 'o' // a comment, a doctype, a stray end tag: static
	nElem  = 'e'
)

// hnode is one node of a parsed page.
type hnode struct {
	kind  byte
	raw   string   // text and other: its bytes
	tag   string   // element: its start tag
	name  string   // element: its name as written
	start []string // element: its start tag cut at attribute values (static, value, static, ...)
	end   string   // element: its end tag, "" when it has none
	key   string   // element: its data-key, else its id
	keyed bool     // element: it has a data-key attribute
	id    bool     // element: it has an id attribute
	text  bool     // element: raw text (script, style, textarea, title...): its children are one value
	void  bool     // element: void or self-closing: no children, no end tag
	shape uint64   // element: shape(n), set by analyze
	kids  []*hnode
	path  uint64
	info  *pathInfo
}

// arena allocates nodes in blocks.
type arena struct{ block []hnode }

func (a *arena) new() *hnode {
	if len(a.block) == cap(a.block) {
		a.block = make([]hnode, 0, 128)
	}
	a.block = a.block[:len(a.block)+1]
	return &a.block[len(a.block)-1]
}

var voidElems = map[string]bool{"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true,
	"img": true, "input": true, "link": true, "meta": true, "source": true, "track": true, "wbr": true,
	"param": true, "keygen": true}

var rawElems = map[string]bool{"script": true, "style": true, "textarea": true, "title": true, "xmp": true,
	"iframe": true, "noembed": true, "noframes": true, "noscript": true, "plaintext": true}

// parseHTML parses s into a pseudo-element holding its top-level nodes.
// Every byte of s lands in exactly one node's raw, start or end, in order.
// It follows the HTML tokenizer where that decides structure (tags,
// quoted attribute values, comments, raw text) and keeps the rest simple:
// an end tag closes the nearest open element of its name, or is a stray.
func parseHTML(s string, a *arena) *hnode {
	root := a.new()
	root.kind = nElem
	stack := []*hnode{root}
	add := func(n *hnode) {
		top := stack[len(stack)-1]
		top.kids = append(top.kids, n)
	}
	textStart := 0
	flush := func(end int) {
		if end > textStart {
			n := a.new()
			n.kind, n.raw = nText, s[textStart:end]
			add(n)
		}
	}
	other := func(i, end int) int {
		flush(i)
		n := a.new()
		n.kind, n.raw = nOther, s[i:end]
		add(n)
		textStart = end
		return end
	}
	i := 0
	for {
		j := strings.IndexByte(s[i:], '<')
		if j < 0 || i+j+1 >= len(s) {
			break
		}
		i += j
		c := s[i+1]
		switch {
		case strings.HasPrefix(s[i:], "<!--"):
			end := strings.Index(s[i+4:], "-->")
			if end < 0 {
				i = other(i, len(s))
			} else {
				i = other(i, i+4+end+3)
			}
		case c == '!' || c == '?':
			end := strings.IndexByte(s[i:], '>')
			if end < 0 {
				i = other(i, len(s))
			} else {
				i = other(i, i+end+1)
			}
		case c == '/' && i+2 < len(s) && isLetter(s[i+2]):
			p := i + 2
			for p < len(s) && !isSpace(s[p]) && s[p] != '/' && s[p] != '>' {
				p++
			}
			name := s[i+2 : p]
			gt := strings.IndexByte(s[p:], '>')
			if gt < 0 {
				i = other(i, len(s))
				break
			}
			end := p + gt + 1
			d := len(stack) - 1
			for d > 0 && !strings.EqualFold(stack[d].name, name) {
				d--
			}
			if d == 0 {
				i = other(i, end)
				break
			}
			flush(i)
			stack[d].end = s[i:end]
			stack = stack[:d]
			i, textStart = end, end
		case isLetter(c):
			n, end, self, ok := parseStart(s, i, a)
			if !ok {
				i++
				break
			}
			flush(i)
			add(n)
			i, textStart = end, end
			switch lower := strings.ToLower(n.name); {
			case self || voidElems[lower]:
				n.void = true
			case rawElems[lower]:
				n.text = true
				close := indexEndTag(s, i, lower)
				if close < 0 {
					if i < len(s) {
						t := a.new()
						t.kind, t.raw = nText, s[i:]
						n.kids = append(n.kids, t)
					}
					i, textStart = len(s), len(s)
					break
				}
				if close > i {
					t := a.new()
					t.kind, t.raw = nText, s[i:close]
					n.kids = append(n.kids, t)
				}
				gt := strings.IndexByte(s[close:], '>')
				end := len(s)
				if gt >= 0 {
					end = close + gt + 1
				}
				n.end = s[close:end]
				i, textStart = end, end
			default:
				stack = append(stack, n)
			}
		default:
			i++
		}
	}
	flush(len(s))
	return root
}

// indexEndTag finds the end tag of raw text element name (lower case) in s
// from i: "</name" followed by whitespace, '/' or '>'; -1 if none.
func indexEndTag(s string, i int, name string) int {
	for {
		j := strings.Index(s[i:], "</")
		if j < 0 {
			return -1
		}
		p := i + j + 2
		if p+len(name) < len(s) && strings.EqualFold(s[p:p+len(name)], name) {
			switch s[p+len(name)] {
			case ' ', '\t', '\n', '\r', '\f', '/', '>':
				return i + j
			}
		}
		i = p
	}
}

// parseStart parses the start tag at s[i] ('<' and a letter): its pieces
// cut at attribute values, where it ends, and whether it closes itself.
func parseStart(s string, i int, a *arena) (n *hnode, end int, self, ok bool) {
	p := i + 1
	for p < len(s) && !isSpace(s[p]) && s[p] != '/' && s[p] != '>' {
		p++
	}
	nameEnd := p
	var pieces []string
	last := i
	var key, id string
	var hasKey, hasID bool
	for {
		slash := false
		for p < len(s) && (isSpace(s[p]) || s[p] == '/') {
			slash = s[p] == '/'
			p++
		}
		if p >= len(s) {
			return nil, 0, false, false
		}
		if s[p] == '>' {
			self = slash
			p++
			break
		}
		ns := p
		p++ // a name's first character may be '='
		for p < len(s) && !isSpace(s[p]) && s[p] != '=' && s[p] != '>' && s[p] != '/' {
			p++
		}
		name := s[ns:p]
		q := p
		for q < len(s) && isSpace(s[q]) {
			q++
		}
		if q >= len(s) || s[q] != '=' {
			continue
		}
		q++
		for q < len(s) && isSpace(s[q]) {
			q++
		}
		if q >= len(s) {
			return nil, 0, false, false
		}
		var vs, ve int
		if s[q] == '"' || s[q] == '\'' {
			close := strings.IndexByte(s[q+1:], s[q])
			if close < 0 {
				return nil, 0, false, false
			}
			vs, ve = q+1, q+1+close
			p = ve + 1
		} else {
			vs = q
			for q < len(s) && !isSpace(s[q]) && s[q] != '>' {
				q++
			}
			ve, p = q, q
		}
		pieces = append(pieces, s[last:vs], s[vs:ve])
		last = ve
		switch {
		case strings.EqualFold(name, "data-key"):
			key, hasKey = s[vs:ve], true
		case strings.EqualFold(name, "id"):
			id, hasID = s[vs:ve], true
		}
	}
	pieces = append(pieces, s[last:p])
	n = a.new()
	n.kind, n.start, n.keyed, n.id = nElem, pieces, hasKey, hasID
	n.tag, n.name = s[i:p], s[i+1:nameEnd]
	n.key = key
	if n.key == "" {
		n.key = id
	}
	return n, p, self, true
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// FNV-1a, for paths and shapes: a collision costs update size, never
// correctness (fragments are registered by their full statics).
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func hashString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

func hashByte(h uint64, c byte) uint64 {
	h ^= uint64(c)
	return h * fnvPrime
}

// hashTag hashes the static pieces of a start tag (not its values).
func hashTag(h uint64, n *hnode) uint64 {
	for i := 0; i < len(n.start); i += 2 {
		h = hashString(h, n.start[i])
		h = hashByte(h, 0)
	}
	return h
}

// leafShape is the shape of children without elements or other nodes: a
// text, or nothing, which are both one value.
const leafShape = 1

// shape hashes the structure n's children give its fragment when inlined:
// their kinds, elements' names and end tags, other nodes' bytes. (Their
// attribute names are checked at their own paths.)
func shape(n *hnode) uint64 {
	leaf := true
	for _, k := range n.kids {
		if k.kind != nText {
			leaf = false
			break
		}
	}
	if leaf {
		return leafShape
	}
	h := uint64(fnvOffset)
	for _, k := range n.kids {
		h = hashByte(h, k.kind)
		switch k.kind {
		case nOther:
			h = hashString(h, k.raw)
			h = hashByte(h, 0)
		case nElem:
			h = hashString(h, k.name)
			h = hashByte(h, 0)
			h = hashString(h, k.end)
			h = hashByte(h, 0)
		}
	}
	return h
}

// listLike reports whether n's children are a list from the first render:
// one of them has a data-key, or two alike have an id.
func listLike(n *hnode) bool {
	var ids map[uint64]bool
	for _, k := range n.kids {
		if k.kind != nElem {
			continue
		}
		if k.keyed {
			return true
		}
		if k.id {
			t := hashTag(fnvOffset, k)
			if ids[t] {
				return true
			}
			if ids == nil {
				ids = map[uint64]bool{}
			}
			ids[t] = true
		}
	}
	return false
}

// analyze gives every element of the tree its path (its ancestors' and its
// own names, and whether it is keyed or a later sibling of its name) and
// what is known of it, and learns from n: an element whose
// children differ in shape from those first seen at its path has varying
// children from now on, and one whose attribute names differ has its
// attributes sent as one value.
func (l *Learner) analyze(n *hnode) {
	if !n.text && !n.void {
		n.shape = shape(n)
	}
	n.info = l.info(n)
	var first map[string]bool // names seen among the children
	for _, k := range n.kids {
		if k.kind != nElem {
			continue
		}
		// Siblings of a name with a key (data-key or id: a list's items)
		// share a path and learn together. Of those without, the first
		// has a path of its own, and the later ones share one: a form
		// before a list's form is not that form, and no element changes
		// paths when a keyed one comes or goes before it.
		k.path = hashString(hashByte(n.path, '/'), k.name)
		switch {
		case k.keyed || k.id:
			k.path = hashByte(k.path, '#')
		case first[k.name]:
			k.path = hashByte(k.path, '+')
		default:
			if first == nil {
				first = map[string]bool{}
			}
			first[k.name] = true
		}
		l.analyze(k)
	}
}

func (l *Learner) info(n *hnode) *pathInfo {
	sh, tag := n.shape, hashTag(fnvOffset, n)
	l.mu.RLock()
	pi := l.paths[n.path]
	l.mu.RUnlock()
	if pi == nil {
		l.mu.Lock()
		if pi = l.paths[n.path]; pi == nil {
			if len(l.paths) >= l.max {
				l.mu.Unlock()
				return &l.full
			}
			pi = &pathInfo{shape: sh, tag: tag}
			pi.varying.Store(listLike(n))
			l.paths[n.path] = pi
		}
		l.mu.Unlock()
	}
	if pi.shape != sh && !n.text && !n.void && !pi.varying.Load() {
		pi.varying.Store(true)
	}
	if pi.tag != tag && !pi.attrs.Load() {
		pi.attrs.Store(true)
	}
	return pi
}

// id returns the fragment id of a builder's registry key, registering its
// statics when they are new.
func (l *Learner) id(key []byte) (int, error) {
	l.mu.RLock()
	id, ok := l.ids[string(key)]
	l.mu.RUnlock()
	if ok {
		return id, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if id, ok := l.ids[string(key)]; ok {
		return id, nil
	}
	if len(l.ids) >= l.max {
		return 0, ErrShapes
	}
	l.next++
	id = l.next
	l.ids[string(key)] = id
	l.st.learn(id, staticsOf(key))
	return id, nil
}

// builder collects one fragment: its slots and its registry key, which is
// each static (uvarint length, bytes) followed by the kind of the slot
// after it, so that equal keys mean equal statics and slot kinds.
type builder struct {
	key   []byte
	cur   []byte // the static being written
	slots []Slot
}

func (b *builder) static(s string) { b.cur = append(b.cur, s...) }

func (b *builder) slot(kind byte) {
	b.key = binary.AppendUvarint(b.key, uint64(len(b.cur)))
	b.key = append(b.key, b.cur...)
	b.key = append(b.key, kind)
	b.cur = b.cur[:0]
}

func (b *builder) value(v string) {
	b.slot(kValue)
	b.slots = append(b.slots, Slot{Kind: kValue, Value: v})
}

func (b *builder) finish() []byte {
	b.key = binary.AppendUvarint(b.key, uint64(len(b.cur)))
	return append(b.key, b.cur...)
}

// staticsOf decodes the statics of a registry key.
func staticsOf(key []byte) []string {
	var out []string
	for {
		n, w := binary.Uvarint(key)
		key = key[w:]
		out = append(out, string(key[:n]))
		key = key[n:]
		if len(key) == 0 {
			return out
		}
		key = key[1:] // the slot kind
	}
}

// emitter builds the fragments of one Split.
type emitter struct {
	l    *Learner
	free []*builder
}

func (e *emitter) get() *builder {
	if n := len(e.free); n > 0 {
		b := e.free[n-1]
		e.free = e.free[:n-1]
		return b
	}
	return &builder{}
}

// done registers b's fragment and returns it, keyed by key.
func (e *emitter) done(b *builder, key string) (*Frag, error) {
	id, err := e.l.id(b.finish())
	var f *Frag
	if err == nil {
		f = &Frag{ID: id, Key: key, Slots: append([]Slot(nil), b.slots...)}
	}
	b.key, b.cur, b.slots = b.key[:0], b.cur[:0], b.slots[:0]
	e.free = append(e.free, b)
	return f, err
}

// elem writes element n into b.
func (e *emitter) elem(b *builder, n *hnode) error {
	if n.info.attrs.Load() {
		b.static(n.tag[:1+len(n.name)])
		b.value(n.tag[1+len(n.name) : len(n.tag)-1])
		b.static(">")
	} else {
		for i, p := range n.start {
			if i%2 == 0 {
				b.static(p)
			} else {
				b.value(p)
			}
		}
	}
	if err := e.kids(b, n); err != nil {
		return err
	}
	b.static(n.end)
	return nil
}

// kids writes the children of n into b: inline, as one value (raw text, or
// text alone), or as a slot of items.
func (e *emitter) kids(b *builder, n *hnode) error {
	if n.void {
		return nil
	}
	if n.text || n.shape == leafShape && !n.info.varying.Load() {
		v := ""
		if len(n.kids) > 0 {
			v = n.kids[0].raw // parseHTML merges adjacent text
		}
		b.value(v)
		return nil
	}
	if n.info.varying.Load() {
		items, err := e.items(n)
		if err != nil {
			return err
		}
		b.slot(kList)
		b.slots = append(b.slots, Slot{Kind: kList, Frags: items})
		return nil
	}
	for _, k := range n.kids {
		switch k.kind {
		case nText:
			b.value(k.raw)
		case nOther:
			b.static(k.raw)
		case nElem:
			if err := e.elem(b, k); err != nil {
				return err
			}
		}
	}
	return nil
}

// items makes the item fragments of n's children: one per child element,
// with the text and other nodes before it (those after the last element go
// with it). They are keyed by their element's data-key or id; when one has
// neither or two share one, by their fragment id and how many items of
// that id come before ("#12.0", "#12.1", "#9.0"), so that an item
// appearing or going (a conditional) leaves the others' keys alone. When
// their fragments do not all have one id, each is wrapped in a fragment of
// the wrapper id, so that the list still diffs by keys (and at that path
// always will).
func (e *emitter) items(n *hnode) ([]*Frag, error) {
	var items []*Frag
	var keys []string
	b := e.get()
	var key string
	elems := 0
	for _, k := range n.kids {
		if k.kind == nElem {
			elems++
		}
	}
	seen := 0
	for _, k := range n.kids {
		switch k.kind {
		case nText:
			b.value(k.raw)
		case nOther:
			b.static(k.raw)
		case nElem:
			if seen > 0 {
				// the previous item ends here
				f, err := e.done(b, "")
				if err != nil {
					return nil, err
				}
				items, keys = append(items, f), append(keys, key)
				b = e.get()
			}
			seen++
			key = k.key
			if err := e.elem(b, k); err != nil {
				return nil, err
			}
		}
	}
	if len(b.slots) > 0 || len(b.cur) > 0 || seen > 0 {
		f, err := e.done(b, "")
		if err != nil {
			return nil, err
		}
		items, keys = append(items, f), append(keys, key)
	} else {
		b.key, b.cur = b.key[:0], b.cur[:0]
		e.free = append(e.free, b)
	}
	if elems < len(items) || len(items) == 0 {
		keys = nil // an item without an element: keyed by position
	}
	ok := keys != nil
	seenKeys := make(map[string]bool, len(keys))
	for _, k := range keys {
		if k == "" || seenKeys[k] {
			ok = false
			break
		}
		seenKeys[k] = true
	}
	var count map[int]int
	for i, f := range items {
		if ok {
			f.Key = keys[i]
			continue
		}
		if count == nil {
			count = map[int]int{}
		}
		f.Key = "#" + strconv.Itoa(f.ID) + "." + strconv.Itoa(count[f.ID])
		count[f.ID]++
	}
	wrap := n.info.wrapped.Load()
	if !wrap {
		for _, f := range items[min(1, len(items)):] {
			if f.ID != items[0].ID {
				wrap = true
				n.info.wrapped.Store(true)
				break
			}
		}
	}
	if wrap {
		for i, f := range items {
			items[i] = &Frag{ID: e.l.wrap, Key: f.Key, Slots: []Slot{{Kind: kCond, Frags: []*Frag{f}}}}
			f.Key = ""
		}
	}
	return items, nil
}
