package lt

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// lifecycleNames are the lifecycle methods' names. They are called by lt,
// never from the wire.
var lifecycleNames = [...]string{"Mount", "Params", "OnConnect", "OnDisconnect", "Sync"}

// isLifecycle reports whether a method is a lifecycle method. Every method
// call asks, so it compares rather than hashes.
func isLifecycle(name string) bool {
	for _, l := range lifecycleNames {
		if name == l {
			return true
		}
	}
	return false
}

var (
	contextPtrType = reflect.TypeFor[*Context]()
	errorType      = reflect.TypeFor[error]()
)

// controllerType is what lt learns about a controller and state type once,
// at New: which methods are actions, which lifecycle hooks exist.
type controllerType struct {
	ctrl                   reflect.Type // pointer to struct
	state                  reflect.Type
	actions                map[string]reflect.Method // by normalized wire name
	names                  []string                  // method names of actions, sorted, for messages
	mount, onConnect, sync *reflect.Method
	params                 *reflect.Method // Params: the URL's part of the state (navigate.go)
	onDisconnect           *reflect.Method
}

// normalize maps a wire name and a method name to the same key:
// "add_item", "add-item", "addItem" and "AddItem" all become "additem".
func normalize(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_' || c == '-':
		case 'A' <= c && c <= 'Z':
			b.WriteByte(c + 'a' - 'A')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// inspectController checks the controller prototype and the state type and
// returns the dispatch table. A method is an action when it has the
// signature func(S, *lt.Context) (S, error); an exported method that takes
// the state or a *lt.Context but does not have that signature is a mistake
// reported here rather than a silently ignored button.
func inspectController(ctrl any, state reflect.Type) (*controllerType, error) {
	ct := reflect.TypeOf(ctrl)
	if ct == nil || ct.Kind() != reflect.Pointer || ct.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("%w: controller must be a pointer to a struct, got %v", ErrBadController, ct)
	}
	if reflect.ValueOf(ctrl).IsNil() {
		return nil, fmt.Errorf("%w: controller is a nil %v", ErrBadController, ct)
	}
	t := &controllerType{ctrl: ct, state: state, actions: map[string]reflect.Method{}}
	for i := 0; i < ct.NumMethod(); i++ {
		m := ct.Method(i)
		ft := m.Type // receiver is In(0)
		switch m.Name {
		case "OnDisconnect":
			if ft.NumIn() != 1 || ft.NumOut() != 0 {
				return nil, fmt.Errorf("%w: OnDisconnect has type %v, want func()", ErrBadController, methodSig(ft))
			}
			t.onDisconnect = &m
			continue
		}
		isAction := ft.NumIn() == 3 && ft.In(1) == state && ft.In(2) == contextPtrType &&
			ft.NumOut() == 2 && ft.Out(0) == state && ft.Out(1) == errorType
		looksLikeAction := false
		for j := 1; j < ft.NumIn(); j++ {
			looksLikeAction = looksLikeAction || ft.In(j) == state || ft.In(j) == contextPtrType
		}
		if !isAction {
			if looksLikeAction || isLifecycle(m.Name) {
				return nil, fmt.Errorf("%w: method %s has type %v, want func(%v, *lt.Context) (%v, error)",
					ErrBadController, m.Name, methodSig(ft), state, state)
			}
			continue // an ordinary helper method; not callable from the wire
		}
		switch m.Name {
		case "Mount":
			t.mount = &m
		case "OnConnect":
			t.onConnect = &m
		case "Sync":
			t.sync = &m
		case "Params":
			t.params = &m
		default:
			key := normalize(m.Name)
			if prev, dup := t.actions[key]; dup {
				return nil, fmt.Errorf("%w: methods %s and %s have the same wire name %q", ErrBadController, prev.Name, m.Name, key)
			}
			t.actions[key] = m
			t.names = append(t.names, m.Name)
		}
	}
	sort.Strings(t.names)
	return t, nil
}

// methodSig prints a method type without its receiver.
func methodSig(ft reflect.Type) string {
	in := make([]string, 0, ft.NumIn())
	for i := 1; i < ft.NumIn(); i++ {
		in = append(in, ft.In(i).String())
	}
	out := make([]string, 0, ft.NumOut())
	for i := 0; i < ft.NumOut(); i++ {
		out = append(out, ft.Out(i).String())
	}
	s := "func(" + strings.Join(in, ", ") + ")"
	switch len(out) {
	case 0:
	case 1:
		s += " " + out[0]
	default:
		s += " (" + strings.Join(out, ", ") + ")"
	}
	return s
}

// lookup resolves a wire name to an action method. Lifecycle names and
// unknown names are errors that say which actions exist.
func (t *controllerType) lookup(name string) (reflect.Method, error) {
	key := normalize(name)
	if m, ok := t.actions[key]; ok && name != "" {
		return m, nil
	}
	for _, l := range lifecycleNames {
		if normalize(l) == key {
			return reflect.Method{}, fmt.Errorf("%w: %q is a lifecycle method, not an action", ErrUnknownAction, clip(name, maxShownName))
		}
	}
	return reflect.Method{}, fmt.Errorf("%w: %q (actions: %s)", ErrUnknownAction, clip(name, maxShownName), t.describe())
}

// maxShownName bounds how much of a client's action name an error repeats.
const maxShownName = 64

func (t *controllerType) describe() string {
	if len(t.names) == 0 {
		return "none"
	}
	return strings.Join(t.names, ", ")
}

// newController makes a connection's own shallow copy of the prototype.
func (t *controllerType) newController(proto reflect.Value) reflect.Value {
	c := reflect.New(t.ctrl.Elem())
	c.Elem().Set(proto.Elem())
	return c
}

// call runs a state-transforming method (an action, Mount, OnConnect or
// Sync) and recovers a panic into an error, so one bad action cannot take
// down the server or other connections. With an error it returns the
// state the method returned (the state it was given, after a panic).
func call(m reflect.Method, ctrl, state reflect.Value, ctx *Context) (out reflect.Value, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = state, &panicError{method: m.Name, value: p, stack: stack()}
		}
		if err != nil && ctx.h != nil && ctx.h.opts.dev {
			err = ctx.h.devWrap(m, err) // where it happened (WithDevMode)
		}
	}()
	res := m.Func.Call([]reflect.Value{ctrl, state, reflect.ValueOf(ctx)})
	if e, _ := res[1].Interface().(error); e != nil {
		return res[0], e
	}
	return res[0], nil
}
