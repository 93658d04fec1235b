package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newApp(t *testing.T) (string, *Members) {
	t.Helper()
	members := NewMembers("admin", "root")
	r, h, err := newRouter(members)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r)
	t.Cleanup(func() {
		srv.Close()
		h.Close()
	})
	return srv.URL + "/", members
}

// browser is a browser with JavaScript off: it posts the form and does
// not follow redirects, so that the tests see them.
type browser struct {
	t      *testing.T
	url    string
	client *http.Client
}

func newBrowser(t *testing.T, u string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, url: u, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(req *http.Request) (int, string, http.Header) {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

func (b *browser) get() (int, string) {
	req, _ := http.NewRequest(http.MethodGet, b.url, nil)
	status, body, _ := b.do(req)
	return status, body
}

// submit posts the form as a browser does, with the button's name.
func (b *browser) submit(username, email, password string) (int, string, http.Header) {
	form := url.Values{"username": {username}, "email": {email}, "password": {password}, "sign_up": {""}}
	req, _ := http.NewRequest(http.MethodPost, b.url, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func contains(t *testing.T, page string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(page, w) {
			t.Errorf("the page lacks %q:\n%s", w, page)
		}
	}
}

func lacks(t *testing.T, page string, not ...string) {
	t.Helper()
	for _, n := range not {
		if strings.Contains(page, n) {
			t.Errorf("the page shows %q:\n%s", n, page)
		}
	}
}

// Without JavaScript, a form with errors comes back as a 422 page with
// every error next to its field and every value the user typed.
func TestPlainFormShowsErrorsAndKeepsValues(t *testing.T) {
	u, _ := newApp(t)
	for _, tc := range []struct {
		name                      string
		username, email, password string
		want                      []string
		not                       []string
	}{
		{
			name: "everything wrong", username: "a!", email: "ann-at-example", password: "short",
			want: []string{
				`name="username" value="a!"`, `name="email" type="email" value="ann-at-example"`, `value="short"`,
				`<span class="error" id="username-error">Must be at least 3 characters long</span>`,
				`<span class="error" id="email-error">Must be a valid email address</span>`,
				`<span class="error" id="password-error">Must be at least 8 characters long</span>`,
			},
		},
		{
			name: "username taken", username: "Admin", email: "ann@example.com", password: "long enough",
			want: []string{`<span class="error" id="username-error">This username is taken</span>`, `value="Admin" autocomplete="username"` + "\n      " + `aria-invalid="true"`, `value="ann@example.com"`},
			not:  []string{`aria-invalid="true" aria-describedby="email-error"`},
		},
		{
			name: "empty", want: []string{`<span class="error" id="username-error">This field is required</span>`, `<span class="error" id="email-error">This field is required</span>`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			is := is.New(t)
			b := newBrowser(t, u)
			status, page, _ := b.submit(tc.username, tc.email, tc.password)
			is.Equal(status, http.StatusUnprocessableEntity)
			contains(t, page, tc.want...)
			lacks(t, page, tc.not...)
			lacks(t, page, `class="flash-`)
			// A reload shows neither the errors nor the input.
			_, page = b.get()
			lacks(t, page, "Must be", "is taken", `aria-invalid="true" aria-describedby`)
		})
	}
}

// Without JavaScript, a sign-up redirects to the page, which shows the
// flash once; the name is then taken.
func TestPlainFormSignsUpWithFlash(t *testing.T) {
	is := is.New(t)
	u, members := newApp(t)
	b := newBrowser(t, u)
	_, page := b.get()
	contains(t, page, "2 members")

	status, _, hd := b.submit("ann", "ann@example.com", "long enough")
	is.Equal(status, http.StatusSeeOther)
	is.Equal(hd.Get("Location"), "/")
	is.True(members.Taken("ANN"))

	_, page = b.get()
	contains(t, page, `<p class="flash-success" role="status">Welcome, ann! Your account is ready.</p>`, "3 members", `name="username" value=""`)
	_, page = b.get()
	lacks(t, page, "Welcome") // shown once

	status, page, _ = newBrowser(t, u).submit("ann", "other@example.com", "long enough")
	is.Equal(status, http.StatusUnprocessableEntity)
	contains(t, page, "This username is taken")
}

// eventsOf is the "e" field of an update's JSON.
func eventsOf(t *testing.T, raw []byte) string {
	t.Helper()
	var m struct{ E json.RawMessage }
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("update is not JSON: %v: %s", err, raw)
	}
	return string(m.E)
}

// typing is what the client posts for an input event of target, the user
// having used the fields in used.
func typing(target string, used []string, username, email, password string) url.Values {
	return url.Values{"_lt_target": {target}, "_lt_used": used, "username": {username}, "email": {email}, "password": {password}}
}

// With JavaScript, the form is validated as the user types: only the
// fields the user has used show their errors; the username is checked
// against the members once used; a submit shows everything; a sign-up
// flashes on that tab only and dispatches the "signed-up" event there.
func TestLiveValidationAsYouType(t *testing.T) {
	is := is.New(t)
	u, _ := newApp(t)
	tab := lttest.Open(t, u)
	other := lttest.Open(t, u, lttest.WithJar(tab.Jar()))

	steps := []struct {
		name   string
		action string
		fields url.Values
		status int
		want   []string
		not    []string
	}{
		{
			name: "typing a taken username", action: "validate", status: 422,
			fields: typing("username", []string{"username"}, "root", "", ""),
			want:   []string{`<span class="error" id="username-error">This username is taken</span>`},
			not:    []string{"email-error\">This", "password-error\">Must"},
		},
		{
			name: "a free one", action: "validate", status: 422, // the other fields still fail, unseen
			fields: typing("username", []string{"username"}, "ann", "", ""),
			want:   []string{`<span class="error" id="username-error"></span>`, `<span class="error" id="email-error"></span>`},
		},
		{
			name: "then the email, badly", action: "validate", status: 422,
			fields: typing("email", []string{"username", "email"}, "ann", "ann@", ""),
			want:   []string{`<span class="error" id="email-error">Must be a valid email address</span>`, `<span class="error" id="password-error"></span>`},
		},
		{
			name: "a submit shows the rest", action: "sign_up", status: 422,
			fields: url.Values{"username": {"ann"}, "email": {"ann@example.com"}, "password": {""}},
			want:   []string{`<span class="error" id="password-error">This field is required</span>`, `<span class="error" id="email-error"></span>`},
		},
		{
			name: "signed up", action: "sign_up", status: 200,
			fields: url.Values{"username": {"ann"}, "email": {"ann@example.com"}, "password": {"long enough"}},
			want:   []string{`<p class="flash-success" role="status">Welcome, ann! Your account is ready.</p>`, "3 members", `name="username" value=""`},
		},
		{
			name: "the flash is shown once", action: "validate", status: 422,
			fields: typing("username", []string{"username"}, "ann", "", ""),
			want:   []string{"This username is taken"},
			not:    []string{"Welcome"},
		},
	}
	for _, st := range steps {
		r := tab.Act(st.action, st.fields)
		if r.Status != st.status {
			t.Fatalf("%s: status %d, want %d: %s", st.name, r.Status, st.status, r.Body)
		}
		contains(t, tab.HTML(), st.want...)
		lacks(t, tab.HTML(), st.not...)
		if st.name == "signed up" {
			is.Equal(eventsOf(t, r.Raw()), `[["signed-up",{"username":"ann"}]]`)
		}
	}
	lacks(t, other.HTML(), "Welcome")
}
