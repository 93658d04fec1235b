package lt

import (
	"errors"
	"html/template"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// view is what a tab's render shows besides its state: the error of its
// last action ({{ltError}}) and the field errors it showed. A tab's view
// lasts one render: the next render of that tab has a view of its own.
type view struct {
	err    string      // {{ltError}}
	fields FieldErrors // {{ltFieldError}}, {{ltInvalid}}: the used fields' errors
}

// errView is the view of an error message alone.
func errView(msg string) view { return view{err: msg} }

// fieldsKey is v's field errors as a comparable value, for sharing a
// render among the connections of a batch: equal keys render alike.
func (v view) fieldsKey() string {
	if len(v.fields) == 0 {
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
	return b.String()
}

// outcome is what one method call showed its tab besides the state.
type outcome struct {
	fields FieldErrors // the field errors of used fields
}

// outcome takes what the call that returned err gathered on c, leaving c
// ready for the next call.
func (c *Context) outcome(err error) outcome {
	var o outcome
	var fe FieldErrors
	if err != nil && errors.As(err, &fe) {
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
func (o outcome) view(errMsg string) view { return view{err: errMsg, fields: o.fields} }

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
	}
}
