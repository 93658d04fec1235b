package lt

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/matryer/is"
)

func TestContextTargetAndUsed(t *testing.T) {
	post := func(form url.Values) *http.Request { return &http.Request{Method: http.MethodPost, PostForm: form} }
	for _, tc := range []struct {
		name    string
		ctx     Context
		target  string
		used    []string
		notUsed []string
	}{
		{name: "a submit: every field is used", ctx: Context{client: true, req: post(url.Values{"email": {"x"}})}, used: []string{"email", "name"}},
		{name: "a server action: every field is used", ctx: Context{}, used: []string{"email"}},
		{
			name:    "a field event",
			ctx:     Context{client: true, req: post(url.Values{fieldTarget: {"email"}, fieldUsed: {"name", "first_name"}})},
			target:  "email",
			used:    []string{"email", "Email", "name", "FirstName", "first-name"},
			notUsed: []string{"age", "address.city"},
		},
		{
			name:    "nested names",
			ctx:     Context{client: true, req: post(url.Values{fieldTarget: {"address.city"}})},
			target:  "address.city",
			used:    []string{"Address.City"},
			notUsed: []string{"city", "address"},
		},
		{
			name:   "a forwarded request's form is not trusted without client",
			ctx:    Context{req: post(url.Values{fieldTarget: {"email"}})},
			target: "", used: []string{"name"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			is := is.New(t)
			is.Equal(tc.ctx.Target(), tc.target)
			for _, n := range tc.used {
				is.True(tc.ctx.Used(n))
			}
			for _, n := range tc.notUsed {
				is.True(!tc.ctx.Used(n))
			}
		})
	}
}

// A batch shares a render between views that show the same, and only
// between those.
func TestViewKey(t *testing.T) {
	is := is.New(t)
	a := view{err: "x", fields: FieldErrors{"a": "1", "b": "2"}}
	b := view{err: "x", fields: FieldErrors{"b": "2", "a": "1"}}
	is.Equal(a.extrasKey(), b.extrasKey())
	for _, other := range []FieldErrors{nil, {"a": "1"}, {"a": "1", "b": "3"}, {"a": "1", "b": "2", "c": ""}, {"a": "11:b1:2"}} {
		is.True(a.extrasKey() != (view{fields: other}).extrasKey())
	}
	f := view{flash: []Flash{{"ok", "saved"}}}
	is.Equal(f.extrasKey(), (view{flash: []Flash{{"ok", "saved"}}, events: []byte(`[["x",1]]`)}).extrasKey()) // events are not rendered
	for _, other := range []view{{}, {flash: []Flash{{"ok", "saved"}, {"ok", "saved"}}}, {flash: []Flash{{"oks", "aved"}}}, {fields: FieldErrors{"ok": "saved"}}} {
		is.True(f.extrasKey() != other.extrasKey())
	}
}
