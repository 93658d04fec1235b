package lt

import (
	"html/template"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// view is what a tab's render shows besides its state: the error of its
// last action ({{ltError}}), the field errors and flashes it showed, and
// the events it pushed, which are not rendered but ride on its update. A
// tab's view lasts one render: the next render of that tab has a view of
// its own.
type view struct {
	err    string      // {{ltError}}
	fields FieldErrors // {{ltFieldError}}, {{ltInvalid}}: the used fields' errors
	flash  []Flash     // {{ltFlash}}
	events []byte      // the update's "e": a JSON array of [name, detail]; nil for none
	url    []byte      // the update's "u": the URL the tab moves to (navigate.go); nil for none
	lists  []byte      // the update's "L": list operations (list.go); nil for none
	// listHTML is what {{ltList}} shows: the items Mount and Params put
	// in lists, in the page they render (list.go); nil in other renders,
	// which no batch shares.
	listHTML map[string]template.HTML
}

// errView is the view of an error message alone.
func errView(msg string) view { return view{err: msg} }

// extrasKey is what v renders besides its error (field errors and
// flashes) as a comparable value, for sharing a render among the
// connections of a batch: equal keys render alike.
func (v view) extrasKey() string {
	if len(v.fields) == 0 && len(v.flash) == 0 {
		return ""
	}
	// Each part with its length: no text can pass for another split.
	var b strings.Builder
	part := func(s string) {
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteByte(':')
		b.WriteString(s)
	}
	for _, k := range slices.Sorted(maps.Keys(v.fields)) {
		part(k)
		part(v.fields[k])
	}
	b.WriteByte('|') // after the fields, the flashes
	for _, f := range v.flash {
		part(f.Kind)
		part(f.Message)
	}
	return b.String()
}

// outcome is what one method call showed its tab besides the state.
type outcome struct {
	fields FieldErrors // the field errors of used fields
	flash  []Flash
	events []byte // a JSON array, nil for none
	nav    navigation
	lists  *listCall // List operations (list.go)
}

// outcome takes what the call that returned err gathered on c, leaving c
// ready for the next call.
func (c *Context) outcome(err error) outcome {
	o := outcome{flash: c.flash, lists: c.lists}
	c.lists = nil
	if len(c.events) > 0 {
		o.events = append(c.events, ']') // c.events is ",[n,d],[n,d]"
		o.events[0] = '['
	}
	if err == nil {
		o.nav = c.nav // the URL it moved to (PushURL), unless it failed
	}
	c.flash, c.events, c.nav = nil, nil, navigation{}
	if fe, ok := fieldErrors(err); ok {
		o.fields = make(FieldErrors, len(fe))
		for k, m := range fe {
			if c.Used(k) {
				o.fields[k] = m
			}
		}
	}
	return o
}

// view is the view of a call's outcome with errMsg as {{ltError}}.
func (o outcome) view(errMsg string) view {
	return view{err: errMsg, fields: o.fields, flash: o.flash, events: o.events, url: o.nav.json(), lists: o.lists.json()}
}

// carry makes u, the update of a render with view v, carry v's events
// and the URL it moves the tab to: when the page did not change, an
// update that changes nothing (an empty diff, or the same HTML) takes a
// sequence number for them, since the client applies, and so dispatches,
// only updates that are new. c.mu is held.
func (v view) carry(c *conn, u update, changed bool) (update, bool) {
	if len(v.events) == 0 && v.url == nil && v.lists == nil {
		return u, changed
	}
	if !changed {
		if c.tree != nil {
			u = update{kind: 'd', body: []byte("{}")}
		} else {
			u = update{kind: 'h', body: c.fallback}
		}
	}
	u.events, u.url, u.lists = v.events, v.url, v.lists
	return u, true
}

// viewFuncs are the template functions that show a view, reading it from
// *v when a render calls them.
func viewFuncs(v *view) template.FuncMap {
	return template.FuncMap{
		"ltError": func() string { return v.err },
		"ltFieldError": func(field string) string {
			m, _ := v.fields.lookup(field)
			return m
		},
		"ltInvalid": func(field string) bool {
			_, ok := v.fields.lookup(field)
			return ok
		},
		"ltFlash": func() []Flash { return v.flash },
		"ltList":  func(id string) template.HTML { return v.listHTML[id] },
	}
}
