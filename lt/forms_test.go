package lt_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
)

// signup is the state of the forms tests' page.
type signup struct {
	Email string
	Name  string
	Saved int
}

type formCtrl struct{}

// validate binds the form into s and checks it.
func validate(s *signup, ctx *lt.Context) error {
	fe := lt.FieldErrors{}
	if err := fe.Merge(ctx.Bind(s)); err != nil {
		return err
	}
	if !strings.Contains(s.Email, "@") {
		fe.Add("email", "Enter an email address")
	}
	if s.Name == "" {
		fe.Add("name", "Enter your name")
	}
	return fe.Err()
}

func (*formCtrl) Check(s signup, ctx *lt.Context) (signup, error) {
	err := validate(&s, ctx)
	return s, err
}

func (*formCtrl) Save(s signup, ctx *lt.Context) (signup, error) {
	if err := validate(&s, ctx); err != nil {
		return s, err
	}
	s.Saved++
	return s, nil
}

// Broken returns field errors wrapped with an internal error: the fields
// still show, the internal text never does.
func (*formCtrl) Broken(s signup, ctx *lt.Context) (signup, error) {
	return s, errors.Join(errors.New("db at 10.0.0.5 refused"), lt.FieldErrors{"email": "Try again"})
}

func (*formCtrl) Leak(s signup, ctx *lt.Context) (signup, error) {
	return s, errors.New("db at 10.0.0.5 refused")
}

const formHTML = `<!DOCTYPE html><html><head><title>f</title></head><body><form method="post">` +
	`<input name="email" value="{{.Email}}" aria-invalid="{{ltInvalid "email"}}">` +
	`{{with ltFieldError "email"}}<span id="email-error">{{.}}</span>{{end}}` +
	`<input name="name" value="{{.Name}}" aria-invalid="{{ltInvalid "name"}}">` +
	`{{with ltFieldError "name"}}<span id="name-error">{{.}}</span>{{end}}` +
	`{{if ltInvalid "name"}}<p id="name-flag">check the name</p>{{end}}` +
	`<p id="saved">saved={{.Saved}}</p><p id="err">err={{ltError}}</p>` +
	`<button name="save">Save</button></form></body></html>`

func newFormServer(t *testing.T, ctrl any, text string, st any) string {
	t.Helper()
	h, err := lt.New(lt.Must(lt.Parse("form", text)), ctrl, st)
	if err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	r.Handle("/form", h)
	srv := httptest.NewServer(r)
	t.Cleanup(func() {
		srv.Close()
		h.Close()
	})
	return srv.URL + "/form"
}

// fieldEvent is what the client posts for an event of field target, the
// user having used the fields in used.
func fieldEvent(target string, used []string, fields url.Values) url.Values {
	f := url.Values{"_lt_target": {target}, "_lt_used": used}
	for k, v := range fields {
		f[k] = v
	}
	return f
}

func TestFieldErrorsShowOnlyForUsedFields(t *testing.T) {
	u := newFormServer(t, &formCtrl{}, formHTML, signup{})
	for _, tc := range []struct {
		name      string
		fields    url.Values
		want, not []string
	}{
		{
			name:   "typing in email",
			fields: fieldEvent("email", []string{"email"}, url.Values{"email": {"ann"}, "name": {""}}),
			want:   []string{`<span id="email-error">Enter an email address</span>`, `name="email" value="ann" aria-invalid="true"`, `name="name" value="" aria-invalid="false"`},
			not:    []string{"name-error", "name-flag"},
		},
		{
			name:   "the target alone counts as used",
			fields: fieldEvent("Name", nil, url.Values{"email": {"ann"}, "name": {""}}),
			want:   []string{`<span id="name-error">Enter your name</span>`, "name-flag"},
			not:    []string{"email-error"},
		},
		{
			name:   "then in name",
			fields: fieldEvent("name", []string{"email", "name"}, url.Values{"email": {"ann"}, "name": {""}}),
			want:   []string{"email-error", `<span id="name-error">Enter your name</span>`, "name-flag"},
		},
		{
			name:   "fixed email",
			fields: fieldEvent("email", []string{"email", "name"}, url.Values{"email": {"ann@example.com"}, "name": {""}}),
			want:   []string{"name-error", `value="ann@example.com" aria-invalid="false"`},
			not:    []string{"email-error"},
		},
		{
			name:   "a submit shows every field's error",
			fields: url.Values{"email": {""}, "name": {""}},
			want:   []string{"email-error", "name-error"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			is := is.New(t)
			tab := lttest.Open(t, u)
			r := tab.Act("check", tc.fields)
			is.Equal(r.Status, http.StatusUnprocessableEntity)
			is.True(!strings.Contains(r.Body, `"error"`)) // {{ltError}} stays empty: the fields carry the errors
			for _, w := range tc.want {
				if !strings.Contains(tab.HTML(), w) {
					t.Errorf("the page lacks %q:\n%s", w, tab.HTML())
				}
			}
			for _, n := range tc.not {
				if strings.Contains(tab.HTML(), n) {
					t.Errorf("the page shows %q:\n%s", n, tab.HTML())
				}
			}
			is.True(strings.Contains(tab.HTML(), "err=</p>"))
		})
	}
}

