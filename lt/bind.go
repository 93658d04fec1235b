package lt

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// Bind copies the action's data into the struct v points to. A field takes
// the value whose key equals its json tag name, or else its name compared
// the way action names are ("first_name" fills FirstName). Strings are
// parsed for numeric and bool fields; a []string field takes every value of
// a repeated form field. Keys without a field are ignored; a value that does
// not fit its field is an error naming both.
func (c *Context) Bind(v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("lt: Bind needs a non-nil pointer to a struct, got %T", v)
	}
	rv = rv.Elem()
	keys := make(map[string]string, len(c.data)) // normalized -> key
	for k := range c.data {
		keys[normalize(k)] = k
	}
	rt := rv.Type()
	for i := 0; i < rt.NumField(); i++ {
		f := rt.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		key, ok := "", false
		if name != "" {
			_, ok = c.data[name]
			key = name
		}
		if !ok {
			key, ok = keys[normalize(f.Name)]
		}
		if !ok {
			continue
		}
		if err := setField(rv.Field(i), c.data[key]); err != nil {
			return fmt.Errorf("%w: field %s from %q: %v", ErrBadRequest, f.Name, key, err)
		}
	}
	return nil
}

func setField(f reflect.Value, v any) error {
	if v == nil {
		return nil
	}
	if rv := reflect.ValueOf(v); rv.Type().AssignableTo(f.Type()) {
		f.Set(rv)
		return nil
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(fmt.Sprint(first(v)))
	case reflect.Bool:
		b, err := toBool(v)
		if err != nil {
			return err
		}
		f.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		s := fmt.Sprint(first(v))
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, f.Type().Bits())
		if err != nil {
			fl, ferr := toFloat(v)
			if ferr != nil || fl != float64(int64(fl)) {
				return err
			}
			n = int64(fl)
		}
		f.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(strings.TrimSpace(fmt.Sprint(first(v))), 10, f.Type().Bits())
		if err != nil {
			return err
		}
		f.SetUint(n)
	case reflect.Float32, reflect.Float64:
		fl, err := toFloat(v)
		if err != nil {
			return err
		}
		f.SetFloat(fl)
	case reflect.Slice:
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
			if err := setField(s.Index(i), it); err != nil {
				return fmt.Errorf("item %d: %v", i, err)
			}
		}
		f.Set(s)
	default:
		return fmt.Errorf("cannot set a %v from %T", f.Type(), v)
	}
	return nil
}
