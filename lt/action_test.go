package lt_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
)

func TestActionErrorsAreShownToTheTab(t *testing.T) {
	is := is.New(t)
	var logs syncBuffer
	f := newFixture(t, lt.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	tab := lttest.Open(t, f.URL+"/page")
	tab.Act("increment", nil)

	r := tab.Act("fail", nil) // a UserError is meant for the user
	is.Equal(r.Status, http.StatusUnprocessableEntity)
	is.Equal(r.Error, "that did not work")
	is.True(strings.Contains(r.HTML, "err=that did not work")) // {{ltError}}
	is.True(strings.Contains(r.HTML, "n=1"))                   // the failed action's state was discarded
	is.True(!strings.Contains(logs.String(), "level=ERROR"))   // an answer, not a fault

	// Any other error is internal: the tab sees a generic message with a
	// reference, the log has the detail under that reference.
	for _, action := range []string{"leak", "explode"} {
		r = tab.Act(action, nil)
		is.Equal(r.Status, http.StatusUnprocessableEntity)
		ref := regexp.MustCompile(`^Something went wrong; please try again \(ref ([0-9a-f]{12})\)$`).FindStringSubmatch(r.Error)
		is.True(ref != nil)                               // generic, with a reference
		is.True(strings.Contains(r.HTML, "err="+r.Error)) // {{ltError}} says the same
		for _, secret := range []string{"password", "10.0.0.5", "boom", "panicked", "nil map"} {
			is.True(!strings.Contains(r.Error, secret))
			is.True(!strings.Contains(r.HTML, secret))
		}
		line := logLine(t, &logs, "ref="+ref[1])
		is.True(strings.Contains(line, "level=ERROR"))
		is.True(strings.Contains(line, "action="+action))
	}
	is.True(strings.Contains(logLine(t, &logs, "Explode panicked"), "lt_test.(*ctrl).Explode")) // with the stack
	is.True(strings.Contains(logLine(t, &logs, "password authentication failed"), "level=ERROR"))

	r = tab.Act("increment", nil) // the next success clears the error
	is.True(strings.Contains(r.HTML, "n=2"))
	is.True(strings.Contains(r.HTML, `err=</p>`))
}

// logLine returns the line of logs that contains want, failing the test
// if there is none.
func logLine(t *testing.T, logs *syncBuffer, want string) string {
	t.Helper()
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, want) {
			return l
		}
	}
	t.Fatalf("no log line contains %q:\n%s", want, logs.String())
	return ""
}

