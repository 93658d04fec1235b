package lt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/livesse/livesse/internal/listops"
)

// This file is live lists (docs/lists.md): items of a keyed list that the
// server renders once, sends, and forgets. The list lives in the page,
// under an element marked data-lt-list, never in the state or in a tree.

// ErrListLimit is the error of a List operation that would take one call
// over what one update may carry: 1,000 operations, or 256 KiB of items'
// HTML. Nothing of that operation is sent; the earlier ones are.
var ErrListLimit = errors.New("lt: too many list operations in one call")

// The bounds of one call's list operations: they ride on one update, and
// a reconnecting tab gets them from the connection's replay log.
const (
	maxListOps   = 1000
	maxListBytes = 256 << 10
	maxListID    = 128
)

// List is a live list of the tab's page: the element with id="id" and the
// attribute data-lt-list, whose children are items (one element each,
// with an id) that the server adds, changes and removes one at a time.
// The server renders each item once, with the page's {{define}}d template
// named by Context.List, and sends its HTML in the update of the call that
// made it; it keeps nothing of the list. The tab keeps the items: updates
// and renders of the page leave the container's children alone, until
// Mount runs again on the connection (see docs/lists.md).
//
// Calls in Mount and Params of a page GET (or of a connection a stream
// opens, or one that mounts again) are not sent as operations: their
// items are the content {{ltList "id"}} renders in that page, so that the
// list shows without JavaScript.
//
// A List is valid during the call whose Context made it, as the Context.
type List struct {
	c    *Context
	id   string
	tmpl string
}

// List returns the live list whose container has id="id" on this call's
// tab, with items rendered by the page's template named tmpl
// ({{define "tmpl"}}), whose output must start with the item's element
// and give it an id: the item's key. It works in actions, server actions,
// Sync, Mount and Params, on every instance; a page rendered by a
// RenderFunc (NewFunc) has no named templates, and its lists refuse every
// item.
func (c *Context) List(id, tmpl string) List { return List{c: c, id: id, tmpl: tmpl} }

// Append renders item and adds it after the list's last item; when the
// list has an item with its id, that item is replaced in place instead.
func (l List) Append(item any) error { return l.put('a', 0, item) }

// Prepend is Append before the list's first item.
func (l List) Prepend(item any) error { return l.put('p', 0, item) }

// Insert is Append at position pos (0 is before the first item; past the
// end appends). A negative pos is an error.
func (l List) Insert(pos int, item any) error {
	if pos < 0 {
		return fmt.Errorf("lt: List %q: Insert at %d: the position must not be negative", l.id, pos)
	}
	return l.put('i', pos, item)
}

// Update renders item and replaces the item with its id in place; it does
// nothing on a tab whose list has no such item (not loaded yet, deleted).
func (l List) Update(item any) error { return l.put('u', 0, item) }

// Delete removes the item with id key, if the tab's list has it.
func (l List) Delete(key string) error {
	if key == "" || len(key) > maxListID || !utf8.ValidString(key) {
		return fmt.Errorf("lt: List %q: Delete: an item's id is 1 to %d bytes of UTF-8, got %q", l.id, maxListID, clip(key, maxListID))
	}
	return l.add(listOp{op: 'd', list: l.id, key: key})
}

// Reset removes every item of the list.
func (l List) Reset() error { return l.add(listOp{op: 'x', list: l.id}) }

// put renders item and adds the operation op.
func (l List) put(op byte, pos int, item any) error {
	if l.c.h == nil {
		return fmt.Errorf("lt: List %q: this Context has no page", l.id)
	}
	s, err := l.c.h.tpl().item(l.tmpl, item)
	if err != nil {
		return fmt.Errorf("lt: List %q: %w", l.id, err)
	}
	key, err := itemID(s)
	if err != nil {
		return fmt.Errorf("lt: List %q: template %q: %w", l.id, l.tmpl, err)
	}
	return l.add(listOp{op: op, list: l.id, pos: pos, key: key, html: s})
}

