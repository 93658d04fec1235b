// Package ltvalidator turns the errors of github.com/go-playground/validator
// into lt.FieldErrors, with messages in English, keyed by the names of the
// form's fields, so that a live page shows each next to its field:
//
//	var validate = ltvalidator.New() // once; it is safe for concurrent use
//
//	func (p *Page) Save(s State, ctx *lt.Context) (State, error) {
//		fe := lt.FieldErrors{}
//		if err := fe.Merge(ctx.Bind(&s.Form)); err != nil {
//			return s, err
//		}
//		if err := fe.Merge(ltvalidator.Errors(validate.Struct(s.Form))); err != nil {
//			return s, err // not a validation error: the program's own
//		}
//		return s, fe.Err()
//	}
//
// Package lt does not depend on validator; this package is the bridge.
package ltvalidator

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/go-playground/validator/v10"
	"github.com/livesse/livesse/lt"
)

// New returns a validator that names fields as lt.Context.Bind reads them
// (FieldName), so that Errors keys its messages by the form's own field
// names: pass its options as to validator.New. Prefer it to a validator of
// your own, or give yours FieldName with RegisterTagNameFunc.
func New(opts ...validator.Option) *validator.Validate {
	v := validator.New(opts...)
	v.RegisterTagNameFunc(FieldName)
	return v
}

// FieldName is the name of a struct field in a form, as lt.Context.Bind
// reads it: its form tag name, else its json tag name, else its Go name
// (which lt matches loosely: "first_name" finds FirstName). A field that
// Bind skips (tag name "-") keeps its Go name: validator still checks it.
func FieldName(f reflect.StructField) string {
	for _, tag := range []string{"form", "json"} {
		if v, ok := f.Tag.Lookup(tag); ok {
			if name, _, _ := strings.Cut(v, ","); name != "" {
				if name == "-" {
					return f.Name
				}
				return name
			}
		}
	}
	return f.Name
}

// Errors converts what a validator returned: nil stays nil, a
// validator.ValidationErrors (anywhere in err's chain) becomes the
// lt.FieldErrors of its fields, and any other error (an
// *validator.InvalidValidationError: the program passed something that is
// not a struct) is returned as it is, for lt to treat as internal.
//
// A field's key is its namespace without the struct's own name:
// "email", "address.zip" for a nested struct, "tags[0]" for an item. With
// a validator from New the parts are the form's names; with another, the
// names its tag name function gives (Go field names without one). When a
// field fails several rules, the first one's message is kept.
func Errors(err error) error {
	var ves validator.ValidationErrors
	if err == nil || !errors.As(err, &ves) {
		return err
	}
	fe := lt.FieldErrors{}
	for _, e := range ves {
		fe.Add(Key(e), Message(e))
	}
	return fe.Err()
}

// Key is the form key of a field error: its namespace without the name of
// the struct that was validated.
func Key(e validator.FieldError) string {
	ns := e.Namespace()
	if _, rest, ok := strings.Cut(ns, "."); ok {
		return rest
	}
	return e.Field()
}

// Message is the English message for a field error, written to stand
// next to the field ("Must be at least 8 characters long"). Rules without
// a message of their own get "Is not valid".
func Message(e validator.FieldError) string {
	p := e.Param()
	kind := e.Kind()
	if kind == reflect.Pointer {
		kind = e.Type().Elem().Kind()
	}
	var what string // how the value is measured: length, number or count
	switch kind {
	case reflect.String:
		what = "chars"
	case reflect.Slice, reflect.Array, reflect.Map:
		what = "items"
	default:
		what = "number"
	}
	measured := func(chars, items, number string) string {
		switch what {
		case "chars":
			return fmt.Sprintf(chars, p, plural(p, "character"))
		case "items":
			return fmt.Sprintf(items, p, plural(p, "item"))
		}
		return fmt.Sprintf(number, p)
	}
	switch e.Tag() {
	case "required", "required_if", "required_unless", "required_with", "required_with_all",
		"required_without", "required_without_all":
		return "This field is required"
	case "email":
		return "Must be a valid email address"
	case "url", "http_url", "https_url":
		return "Must be a valid URL"
	case "uri":
		return "Must be a valid URI"
	case "min":
		return measured("Must be at least %s %s long", "Must have at least %s %s", "Must be %s or more")
	case "max":
		return measured("Must be at most %s %s long", "Must have at most %s %s", "Must be %s or less")
	case "len":
		return measured("Must be exactly %s %s long", "Must have exactly %s %s", "Must be %s")
	case "gte":
		if p == "" {
			return "Must not be in the past"
		}
		return measured("Must be at least %s %s long", "Must have at least %s %s", "Must be %s or more")
	case "lte":
		if p == "" {
			return "Must not be in the future"
		}
		return measured("Must be at most %s %s long", "Must have at most %s %s", "Must be %s or less")
	case "gt":
		if p == "" {
			return "Must be in the future"
		}
		return measured("Must be longer than %s %s", "Must have more than %s %s", "Must be greater than %s")
	case "lt":
		if p == "" {
			return "Must be in the past"
		}
		return measured("Must be shorter than %s %s", "Must have fewer than %s %s", "Must be less than %s")
	case "eq":
		return fmt.Sprintf("Must be %s", p)
	case "ne":
		return fmt.Sprintf("Must not be %s", p)
	case "oneof":
		return "Must be one of: " + strings.Join(strings.Fields(p), ", ")
	case "eqfield", "eqcsfield":
		return "Must match " + fieldWord(p)
	case "nefield", "necsfield":
		return "Must differ from " + fieldWord(p)
	case "alpha", "alphaunicode":
		return "Must contain only letters"
	case "alphanum", "alphanumunicode":
		return "Must contain only letters and digits"
	case "numeric", "number":
		return "Must be a number"
	case "boolean":
		return "Must be true or false"
	case "lowercase":
		return "Must be in lower case"
	case "uppercase":
		return "Must be in upper case"
	case "ascii", "printascii":
		return "Must contain only plain ASCII characters"
	case "contains":
		return fmt.Sprintf("Must contain %q", p)
	case "excludes":
		return fmt.Sprintf("Must not contain %q", p)
	case "startswith":
		return fmt.Sprintf("Must start with %q", p)
	case "endswith":
		return fmt.Sprintf("Must end with %q", p)
	case "uuid", "uuid3", "uuid4", "uuid5", "uuid_rfc4122", "uuid3_rfc4122", "uuid4_rfc4122", "uuid5_rfc4122":
		return "Must be a UUID"
	case "ip", "ip_addr":
		return "Must be an IP address"
	case "ipv4", "ip4_addr":
		return "Must be an IPv4 address"
	case "ipv6", "ip6_addr":
		return "Must be an IPv6 address"
	case "cidr", "cidrv4", "cidrv6":
		return "Must be a network in CIDR notation, such as 192.0.2.0/24"
	case "hostname", "hostname_rfc1123", "fqdn":
		return "Must be a host name"
	case "e164":
		return "Must be a phone number in international format, such as +14155552671"
	case "datetime":
		return "Must be a date and time like " + p
	case "json":
		return "Must be valid JSON"
	case "unique":
		return "Must not repeat a value"
	}
	return "Is not valid"
}

// plural is noun for the count n (a rule's parameter).
func plural(n, noun string) string {
	if n == "1" {
		return noun
	}
	return noun + "s"
}

// fieldWord names another field of the form in a message: "Password"
// reads "password", "address.Zip" reads "zip".
func fieldWord(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	return strings.ToLower(name)
}
