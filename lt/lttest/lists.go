package lttest

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/livesse/livesse/internal/listops"
	"golang.org/x/net/html"
)

// lists holds the items of a tab's live lists (docs/protocol.md, "Live
// lists"), by container id, as the browser keeps them: the page's
// renders leave them alone, the update's L changes them.
type lists map[string][]listops.Item

// readLists finds the live lists of doc, at cs (containers(doc)), and
// their items, the elements directly inside them.
func readLists(doc string, cs []container) lists {
	ls := lists{}
	for _, c := range cs {
		ls[c.id] = splitItems(doc[c.start:c.end])
	}
	return ls
}

// show returns doc with the content of each live list, at cs
// (containers(doc)), replaced by its items.
func (ls lists) show(doc string, cs []container) string {
	var b strings.Builder
	at := 0
	for _, c := range cs {
		items, ok := ls[c.id]
		if !ok {
			continue
		}
		b.WriteString(doc[at:c.start])
		for _, it := range items {
			b.WriteString(it.HTML)
		}
		at = c.end
	}
	b.WriteString(doc[at:])
	return b.String()
}

// apply runs the operations of an update's L, in order, as the client
// does (web/src/list.js): lists the page does not show (not in cs) are
// skipped, and so is the render's ["x"], which starts every list over
// (the caller's, see startsOver).
func (ls lists) apply(raw json.RawMessage, cs []container) error {
	var ops [][]json.RawMessage
	if err := json.Unmarshal(raw, &ops); err != nil {
		return fmt.Errorf("the update's L is not a list of operations: %w", err)
	}
	shown := map[string]bool{}
	for _, c := range cs {
		shown[c.id] = true
	}
	for _, op := range ops {
		// Each operation is [kind, list, args...]: strings but for the
		// insert's position.
		var kind, list, arg string
		pos := -1
		args := []any{&kind, &list}
		switch {
		case len(op) == 4:
			args = append(args, &pos, &arg)
		case len(op) == 3:
			args = append(args, &arg)
		}
		if len(op) != len(args) && !(len(op) == 1 && string(op[0]) == `"x"`) {
			return fmt.Errorf("bad list operation %s", op)
		}
		for i, v := range args[:len(op)] {
			if err := json.Unmarshal(op[i], v); err != nil {
				return fmt.Errorf("bad list operation %s: %w", op, err)
			}
		}
		if !shown[list] {
			continue
		}
		switch kind {
		case "x", "d", "a", "p", "i", "u":
		default:
			return fmt.Errorf("unknown list operation %q", kind)
		}
		it := listops.Item{Key: arg} // 'd' names its item
		if kind != "d" {
			it = firstItem(arg)
		}
		ls[list] = listops.Apply(ls[list], kind[0], it, pos)
	}
	return nil
}

// startsOver reports whether L is the render's "start every list over"
// (["x"] alone).
func startsOver(raw json.RawMessage) bool {
	var ops [][]string
	return json.Unmarshal(raw, &ops) == nil && len(ops) > 0 && len(ops[0]) == 1 && ops[0][0] == "x"
}

// container is where a live list's items are in a document: the bytes
// between its start tag and its end tag.
type container struct {
	id         string
	start, end int
}

// containers finds the live lists of doc, outermost only.
func containers(doc string) []container {
	var cs []container
	z := html.NewTokenizer(strings.NewReader(doc))
	at, depth := 0, 0
	var open *container
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return cs
		}
		n := len(z.Raw())
		switch tt {
		case html.StartTagToken:
			if open != nil {
				if !void(z) {
					depth++
				}
				break
			}
			if id, ok := listAttrs(z); ok {
				open = &container{id: id, start: at + n}
				depth = 0
			}
		case html.EndTagToken:
			if open == nil {
				break
			}
			if depth == 0 {
				open.end = at
				cs = append(cs, *open)
				open = nil
			} else {
				depth--
			}
		}
		at += n
	}
}

// listAttrs reports whether the start tag z is at is a live list's
// container, with its id.
func listAttrs(z *html.Tokenizer) (id string, ok bool) {
	_, more := z.TagName()
	var marked bool
	for more {
		var k, v []byte
		k, v, more = z.TagAttr()
		switch string(k) {
		case "id":
			id = string(v)
		case "data-lt-list":
			marked = true
		}
	}
	return id, marked && id != ""
}

// void reports whether the start tag z is at has no end tag.
func void(z *html.Tokenizer) bool {
	name, _ := z.TagName()
	switch string(name) {
	case "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr":
		return true
	}
	return false
}

// splitItems returns the elements directly inside a container's content.
func splitItems(content string) []listops.Item {
	var items []listops.Item
	z := html.NewTokenizer(strings.NewReader(content))
	at, depth, start := 0, 0, 0
	var id string
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return items
		}
		n := len(z.Raw())
		switch tt {
		case html.StartTagToken, html.SelfClosingTagToken:
			if depth == 0 {
				start, id = at, ""
				_, more := z.TagName()
				for more {
					var k, v []byte
					k, v, more = z.TagAttr()
					if string(k) == "id" {
						id = string(v)
					}
				}
			}
			if tt == html.StartTagToken && !void(z) {
				depth++
			} else if depth == 0 {
				items = append(items, listops.Item{Key: id, HTML: content[start : at+n]})
			}
		case html.EndTagToken:
			depth--
			if depth == 0 {
				items = append(items, listops.Item{Key: id, HTML: content[start : at+n]})
			}
		}
		at += n
	}
}

// firstItem is the first element of h, as the client keeps it (a
// template's first element child), with its id.
func firstItem(h string) listops.Item {
	if items := splitItems(h); len(items) > 0 {
		return items[0]
	}
	return listops.Item{}
}

// keepLists makes region, the live region a tab shows after an update,
// show the tab's live lists: those it had (or, for a tab that has none
// yet or restart, those region holds), changed by the update's L.
func (tab *Tab) keepLists(L json.RawMessage, region string, restart bool) string {
	tab.t.Helper()
	if !strings.Contains(region, "data-lt-list") {
		tab.lists = nil
		return region
	}
	cs := containers(region)
	if tab.lists == nil || restart {
		tab.lists = readLists(region, cs)
	}
	if L != nil {
		if err := tab.lists.apply(L, cs); err != nil {
			tab.t.Fatalf("lttest: live lists: %v", err)
		}
	}
	return tab.lists.show(region, cs)
}