// add checks the list's id and the call's bounds, then keeps op.
func (l List) add(op listOp) error {
	if l.id == "" || len(l.id) > maxListID || !utf8.ValidString(l.id) {
		return fmt.Errorf("lt: a List's id is 1 to %d bytes of UTF-8, got %q", maxListID, clip(l.id, maxListID))
	}
	c := l.c
	if c.lists == nil {
		c.lists = &listCall{}
	}
	b := c.lists
	size := len(op.html) + len(op.key) + len(op.list)
	if len(b.ops) >= maxListOps || b.bytes+size > maxListBytes {
		return fmt.Errorf("%w: at most %d operations and %d bytes of items per call (List %q)", ErrListLimit, maxListOps, maxListBytes, l.id)
	}
	b.ops = append(b.ops, op)
	b.bytes += size
	return nil
}

// listOp is one operation on a list: 'a' append, 'p' prepend, 'i' insert
// at pos, 'u' update, 'd' delete key, 'x' reset.
type listOp struct {
	op   byte
	list string
	pos  int
	key  string // the item's id
	html string // the item's HTML, for a, p, i and u
}

// listCall is what one call did to the tab's lists.
type listCall struct {
	ops   []listOp
	bytes int
}

// resetLists is the "L" of a render after Mount ran again: the tab's
// lists start over from what the render shows in their containers.
var resetLists = []byte(`[["x"]]`)

// json is the update's "L": the operations as the client applies them
// (docs/protocol.md), nil for none.
func (lc *listCall) json() []byte {
	if lc == nil || len(lc.ops) == 0 {
		return nil
	}
	var b bytes.Buffer
	b.Grow(lc.bytes + 16*len(lc.ops))
	b.WriteByte('[')
	for i, op := range lc.ops {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`["`)
		b.WriteByte(op.op)
		b.WriteString(`",`)
		writeJSONString(&b, op.list)
		switch op.op {
		case 'i':
			b.WriteByte(',')
			b.WriteString(strconv.Itoa(op.pos))
			fallthrough
		case 'a', 'p', 'u':
			b.WriteByte(',')
			writeJSONString(&b, op.html)
		case 'd':
			b.WriteByte(',')
			writeJSONString(&b, op.key)
		}
		b.WriteByte(']')
	}
	b.WriteByte(']')
	return b.Bytes()
}

// html is what {{ltList}} shows in the page that Mount and Params render:
// each list's items after the operations, in order, as the client would
// have them from an empty list.
func (lc *listCall) html() map[string]template.HTML {
	if lc == nil || len(lc.ops) == 0 {
		return nil
	}
	lists := map[string][]listops.Item{}
	for _, op := range lc.ops {
		lists[op.list] = listops.Apply(lists[op.list], op.op, listops.Item{Key: op.key, HTML: op.html}, op.pos)
	}
	out := make(map[string]template.HTML, len(lists))
	for id, items := range lists {
		var b strings.Builder
		for _, it := range items {
			b.WriteString(it.HTML)
		}
		out[id] = template.HTML(b.String()) // html/template's output
	}
	return out
}

// concat is the operations of lc, then of more.
func (lc *listCall) concat(more *listCall) *listCall {
	switch {
	case lc == nil:
		return more
	case more == nil:
		return lc
	}
	return &listCall{ops: append(lc.ops, more.ops...), bytes: lc.bytes + more.bytes}
}