func TestBadActionRequests(t *testing.T) {
	f := newFixture(t, lt.WithMaxBodyBytes(2048), lt.WithMaxFields(20))
	tab := lttest.Open(t, f.URL+"/page")
	form := func(kv ...string) string {
		v := url.Values{"_lt_conn": {tab.Conn()}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	many := url.Values{"_lt_conn": {tab.Conn()}, "_lt_action": {"increment"}}
	for i := range 30 {
		many.Add("f", string(rune('a'+i%26)))
	}
	const formType = "application/x-www-form-urlencoded"
	for _, tc := range []struct {
		name, ctype, body string
		header            map[string]string
		status            int
		inError           string
	}{
		{"unknown action", formType, form("_lt_action", "delete_everything"), nil, 400, "unknown action"},
		{"lifecycle name", formType, form("_lt_action", "mount"), nil, 400, "lifecycle"},
		{"lifecycle name as button", formType, form("on_connect", ""), nil, 400, "names no action"},
		{"no action", formType, form("item", "x"), nil, 400, "names no action"},
		{"two buttons", formType, form("increment", "", "fail", ""), nil, 400, "several actions"},
		{"malformed encoding", formType, "_lt_conn=" + tab.Conn() + "&increment=%zz", nil, 400, "malformed"},
		{"oversize body", formType, form("_lt_action", "add_item", "item", strings.Repeat("x", 4096)), nil, 413, "body over 2048 bytes"},
		{"too many fields", formType, many.Encode(), nil, 413, "form fields"},
		{"JSON body", "application/json", `{"action":"increment"}`, nil, 415, "send a form"},
		{"bad content type", "form/;;", "x", nil, 415, "Content-Type"},
		{"malformed multipart", "multipart/form-data; boundary=zz", "--zz\r\nnot a part", nil, 400, "malformed"},
		{"cross-site Origin", formType, form("increment", ""), map[string]string{"Origin": "https://evil.example"}, 403, "cross-site"},
		{"cross-site fetch", formType, form("increment", ""), map[string]string{"Sec-Fetch-Site": "cross-site"}, 403, "cross-site"},
		{"cross-site Referer", formType, form("increment", ""), map[string]string{"Referer": "https://evil.example/page"}, 403, "Referer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			is := is.New(t)
			req, _ := http.NewRequest(http.MethodPost, f.URL+"/page", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", tc.ctype)
			req.Header.Set("Accept", "application/json")
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, err := (&http.Client{Jar: tab.Jar()}).Do(req)
			is.NoErr(err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			is.Equal(resp.StatusCode, tc.status)
			if !strings.Contains(string(body), tc.inError) {
				t.Fatalf("body %s does not mention %q", body, tc.inError)
			}
		})
	}
	// None of it changed the page, and the tab still works.
	r := tab.Act("increment", nil)
	is.New(t).True(strings.Contains(r.HTML, "n=1"))
	is.New(t).Equal(r.Seq, uint64(1))
}

func TestSameOriginPostsPass(t *testing.T) {
	is := is.New(t)
	f := newFixture(t, lt.WithTrustedOrigins("https://admin.example"))
	tab := lttest.Open(t, f.URL+"/page")
	for _, h := range []map[string]string{
		{"Origin": f.URL},
		{"Sec-Fetch-Site": "same-origin"},
		{"Referer": f.URL + "/page"},
		{"Origin": "https://admin.example"},
	} {
		v := url.Values{"_lt_conn": {tab.Conn()}, "increment": {""}}
		req, _ := http.NewRequest(http.MethodPost, f.URL+"/page", strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, val := range h {
			req.Header.Set(k, val)
		}
		resp, err := (&http.Client{Jar: tab.Jar()}).Do(req)
		is.NoErr(err)
		resp.Body.Close()
		is.Equal(resp.StatusCode, http.StatusOK)
	}
}

// With JavaScript off, the page is a plain HTML form: a POST runs the
// action on the session's last state and answers 303 (post/redirect/get),
// or 422 with the page showing the error.
func TestPlainFormPost(t *testing.T) {
	is := is.New(t)
	f := newFixture(t)
	jar, _ := cookiejar.New(nil)
	noRedirect := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func() string {
		resp, err := noRedirect.Get(f.URL + "/page")
		is.NoErr(err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	is.True(strings.Contains(get(), "n=0"))

	resp, err := noRedirect.PostForm(f.URL+"/page", url.Values{"increment": {""}})
	is.NoErr(err)
	resp.Body.Close()
	is.Equal(resp.StatusCode, http.StatusSeeOther)
	is.Equal(resp.Header.Get("Location"), "/page")
	is.True(strings.Contains(get(), "n=1"))

	// multipart, as a form with enctype="multipart/form-data" sends it
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("item", "from multipart")
	_ = mw.WriteField("add_item", "")
	fw, _ := mw.CreateFormFile("upload", "a.txt")
	_, _ = fw.Write([]byte("file content"))
	mw.Close()
	resp, err = noRedirect.Post(f.URL+"/page", mw.FormDataContentType(), &body)
	is.NoErr(err)
	resp.Body.Close()
	is.Equal(resp.StatusCode, http.StatusSeeOther)
	is.True(strings.Contains(get(), "<li>from multipart</li>"))

	resp, err = noRedirect.PostForm(f.URL+"/page", url.Values{"fail": {""}})
	is.NoErr(err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	is.Equal(resp.StatusCode, http.StatusUnprocessableEntity)
	is.True(strings.Contains(string(page), "err=that did not work"))
	is.True(strings.Contains(string(page), "n=1")) // the state before the failed action
	is.True(strings.Contains(get(), "n=1"))

	// A live tab of the same session is synced after a plain post.
	tab := lttest.Open(t, f.URL+"/page", lttest.WithJar(jar))
	resp, err = noRedirect.PostForm(f.URL+"/page", url.Values{"increment": {""}})
	is.NoErr(err)
	resp.Body.Close()
	tab.WaitFor("msg=synced after increment")
}

func TestMethodNotAllowed(t *testing.T) {
	is := is.New(t)
	f := newFixture(t)
	req, _ := http.NewRequest(http.MethodDelete, f.URL+"/page", nil)
	resp, err := http.DefaultClient.Do(req)
	is.NoErr(err)
	resp.Body.Close()
	is.Equal(resp.StatusCode, http.StatusMethodNotAllowed)
	is.Equal(resp.Header.Get("Allow"), "GET, HEAD, POST")
}

func TestPageServesClientScript(t *testing.T) {
	is := is.New(t)
	f := newFixture(t)
	tab := lttest.Get(t, f.URL+"/items/3/")
	i := strings.Index(tab.Page(), `<script src="`)
	is.True(i > 0 && i < strings.Index(tab.Page(), "</head>")) // in the head
	src := tab.Page()[i+len(`<script src="`):]
	src = strings.ReplaceAll(src[:strings.IndexByte(src, '"')], "&amp;", "&")
	u, err := url.Parse(f.URL + "/items/3/")
	is.NoErr(err)
	resp, err := http.Get(u.ResolveReference(&url.URL{RawQuery: strings.TrimPrefix(src, "?")}).String())
	is.NoErr(err)
	js, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	is.Equal(resp.StatusCode, http.StatusOK)
	is.True(strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript"))
	is.True(strings.Contains(resp.Header.Get("Cache-Control"), "immutable"))
	is.True(len(js) > 1000)
}

// A server action that fails the same way on every tab it reaches shows
// each the same generic message and logs the error once, not once per
// connection.
func TestFailingFanOutLogsOnce(t *testing.T) {
	is := is.New(t)
	var logs syncBuffer
	f := newFixture(t, lt.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	tabs := []*lttest.Tab{lttest.Open(t, f.URL+"/page"), lttest.Open(t, f.URL+"/page"), lttest.Open(t, f.URL+"/page")}
	is.NoErr(f.H.TriggerAll(context.Background(), "leak", nil))
	var shown []string
	for _, tab := range tabs {
		ev := tab.WaitFor("err=Something went wrong")
		shown = append(shown, ev.HTML)
		is.True(!strings.Contains(ev.HTML, "password"))
	}
	is.Equal(shown[0], shown[1])
	is.Equal(shown[1], shown[2])
	is.Equal(strings.Count(logs.String(), "password authentication failed"), 1)
}
