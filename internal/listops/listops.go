// Package listops applies the operations of a live list (docs/protocol.md,
// "Live lists") to its items, as the browser client does (web/src/list.js):
// lt uses it for what {{ltList}} shows, lt/lttest for what a tab keeps.
package listops

// Item is one item of a live list: its key (its element's id) and its
// HTML.
type Item struct{ Key, HTML string }

// Apply returns items after one operation: 'x' removes every item, 'd'
// the one whose key is it.Key; 'a', 'p' and 'i' append it, prepend it or
// insert it before the pos-th item (out of range: appended), and 'u'
// does nothing more, unless an item has its key: then it replaces that
// one, where it is. Another op changes nothing. items may be reused.
func Apply(items []Item, op byte, it Item, pos int) []Item {
	at := -1
	if it.Key != "" {
		for i, x := range items {
			if x.Key == it.Key {
				at = i
				break
			}
		}
	}
	switch {
	case op == 'x':
		return nil
	case op == 'd':
		if at >= 0 {
			items = append(items[:at], items[at+1:]...)
		}
	case op != 'a' && op != 'p' && op != 'i' && op != 'u':
	case at >= 0:
		items[at] = it
	case op == 'a':
		items = append(items, it)
	case op == 'p':
		items = append([]Item{it}, items...)
	case op == 'i':
		if pos < 0 || pos > len(items) {
			pos = len(items)
		}
		items = append(items[:pos], append([]Item{it}, items[pos:]...)...)
	}
	return items
}