func TestFieldErrorsKeepEnteredValuesForTheTabOnly(t *testing.T) {
	is := is.New(t)
	u := newFormServer(t, &formCtrl{}, formHTML, signup{})
	tab := lttest.Open(t, u)
	r := tab.Act("save", url.Values{"email": {"ann"}, "name": {"Ann"}})
	is.Equal(r.Status, http.StatusUnprocessableEntity)
	is.True(strings.Contains(tab.HTML(), `value="ann"`)) // what the user typed stays
	is.True(strings.Contains(tab.HTML(), `value="Ann"`))

	// A reload, and every other tab, shows the last saved state, without
	// errors.
	other := lttest.Get(t, u, lttest.WithJar(tab.Jar()))
	is.True(!strings.Contains(other.HTML(), "ann"))
	is.True(!strings.Contains(other.HTML(), "-error"))

	// The tab goes on from the state it shows: a later action sees it.
	r = tab.Act("check", fieldEvent("email", []string{"email"}, url.Values{"email": {"ann@example.com"}}))
	is.Equal(r.Status, http.StatusOK)
	is.True(strings.Contains(tab.HTML(), `value="Ann"`))

	r = tab.Act("save", url.Values{"email": {"ann@example.com"}, "name": {"Ann"}})
	is.Equal(r.Status, http.StatusOK)
	is.True(strings.Contains(tab.HTML(), "saved=1"))
	other = lttest.Get(t, u, lttest.WithJar(tab.Jar()))
	is.True(strings.Contains(other.HTML(), `value="ann@example.com"`))
}

func TestFieldErrorsWithInternalErrors(t *testing.T) {
	is := is.New(t)
	u := newFormServer(t, &formCtrl{}, formHTML, signup{})
	tab := lttest.Open(t, u)
	r := tab.Act("broken", nil)
	is.Equal(r.Status, http.StatusUnprocessableEntity)
	is.True(strings.Contains(tab.HTML(), `<span id="email-error">Try again</span>`))
	is.True(!strings.Contains(r.Body, "10.0.0.5"))
	r = tab.Act("leak", nil)
	is.Equal(r.Status, http.StatusUnprocessableEntity)
	is.True(!strings.Contains(r.Body, "10.0.0.5"))
	is.True(strings.Contains(tab.HTML(), "err=Something went wrong"))
	is.True(!strings.Contains(tab.HTML(), "email-error")) // the next render of the tab has its own errors
}

// Without JavaScript, a form with errors comes back as a 422 page showing
// every field's error next to the values the user entered.
func TestFieldErrorsPlainForm(t *testing.T) {
	is := is.New(t)
	u := newFormServer(t, &formCtrl{}, formHTML, signup{})
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(form url.Values) (int, string) {
		resp, err := client.PostForm(u, form)
		is.NoErr(err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, page := post(url.Values{"email": {"ann"}, "name": {""}, "save": {""}})
	is.Equal(status, http.StatusUnprocessableEntity)
	for _, w := range []string{`name="email" value="ann" aria-invalid="true"`, `<span id="email-error">Enter an email address</span>`, `<span id="name-error">Enter your name</span>`} {
		if !strings.Contains(page, w) {
			t.Errorf("the 422 page lacks %q:\n%s", w, page)
		}
	}
	status, _ = post(url.Values{"email": {"ann@example.com"}, "name": {"Ann"}, "save": {""}})
	is.Equal(status, http.StatusSeeOther)
	resp, err := client.Get(u)
	is.NoErr(err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	is.True(strings.Contains(string(b), "saved=1"))
	is.True(!strings.Contains(string(b), "-error"))
}

func TestFieldErrorsType(t *testing.T) {
	is := is.New(t)
	var fe lt.FieldErrors
	is.NoErr(fe.Err()) // an empty FieldErrors is no error
	fe.Add("email", "first")
	fe.Add("email", "second")
	fe.Add("age", "Must be a number")
	is.Equal(fe["email"], "first") // the first problem found is shown
	is.Equal(fe.Err().Error(), "invalid fields: age: Must be a number; email: first")

	is.NoErr(fe.Merge(nil))
	is.NoErr(fe.Merge(fmt.Errorf("binding: %w", lt.FieldErrors{"name": "Enter your name", "email": "third"})))
	is.Equal(fe, lt.FieldErrors{"email": "first", "age": "Must be a number", "name": "Enter your name"})
	internal := errors.New("db down")
	is.Equal(fe.Merge(internal), internal) // not a field error: returned for the caller
}