// itemID returns the id attribute of the first element of s, an item's
// HTML as html/template wrote it (so attribute values are quoted or
// plain, and markup-significant characters in them are escaped).
func itemID(s string) (string, error) {
	i := 0
	for {
		j := strings.IndexByte(s[i:], '<')
		if j < 0 {
			return "", errors.New("the item's HTML has no element")
		}
		i += j + 1
		if strings.HasPrefix(s[i:], "!--") {
			end := strings.Index(s[i:], "-->")
			if end < 0 {
				return "", errors.New("the item's HTML has no element")
			}
			i += end + 3
			continue
		}
		if i < len(s) && isASCIILetter(s[i]) {
			break
		}
	}
	// Skip the tag name, then read attributes up to '>'.
	for i < len(s) && !isHTMLSpace(s[i]) && s[i] != '>' && s[i] != '/' {
		i++
	}
	for i < len(s) && s[i] != '>' {
		if isHTMLSpace(s[i]) || s[i] == '/' {
			i++
			continue
		}
		start := i
		for i < len(s) && !isHTMLSpace(s[i]) && s[i] != '>' && s[i] != '/' && s[i] != '=' {
			i++
		}
		name := strings.ToLower(s[start:i])
		val := ""
		if i < len(s) && s[i] == '=' {
			i++
			if i < len(s) && (s[i] == '"' || s[i] == '\'') {
				q := s[i]
				end := strings.IndexByte(s[i+1:], q)
				if end < 0 {
					return "", errors.New("the item's first tag is not closed")
				}
				val = s[i+1 : i+1+end]
				i += end + 2
			} else {
				start := i
				for i < len(s) && !isHTMLSpace(s[i]) && s[i] != '>' {
					i++
				}
				val = s[start:i]
			}
		}
		if name == "id" {
			id := html.UnescapeString(val)
			if id == "" || len(id) > maxListID || !utf8.ValidString(id) {
				return "", fmt.Errorf("the item's id is 1 to %d bytes of UTF-8, got %q", maxListID, clip(id, maxListID))
			}
			return id, nil
		}
	}
	return "", errors.New("the item's first element has no id (its key)")
}

func isASCIILetter(b byte) bool { return b|0x20 >= 'a' && b|0x20 <= 'z' }

func isHTMLSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\f'
}

// listTemplate is the page's template for rendering list items: a clone
// of the one New was given, without the markers that split pages.
type listTemplate struct {
	once sync.Once
	t    *template.Template
	err  error
}

// item renders the page's template name with data, for a list.
func (rs *renderers) item(name string, data any) (string, error) {
	if rs.master == nil {
		return "", fmt.Errorf("a page rendered by a RenderFunc has no template %q for list items", name)
	}
	rs.list.once.Do(func() {
		t, err := rs.master.Clone()
		if err == nil {
			t.Funcs(viewFuncs(&view{}))
		}
		rs.list.t, rs.list.err = t, err
	})
	if rs.list.err != nil {
		return "", fmt.Errorf("cloning the page template: %w", rs.list.err)
	}
	if rs.list.t.Lookup(name) == nil {
		return "", fmt.Errorf("the page has no template %q", name)
	}
	var b strings.Builder
	if err := rs.list.t.ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("rendering an item: %w", err)
	}
	return b.String(), nil
}

// listSinkKey is the request context key under which a page GET's Mount
// and Params share the list operations their page shows.
type listSinkKey struct{}

// withListSink returns r with a place where the Contexts newContextFor
// makes for it gather their list operations, and that place.
func withListSink(r *http.Request) (*http.Request, *listCall) {
	lc := &listCall{}
	return r.WithContext(context.WithValue(r.Context(), listSinkKey{}, lc)), lc
}

// listSink is the place withListSink made for r, or nil.
func listSink(r *http.Request) *listCall {
	lc, _ := r.Context().Value(listSinkKey{}).(*listCall)
	return lc
}

// remount is a job: Mount and Params run again, and a full render goes
// out whose lists start over from what they show ({{ltList}}). It follows
// a lost broadcast (Resync) and a tab that reconnects having missed list
// operations its replay log no longer has.
func (c *conn) remount() {
	var lists *listCall
	if m := c.h.ct.mount; m != nil {
		// Its broadcasts are dropped, as on a resync.
		if out, _, err := c.call(*m, "", nil, nil, false); err == nil {
			c.state = out
		} else {
			c.h.log.Warn("lt: Mount failed while mounting again; keeping the state", "conn", c.id, "err", err)
		}
		lists = c.out.lists
	}
	if c.h.ct.params != nil {
		c.resyncParams() // navigate.go
		lists = lists.concat(c.out.lists)
	}
	c.out.lists = nil
	c.publish(view{lists: resetLists, listHTML: lists.html()}, true, nil, nil)
}

// remountLocked queues remount instead of the full render an attachment
// would send now, when its tab may have missed list operations: the log
// no longer reaches back to them. It reports whether it did. c.mu is held.
func (a *attachment) remountLocked() bool {
	c := a.c
	if c.listSeq <= a.seq || a.replaced != "" || c.queueLocked(job{f: c.remount}) != nil {
		return false
	}
	c.scheduleLocked()
	return true
}
