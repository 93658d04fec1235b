package lt

import (
	"errors"
	"slices"
	"strings"
)

// FieldErrors maps form field names to messages for the user: what an
// action returns when some fields of a form hold input it cannot accept.
//
//	fe := lt.FieldErrors{}
//	if !strings.Contains(s.Email, "@") {
//		fe.Add("email", "Enter an email address")
//	}
//	return s, fe.Err()
//
// The template shows each message next to its field with
// {{ltFieldError "email"}} and marks the field with
// aria-invalid="{{ltInvalid "email"}}". A field's message is shown only
// once the user has used that field (Context.Used): while a form is filled
// in, an action sent by one field's event shows the errors of the fields
// the user has interacted with, and a submit shows them all. Like
// {{ltError}}, field errors belong to the tab that acted and to its next
// render only: they are never saved with the state, so a reload does not
// show them. {{ltError}} stays empty for field errors (the fields carry
// them); the POST answers 422, with JavaScript or without.
//
// An action that returns field errors keeps the state it returned, on its
// tab only: unlike after any other error, that state is rendered (so the
// form shows what the user entered, also in the 422 page a form without
// JavaScript gets) and is the tab's state for its next action, but it is
// not saved for the session, so a reload or another tab shows the
// last state an action succeeded with. The pattern is to bind the form
// into the state and return that state with its errors:
//
//	func (p *Page) Save(s State, ctx *lt.Context) (State, error) {
//		fe := lt.FieldErrors{}
//		if err := fe.Merge(ctx.Bind(&s.Form)); err != nil {
//			return s, err
//		}
//		if s.Form.Name == "" {
//			fe.Add("name", "Enter your name")
//		}
//		return s, fe.Err() // s holds what the user typed, valid or not
//	}
//
// Field names are matched the way Bind matches them: exactly, or else
// ignoring case, '_' and '-' ("first_name" finds FirstName's message).
// Nested fields are named with dots ("address.city"). Messages are text:
// the template escapes them.
type FieldErrors map[string]string

// Error lists the fields and their messages, sorted by field, for logs.
func (fe FieldErrors) Error() string {
	keys := make([]string, 0, len(fe))
	for k := range fe {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString("invalid fields: ")
	for i, k := range keys {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(clip(k, 64))
		b.WriteString(": ")
		b.WriteString(clip(fe[k], 256))
	}
	return b.String()
}

// UserMessage is empty: field errors are shown by their fields, not by
// {{ltError}}. It makes FieldErrors an error meant for the user (see
// UserError), so lt does not treat it as internal.
func (fe FieldErrors) UserMessage() string { return "" }

// Err returns fe as an error, or nil when it holds no field: the end of
// an action that collected errors, return s, fe.Err().
func (fe FieldErrors) Err() error {
	if len(fe) == 0 {
		return nil
	}
	return fe
}

// Add records msg for field unless fe already has a message for it (the
// first problem found is the one shown). It makes the map if fe is nil.
func (fe *FieldErrors) Add(field, msg string) {
	if *fe == nil {
		*fe = FieldErrors{}
	}
	if _, ok := (*fe)[field]; !ok {
		(*fe)[field] = msg
	}
}

// Merge adds the field errors that err carries (a FieldErrors anywhere
// in its chain, as Bind and lt/ltvalidator return) to fe with Add, and
// returns nil; an err that carries none is returned as it is (nil stays
// nil), for the caller to return:
//
//	if err := fe.Merge(ctx.Bind(&s.Form)); err != nil {
//		return s, err // not a field error: internal
//	}
func (fe *FieldErrors) Merge(err error) error {
	var other FieldErrors
	if err == nil || !errors.As(err, &other) {
		return err
	}
	for k, m := range other {
		fe.Add(k, m)
	}
	return nil
}

// lookup finds field's message: by its exact name, else by the name
// compared as Bind compares names.
func (fe FieldErrors) lookup(field string) (string, bool) {
	if m, ok := fe[field]; ok {
		return m, true
	}
	n := normalize(field)
	for k, m := range fe {
		if normalize(k) == n {
			return m, true
		}
	}
	return "", false
}

// keepsState reports whether err is an action's field errors, after
// which the tab keeps the state the action returned.
func keepsState(err error) bool {
	_, ok := fieldErrors(err)
	return ok
}

// fieldErrors is the FieldErrors in err's chain, if any. It declares its
// target only once err is not nil: errors.As makes it escape, and a fan-out
// would otherwise allocate it for every connection's successful call.
func fieldErrors(err error) (FieldErrors, bool) {
	if err == nil {
		return nil, false
	}
	var fe FieldErrors
	ok := errors.As(err, &fe)
	return fe, ok
}

// Reserved form fields the JavaScript client adds to a POST sent by a
// field's event (docs/protocol.md).
const (
	fieldTarget = "_lt_target" // the field whose event sent the POST
	fieldUsed   = "_lt_used"   // once per field of the form the user has used
)

// Target is the name of the form field whose event (input, change, blur,
// a key) sent this action, as the JavaScript client reports it; "" for a
// submit (with or without JavaScript), a button, a server action or a
// lifecycle method.
func (c *Context) Target() string {
	if c.req == nil || !c.client {
		return ""
	}
	return c.req.PostForm.Get(fieldTarget)
}

// Used reports whether the user has used the form field name: typed in
// it, changed it or left it, as the JavaScript client reports with every
// action a field's event sends. For anything else (a submit, with or
// without JavaScript, a button, a server action, a lifecycle method)
// every field counts as used. Names are compared as Bind compares them.
// lt shows an action's FieldErrors only for used fields; an action can
// skip work (a database lookup) for fields the user has not reached yet.
func (c *Context) Used(name string) bool {
	t := c.Target()
	if t == "" || sameField(t, name) {
		return true
	}
	for _, u := range c.req.PostForm[fieldUsed] {
		if sameField(u, name) {
			return true
		}
	}
	return false
}

func sameField(a, b string) bool { return a == b || normalize(a) == normalize(b) }
