package livetree

import (
	"strconv"
	"strings"
)

// keyItems gives the items of a {{range}} their keys: the data-key
// attribute of the item's first element, else its id attribute. When an
// item has neither, or two items share a key, the list is keyed by
// position ("#0", "#1", ...): still correct, but a move or an insertion
// before the end then updates every item after it.
func keyItems(items []*Frag, st *Statics) {
	seen := make(map[string]bool, len(items))
	ok := true
	for _, it := range items {
		k := itemKey(it.Render(st))
		if k == "" || seen[k] {
			ok = false
			break
		}
		seen[k] = true
		it.Key = k
	}
	if !ok {
		for i, it := range items {
			it.Key = "#" + strconv.Itoa(i)
		}
	}
}

// itemKey finds the key attribute of the first element of html.
func itemKey(html string) string {
	i := 0
	for {
		j := strings.IndexByte(html[i:], '<')
		if j < 0 || i+j+1 >= len(html) {
			return ""
		}
		i += j + 1
		if c := html[i]; 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' {
			break
		}
		// a comment, a doctype or a closing tag: not an element start
	}
	// Skip the tag name.
	for i < len(html) && !isSpace(html[i]) && html[i] != '>' && html[i] != '/' {
		i++
	}
	var id, key string
	for i < len(html) {
		for i < len(html) && (isSpace(html[i]) || html[i] == '/') {
			i++
		}
		if i >= len(html) || html[i] == '>' {
			break
		}
		start := i
		for i < len(html) && !isSpace(html[i]) && html[i] != '=' && html[i] != '>' && html[i] != '/' {
			i++
		}
		name := strings.ToLower(html[start:i])
		val := ""
		for i < len(html) && isSpace(html[i]) {
			i++
		}
		if i < len(html) && html[i] == '=' {
			i++
			for i < len(html) && isSpace(html[i]) {
				i++
			}
			if i < len(html) && (html[i] == '"' || html[i] == '\'') {
				q := html[i]
				end := strings.IndexByte(html[i+1:], q)
				if end < 0 {
					return ""
				}
				val = html[i+1 : i+1+end]
				i += end + 2
			} else {
				start := i
				for i < len(html) && !isSpace(html[i]) && html[i] != '>' {
					i++
				}
				val = html[start:i]
			}
		}
		switch name {
		case "data-key":
			key = val
		case "id":
			id = val
		}
	}
	if key != "" {
		return key
	}
	return id
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }
