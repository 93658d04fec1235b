package lt

import (
	"encoding"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Bind copies the action's data into the struct v points to.
//
// A field takes the value whose key is its form tag name (form:"email"),
// else its json tag name, else its name compared the way action names are
// ("first_name" fills FirstName). A tag name "-" skips the field, and so
// do unexported fields; reserved keys (those starting with "_lt_") never
// reach a field; keys without a field are ignored.
//
// Values: strings are parsed for numeric and bool fields ("on", "1",
// "true", "yes" are true); a []T field takes every value of a repeated
// form field; a field whose type implements encoding.TextUnmarshaler
// (netip.Addr, UUID types) is given the text. A time.Time takes RFC 3339
// and what <input type="datetime-local">, "date", "month" and "time" send
// ("2024-05-01T13:45", "2024-05-01", "2024-05", "13:45"), in UTC. An
// empty value (what an input left blank sends) sets a number, a bool, a
// time, a TextUnmarshaler to its zero value and a pointer to nil; a
// pointer field with a value is allocated and set.
//
// Nested structs are named with dots: an Address field's City field
// takes the key "address.city" (each part named as above; a pointer to a
// struct is allocated when a key inside it is present). An embedded
// struct's fields are the outer struct's, as in encoding/json. Slices of
// structs and maps are not bound.
//
// Every field is bound that can be: a value that does not fit its field
// leaves the field as it was, and Bind returns the FieldErrors of all
// such fields, keyed by the form's own key ("quantity", "address.zip"),
// with a message for the user ("Must be a whole number"), wrapped
// together with ErrBadRequest. An action can return that error as it is
// (its tab shows each message next to its field) or merge it with its
// own checks (FieldErrors.Merge). A v that is not a non-nil pointer to a
// struct is an error of the program, not of the input.
func (c *Context) Bind(v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("lt: Bind needs a non-nil pointer to a struct, got %T", v)
	}
	root := &formNode{}
	for k, val := range c.data {
		if !strings.HasPrefix(k, "_lt_") {
			root.add(k, val)
		}
	}
	var fe FieldErrors
	bindStruct(rv.Elem(), root, "", &fe, 0)
	if len(fe) > 0 {
		return fmt.Errorf("%w: %w", ErrBadRequest, fe)
	}
	return nil
}

// formNode is the action's data as a tree of dotted keys: "address.city"
// is the node city under address.
type formNode struct {
	value any  // the value of the key ending here
	has   bool // the key ending here is present
	kids  map[string]*formNode
}

// A struct's keys are gathered under one node whatever their spelling
// ("home.city" and "Home.zip"), as its name is matched loosely.
func (n *formNode) add(key string, v any) {
	for {
		part, rest, more := strings.Cut(key, ".")
		if n.kids == nil {
			n.kids = map[string]*formNode{}
		}
		kid := n.kids[part]
		if kid == nil && more {
			_, kid = n.child("", part)
		}
		if kid == nil {
			kid = &formNode{}
			n.kids[part] = kid
		}
		n = kid
		if !more {
			n.value, n.has = v, true
			return
		}
		key = rest
	}
}

// child finds the node of a field named name (a tag name, matched
// exactly) or goName (matched loosely), and the key it has in the data.
func (n *formNode) child(name, goName string) (string, *formNode) {
	if name != "" {
		if kid, ok := n.kids[name]; ok {
			return name, kid
		}
	}
	want := normalize(goName)
	if name != "" {
		want = normalize(name)
	}
	for k, kid := range n.kids {
		if normalize(k) == want {
			return k, kid
		}
	}
	return "", nil
}

// maxBindDepth bounds how deep Bind follows nested structs: deeper is a
// recursive type, not a form.
const maxBindDepth = 16

// bindStruct binds node's keys into the struct rv; prefix is the key of
// the struct itself ("address." for Address), for the errors' keys.
func bindStruct(rv reflect.Value, node *formNode, prefix string, fe *FieldErrors, depth int) {
	if depth > maxBindDepth {
		return
	}
	rt := rv.Type()
	for i := range rt.NumField() {
		f := rt.Field(i)
		name := tagName(f)
		if name == "-" {
			continue
		}
		fv := rv.Field(i)
		if f.Anonymous && name == "" && f.IsExported() && structOf(f.Type) != nil && !scalar(f.Type) {
			if len(node.kids) > 0 {
				bindStruct(allocStruct(fv), node, prefix, fe, depth+1)
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		key, kid := node.child(name, f.Name)
		if kid == nil {
			continue
		}
		if structOf(f.Type) != nil && !scalar(f.Type) {
			if len(kid.kids) > 0 {
				bindStruct(allocStruct(fv), kid, prefix+key+".", fe, depth+1)
			}
			continue
		}
		if !kid.has {
			continue
		}
		if msg := setField(fv, kid.value); msg != "" {
			fe.Add(prefix+key, msg)
		}
	}
}

// tagName is the name a field's tags give it: form, else json.
func tagName(f reflect.StructField) string {
	for _, tag := range []string{"form", "json"} {
		if v, ok := f.Tag.Lookup(tag); ok {
			if name, _, _ := strings.Cut(v, ","); name != "" {
				return name
			}
		}
	}
	return ""
}

// structOf returns t, or what t points to, if that is a struct.
func structOf(t reflect.Type) reflect.Type {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() == reflect.Struct {
		return t
	}
	return nil
}

// allocStruct returns the struct v holds or points to, allocating it
// when v is a nil pointer.
func allocStruct(v reflect.Value) reflect.Value {
	if v.Kind() != reflect.Pointer {
		return v
	}
	if v.IsNil() {
		v.Set(reflect.New(v.Type().Elem()))
	}
	return v.Elem()
}

var (
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	timeType        = reflect.TypeFor[time.Time]()
)

// scalar reports whether a value of type t (or what it points to) takes
// one form value as a whole: a time, or a TextUnmarshaler.
func scalar(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t == timeType || reflect.PointerTo(t).Implements(textUnmarshaler)
}

// setField sets f from v and returns "" or, when v does not fit, the
// message the user sees.
func setField(f reflect.Value, v any) string {
	if v == nil || !f.CanSet() {
		return ""
	}
	if rv := reflect.ValueOf(v); rv.Type().AssignableTo(f.Type()) {
		f.Set(rv)
		return ""
	}
	if f.Kind() == reflect.Slice && !scalar(f.Type()) {
		var items []any
		switch v := v.(type) {
		case []string:
			for _, s := range v {
				items = append(items, s)
			}
		case []any:
			items = v
		default:
			items = []any{v}
		}
		s := reflect.MakeSlice(f.Type(), len(items), len(items))
		for i, it := range items {
			if msg := setField(s.Index(i), it); msg != "" {
				return msg
			}
		}
		f.Set(s)
		return ""
	}
	text, isText := first(v).(string)
	if isText && strings.TrimSpace(text) == "" && f.Kind() != reflect.String {
		f.SetZero() // a blank input: no value
		return ""
	}
	if f.Kind() == reflect.Pointer {
		p := reflect.New(f.Type().Elem())
		if msg := setField(p.Elem(), v); msg != "" {
			return msg
		}
		f.Set(p)
		return ""
	}
	if f.Type() == timeType {
		t, err := parseTime(fmt.Sprint(first(v)))
		if err != nil {
			return "Must be a date and time"
		}
		f.Set(reflect.ValueOf(t))
		return ""
	}
	if u, ok := f.Addr().Interface().(encoding.TextUnmarshaler); ok {
		if err := u.UnmarshalText([]byte(fmt.Sprint(first(v)))); err != nil {
			return textMessage(f.Type())
		}
		return ""
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(fmt.Sprint(first(v)))
	case reflect.Bool:
		b, err := toBool(v)
		if err != nil {
			return "Must be yes or no"
		}
		f.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(strings.TrimSpace(fmt.Sprint(first(v))), 10, f.Type().Bits())
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			fl, ferr := toFloat(v)
			if ferr != nil || fl != float64(int64(fl)) {
				return "Must be a whole number"
			}
			n, err = int64(fl), nil
			if f.OverflowInt(n) {
				err = strconv.ErrRange
			}
		}
		if err != nil {
			return "Must be a smaller number"
		}
		f.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(strings.TrimSpace(fmt.Sprint(first(v))), 10, f.Type().Bits())
		switch {
		case errors.Is(err, strconv.ErrRange):
			return "Must be a smaller number"
		case err != nil:
			return "Must be a whole number, 0 or more"
		}
		f.SetUint(n)
	case reflect.Float32, reflect.Float64:
		fl, err := toFloat(v)
		if err != nil {
			return "Must be a number"
		}
		f.SetFloat(fl)
	default:
		return "Cannot be set from this form"
	}
	return ""
}

// parseTime parses RFC 3339, then what time inputs send.
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	var err error
	for _, layout := range [...]string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02", "2006-01", "15:04:05", "15:04"} {
		var t time.Time
		if t, err = time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, err
}

// textMessage is the message for a value a TextUnmarshaler refused.
func textMessage(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[netip.Addr]():
		return "Must be an IP address"
	case reflect.TypeFor[netip.Prefix]():
		return "Must be a network prefix, such as 192.0.2.0/24"
	case reflect.TypeFor[netip.AddrPort]():
		return "Must be an IP address and port"
	}
	if strings.Contains(strings.ToLower(t.Name()), "uuid") {
		return "Must be a UUID"
	}
	return "Is not in the expected format"
}
