package lt

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/livesse/livesse/internal/livetree"
)

// A batch shares work among the connections one server action reaches
// (TriggerAll, TriggerSession, TriggerUser, a message from another
// instance). Connections that end in equal states render once, and
// connections whose pages were one tree and become another share one
// diff: at 10,000 tabs of one page that turns 10,000 template executions
// into a handful. Sharing is limited to one batch because a template may
// call functions whose output changes with time; within a batch, every
// connection renders "at the same moment" either way.
type batch struct {
	h       *Handler // to report renders to, with metrics; nil without
	mode    stateKeyMode
	mu      sync.Mutex
	renders map[renderKey]*rendering
	changes map[[2]*livetree.Frag]*changing
	// shown holds what the users see of each error the action returned,
	// by its text, so that a failing fan-out logs each error once, not
	// once per connection.
	shown map[string]string

	// Most connections of a fan-out ask for the same rendering and
	// change as the one before; these answer them without the lock.
	lastRender atomic.Pointer[renderHit]
	lastChange atomic.Pointer[changing]
}

type renderHit struct {
	key renderKey
	r   *rendering
}

type renderKey struct {
	state  any // the state itself, or its JSON (see stateKeyMode)
	errMsg string
	fields string // the view's field errors and flashes (view.extrasKey)
}

type rendering struct {
	once  sync.Once
	done  atomic.Bool // once has run
	tree  *livetree.Frag
	plain []byte
	err   error

	jsonOnce sync.Once
	json     []byte // the state's JSON, for the state store
	jsonErr  error
}

type changing struct {
	key    [2]*livetree.Frag
	once   sync.Once
	done   atomic.Bool
	change livetree.Change
}

// newBatch returns a batch for a message reaching n connections, or nil
// when there is nothing to share.
func (h *Handler) newBatch(n int) *batch {
	if n < 2 || h.stateKeys == keyNone {
		return nil
	}
	b := &batch{mode: h.stateKeys, renders: map[renderKey]*rendering{}, changes: map[[2]*livetree.Frag]*changing{}}
	if h.timed {
		b.h = h
	}
	return b
}

// rendering returns the batch's rendering of state with view v, made by
// the first connection to ask; nil when the state cannot be keyed.
func (b *batch) rendering(rs *renderers, state reflect.Value, v view) *rendering {
	k := renderKey{errMsg: v.err, fields: v.extrasKey()}
	var js []byte
	switch b.mode {
	case keyValue:
		k.state = state.Interface()
	case keyJSON:
		var err error
		if js, err = json.Marshal(state.Interface()); err != nil {
			return nil
		}
		k.state = string(js)
	}
	if hit := b.lastRender.Load(); hit != nil && hit.key == k && hit.r.done.Load() {
		return hit.r
	}
	b.mu.Lock()
	r, ok := b.renders[k]
	if !ok {
		r = &rendering{json: js}
		b.renders[k] = r
	}
	b.mu.Unlock()
	r.once.Do(func() {
		var t0 time.Time
		if b.h != nil {
			t0 = time.Now()
		}
		r.tree, r.plain, r.err = rs.render(state.Interface(), v)
		if b.h != nil {
			b.h.m.Rendered(time.Since(t0))
		}
		r.done.Store(true)
	})
	b.lastRender.Store(&renderHit{k, r})
	return r
}

// shownError is Handler.shownError once per distinct error of the batch.
func (b *batch) shownError(c *conn, err error, m string, action string) string {
	key := err.Error()
	b.mu.Lock()
	defer b.mu.Unlock()
	if msg, ok := b.shown[key]; ok {
		return msg
	}
	if b.shown == nil {
		b.shown = map[string]string{}
	}
	msg := c.h.shownError(c.ctx, err, nil, "conn", c.id, "method", m, "action", action, "fan-out", true)
	b.shown[key] = msg
	return msg
}

// stateJSON is the rendered state's JSON, computed once per rendering.
func (r *rendering) stateJSON(state reflect.Value) ([]byte, error) {
	r.jsonOnce.Do(func() {
		if r.json == nil {
			r.json, r.jsonErr = json.Marshal(state.Interface())
		}
	})
	return r.json, r.jsonErr
}

// change returns the Change from old to new, computed once per batch.
func (b *batch) change(old, new *livetree.Frag) livetree.Change {
	k := [2]*livetree.Frag{old, new}
	if c := b.lastChange.Load(); c != nil && c.key == k && c.done.Load() {
		return c.change
	}
	b.mu.Lock()
	c, ok := b.changes[k]
	if !ok {
		c = &changing{key: k}
		b.changes[k] = c
	}
	b.mu.Unlock()
	c.once.Do(func() {
		c.change = livetree.Changes(old, new)
		c.done.Store(true)
	})
	b.lastChange.Store(c)
	return c.change
}

// stateKeyMode says how states of one type are compared for sharing a
// render: two states may share one only if they are bound to render the
// same.
type stateKeyMode int

const (
	keyNone  stateKeyMode = iota // no sharing
	keyValue                     // comparable with ==, and hashing cannot panic
	keyJSON                      // plain data: equal JSON means equal values
)

func stateKeysFor(t reflect.Type) stateKeyMode {
	switch {
	case t.Comparable() && hashable(t):
		return keyValue
	case plainData(t, map[reflect.Type]bool{}):
		return keyJSON
	}
	return keyNone
}

// hashable reports whether values of the comparable type t can be map
// keys without a run-time panic: no interface inside, which could hold a
// slice or map.
func hashable(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Interface:
		return false
	case reflect.Array:
		return hashable(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if !hashable(t.Field(i).Type) {
				return false
			}
		}
	}
	return true
}

var (
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
)

// plainData reports whether everything in a value of type t is in its
// JSON: exported fields only, no custom marshalers, nothing that JSON
// drops or merges. seen breaks cycles.
func plainData(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return true
	}
	seen[t] = true
	if t.Implements(jsonMarshaler) || reflect.PointerTo(t).Implements(jsonMarshaler) ||
		t.Implements(textMarshaler) || reflect.PointerTo(t).Implements(textMarshaler) {
		return false
	}
	switch t.Kind() {
	case reflect.Bool, reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	case reflect.Pointer, reflect.Array:
		return plainData(t.Elem(), seen)
	case reflect.Slice:
		// []byte is base64 in JSON: still one-to-one.
		return plainData(t.Elem(), seen)
	case reflect.Map:
		return t.Key().Kind() == reflect.String && plainData(t.Elem(), seen)
	case reflect.Struct:
		// Embedded structs and clashing names are refused: encoding/json
		// silently drops fields whose names collide.
		names := map[string]bool{}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" {
				name = f.Name
			}
			if !f.IsExported() || f.Anonymous || name == "-" || names[strings.ToLower(name)] || !plainData(f.Type, seen) {
				return false
			}
			names[strings.ToLower(name)] = true
		}
		return true
	}
	return false
}
