package lt

import (
	"bytes"
	"strconv"

	"github.com/livesse/livesse/internal/livetree"
	"github.com/livesse/livesse/internal/sse"
)

// This file is the seam of the update format (docs/protocol.md): what a
// connection sends when its page changes, and how that is written as JSON.

// update is one change of a connection's page.
type update struct {
	kind    byte   // 'r' a full tree, 'd' a diff of the tree, 'h' the live region's HTML
	body    []byte // the tree or diff as JSON; for 'h', the HTML itself
	statics []byte // statics the client does not have yet, as JSON; may be nil
	events  []byte // events for the client to dispatch (PushEvent), as JSON; may be nil
	url     []byte // the URL the tab moves to (PushURL, navigate.go), as JSON; may be nil
	lists   []byte // list operations (List, list.go), as JSON; may be nil
}

// change turns a new rendering (a tree, or plain HTML when the output did
// not split) into the update from what the client was last sent, and makes
// it the connection's current page. ok is false when nothing changed. b,
// when not nil, shares the diff among the connections of a batch.
// c.mu is held.
func (c *conn) change(tree *livetree.Frag, plain []byte, b *batch) (u update, ok bool) {
	switch {
	case tree != nil && c.tree != nil && c.tree.ID == tree.ID:
		var ch livetree.Change
		if b != nil {
			ch = b.change(c.tree, tree)
		} else {
			ch = livetree.Changes(c.tree, tree)
		}
		c.tree = tree
		if !ch.OK {
			return update{}, false
		}
		return update{kind: 'd', body: ch.Diff, statics: c.enc.Statics(ch)}, true
	case tree != nil:
		c.tree, c.fallback = tree, nil
		r, st := c.enc.Full(tree, true)
		return update{kind: 'r', body: r, statics: st, url: c.moved}, true
	default:
		region := splitPage(plain).region
		if c.tree == nil && c.fallback != nil && bytes.Equal(region, c.fallback) {
			return update{}, false
		}
		c.tree, c.fallback = nil, bytes.Clone(region)
		return update{kind: 'h', body: c.fallback, url: c.moved}, true
	}
}

// snapshot is the whole current page, for a client that cannot be caught up
// with updates, and the tab's URL if the server moved it (a client that
// missed the update's u replaces its URL). c.mu is held.
func (c *conn) snapshot() update {
	if c.tree == nil {
		return update{kind: 'h', body: c.fallback, url: c.moved}
	}
	r, st := c.enc.Full(c.tree, true)
	return update{kind: 'r', body: r, statics: st, url: c.moved}
}

// document renders the page's full HTML from the current tree. c.mu is held.
func (c *conn) document() []byte {
	if c.tree == nil {
		return c.fallback
	}
	return []byte(c.tree.Render(c.h.tpl().st))
}

// message writes the JSON of an update at seq, with an action's error
// message for a POST answer; u.kind 0 writes no change.
func (c *conn) message(seq uint64, u update, errMsg string) []byte {
	return c.messageFor(seq, u, errMsg, "")
}

// messageFor is message naming the connection id old that this
// connection replaces, for the client that asked for old.
func (c *conn) messageFor(seq uint64, u update, errMsg, old string) []byte {
	return c.appendMessage(make([]byte, 0, len(u.body)+len(u.statics)+64), seq, u, errMsg, old)
}

// appendMessage is messageFor appending to dst. It appends rather than
// going through a bytes.Buffer: every connection of a fan-out writes its
// message this way (attachment.next).
func (c *conn) appendMessage(dst []byte, seq uint64, u update, errMsg, old string) []byte {
	dst = append(dst, `{"c":`...)
	dst = append(dst, c.idJSON...)
	if old != "" {
		dst = append(dst, `,"o":`...)
		dst = appendJSONString(dst, old)
	}
	dst = append(dst, `,"s":`...)
	dst = strconv.AppendUint(dst, seq, 10)
	switch u.kind {
	case 'r', 'd':
		dst = append(dst, ',', '"', u.kind, '"', ':')
		dst = append(dst, u.body...)
	case 'h':
		dst = append(dst, `,"h":`...)
		dst = appendJSONString(dst, string(u.body))
	}
	for _, f := range [...]struct {
		key  string
		json []byte
	}{{`,"S":`, u.statics}, {`,"e":`, u.events}, {`,"u":`, u.url}, {`,"L":`, u.lists}} {
		if len(f.json) > 0 {
			dst = append(dst, f.key...)
			dst = append(dst, f.json...)
		}
	}
	if errMsg != "" {
		dst = append(dst, `,"error":`...)
		dst = appendJSONString(dst, errMsg)
	}
	return append(dst, '}')
}

// appendJSONString appends s as a JSON string, as writeJSONString writes it.
func appendJSONString(dst []byte, s string) []byte {
	b := bytes.NewBuffer(dst)
	writeJSONString(b, s)
	return b.Bytes()
}

// loggedDiff is the type under which a connection's log keeps a diff that
// needs no statics: the diff alone, shared by the connections of a
// fan-out, instead of a message per connection. Only attachment.next reads
// the log, and it turns such an event into the update message.
const loggedDiff = "diff"

func writeJSONString(b *bytes.Buffer, s string) { livetree.WriteString(b, s) }

// eventRender is a full render at seq; clients always apply it. old names
// the connection it replaces, if any. c.mu is held.
func eventRender(c *conn, seq uint64, u update, old string) sse.Event {
	return sse.Event{Seq: seq, Type: "render", Data: c.messageFor(seq, u, "", old)}
}
