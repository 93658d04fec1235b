package livetree

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Client is the Go twin of the browser client's tree code (web/src/tree.js):
// it keeps statics and a tree built from messages, applies diffs, and
// renders HTML. Tests prove it reconstructs html/template's output, and
// that the JavaScript does exactly what it does.
type Client struct {
	statics map[string][]string
	root    *cfrag
}

type cfrag struct {
	id    string
	key   string
	slots []any // string or []*cfrag
}

// NewClient returns a client with no tree.
func NewClient() *Client { return &Client{statics: map[string][]string{}} }

// Learn adds statics ({"id":[...]}) to the client's cache.
func (c *Client) Learn(statics []byte) error {
	if len(statics) == 0 {
		return nil
	}
	var m map[string][]string
	if err := json.Unmarshal(statics, &m); err != nil {
		return err
	}
	for k, v := range m {
		c.statics[k] = v
	}
	return nil
}

// Replace sets the whole tree.
func (c *Client) Replace(tree []byte) error {
	var v any
	if err := json.Unmarshal(tree, &v); err != nil {
		return err
	}
	f, err := decodeFrag(v)
	c.root = f
	return err
}

// Patch applies a diff to the tree.
func (c *Client) Patch(diff []byte) error {
	var v any
	if err := json.Unmarshal(diff, &v); err != nil {
		return err
	}
	if c.root == nil {
		return fmt.Errorf("livetree: diff without a tree")
	}
	return patchFrag(c.root, v)
}

// HTML renders the tree.
func (c *Client) HTML() (string, error) {
	var b strings.Builder
	if c.root == nil {
		return "", fmt.Errorf("livetree: no tree")
	}
	err := c.render(&b, c.root)
	return b.String(), err
}

func (c *Client) render(b *strings.Builder, f *cfrag) error {
	st, ok := c.statics[f.id]
	if !ok || len(st) != len(f.slots)+1 {
		return fmt.Errorf("livetree: statics of fragment %s missing or wrong", f.id)
	}
	for i, s := range f.slots {
		b.WriteString(st[i])
		switch s := s.(type) {
		case string:
			b.WriteString(s)
		case []*cfrag:
			for _, ch := range s {
				if err := c.render(b, ch); err != nil {
					return err
				}
			}
		}
	}
	b.WriteString(st[len(f.slots)])
	return nil
}

func decodeFrag(v any) (*cfrag, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("livetree: fragment is %T", v)
	}
	id, _ := m["f"].(float64)
	f := &cfrag{id: strconv.Itoa(int(id))}
	f.key, _ = m["k"].(string)
	vals, _ := m["v"].([]any)
	for _, s := range vals {
		slot, err := decodeSlot(s)
		if err != nil {
			return nil, err
		}
		f.slots = append(f.slots, slot)
	}
	return f, nil
}

func decodeSlot(v any) (any, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case []any:
		out := make([]*cfrag, 0, len(v))
		for _, e := range v {
			f, err := decodeFrag(e)
			if err != nil {
				return nil, err
			}
			out = append(out, f)
		}
		return out, nil
	}
	return nil, fmt.Errorf("livetree: slot is %T", v)
}

func patchFrag(f *cfrag, d any) error {
	m, ok := d.(map[string]any)
	if !ok {
		return fmt.Errorf("livetree: fragment diff is %T", d)
	}
	for k, change := range m {
		i, err := strconv.Atoi(k)
		if err != nil || i < 0 || i >= len(f.slots) {
			return fmt.Errorf("livetree: slot %q out of range", k)
		}
		switch ch := change.(type) {
		case string, []any:
			if f.slots[i], err = decodeSlot(ch); err != nil {
				return err
			}
		case map[string]any:
			frags, ok := f.slots[i].([]*cfrag)
			if !ok {
				return fmt.Errorf("livetree: compound diff on a value slot")
			}
			if j, ok := ch["j"].(map[string]any); ok {
				for pos, fd := range j {
					p, err := strconv.Atoi(pos)
					if err != nil || p < 0 || p >= len(frags) {
						return fmt.Errorf("livetree: position %q out of range", pos)
					}
					if err := patchFrag(frags[p], fd); err != nil {
						return err
					}
				}
			}
			if ops, ok := ch["l"].([]any); ok {
				if f.slots[i], err = applyOps(frags, ops); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("livetree: slot change is %T", ch)
		}
	}
	return nil
}

// applyOps applies list operations in the three passes listDiff defines.
func applyOps(items []*cfrag, ops []any) ([]*cfrag, error) {
	gone := map[string]bool{}
	moved := map[string]*cfrag{}
	for _, o := range ops {
		op, _ := o.([]any)
		if len(op) < 2 {
			return nil, fmt.Errorf("livetree: bad op %v", o)
		}
		switch op[0] {
		case "r":
			k, _ := op[1].(string)
			gone[k] = true
		case "m":
			k, _ := op[1].(string)
			moved[k] = nil
		}
	}
	kept := items[:0:0]
	for _, it := range items {
		switch _, m := moved[it.key]; {
		case gone[it.key]:
		case m:
			moved[it.key] = it
		default:
			kept = append(kept, it)
		}
	}
	for _, o := range ops {
		op := o.([]any)
		var it *cfrag
		var pos float64
		switch op[0] {
		case "m":
			k, _ := op[1].(string)
			it, pos = moved[k], num(op, 2)
		case "i":
			var err error
			if len(op) < 3 {
				return nil, fmt.Errorf("livetree: bad insert %v", op)
			}
			if it, err = decodeFrag(op[2]); err != nil {
				return nil, err
			}
			pos = num(op, 1)
		default:
			continue
		}
		p := int(pos)
		if it == nil || p < 0 || p > len(kept) {
			return nil, fmt.Errorf("livetree: op %v out of range", op)
		}
		kept = append(kept[:p], append([]*cfrag{it}, kept[p:]...)...)
	}
	byKey := make(map[string]*cfrag, len(kept))
	for _, it := range kept {
		byKey[it.key] = it
	}
	for _, o := range ops {
		op := o.([]any)
		if op[0] != "u" || len(op) < 3 {
			continue
		}
		k, _ := op[1].(string)
		it := byKey[k]
		if it == nil {
			return nil, fmt.Errorf("livetree: update of unknown item %q", k)
		}
		if err := patchFrag(it, op[2]); err != nil {
			return nil, err
		}
	}
	return kept, nil
}

func num(op []any, i int) float64 {
	if i >= len(op) {
		return -1
	}
	f, _ := op[i].(float64)
	return f
}
