package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
)

func serveApp(t *testing.T) *httptest.Server {
	t.Helper()
	r, h, err := newRouter()
	is.New(t).NoErr(err)
	srv := httptest.NewServer(r)
	t.Cleanup(func() {
		_ = h.Close()
		srv.Close()
	})
	return srv
}

// TestUpdatesAreSmall: over the wire, an added item is one list insert, a
// toggled one a change of that item alone, a removed one a list remove.
func TestUpdatesAreSmall(t *testing.T) {
	is := is.New(t)
	srv := serveApp(t)
	tab := lttest.Open(t, srv.URL+"/")
	is.True(strings.Contains(tab.HTML(), `<p id="empty">Nothing to do.</p>`))
	for _, name := range []string{"milk", "eggs", `<script>alert("x")</script>`} {
		r := tab.Act("add", url.Values{"name": {name}})
		is.Equal(r.Status, http.StatusOK)
	}
	is.True(strings.Contains(tab.HTML(), `<span class="name">&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</span>`))

	r := tab.Act("add", url.Values{"name": {"bread"}})
	is.Equal(r.Kind, "d")
	is.True(strings.Contains(r.Body, `["i",3,`)) // one insert at the end
	is.True(!strings.Contains(r.Body, "milk"))   // nothing else is sent again

	// The first toggle teaches the page's Learner that the toggle button's
	// attributes vary (aria-pressed comes and goes): it sends the list
	// whole, once per page. The next ones are small.
	tab.Act("toggle", url.Values{"toggle": {"2"}})
	tab.Act("toggle", url.Values{"toggle": {"2"}})
	r = tab.Act("toggle", url.Values{"toggle": {"2"}})
	is.True(strings.Contains(r.Body, `["u","item-2",`)) // item 2 changes in place
	is.True(!strings.Contains(r.Body, "milk"))
	is.True(strings.Contains(r.HTML, `<li id="item-2" class="done">`))
	is.True(strings.Contains(r.HTML, `<p id="left">3 left</p>`))

	r = tab.Act("remove", url.Values{"remove": {"1"}})
	is.True(strings.Contains(r.Body, `["r","item-1"]`))
	is.True(!strings.Contains(r.HTML, "milk"))

	r = tab.Act("add", url.Values{"name": {"  "}})
	is.Equal(r.Status, http.StatusUnprocessableEntity)
	is.True(strings.Contains(r.HTML, `<p id="error" role="alert" class="error">type what there is to do first</p>`))
}

// TestWithoutJavaScript: plain form posts answer 303 to the page, which
// shows the change; a blank item answers 422 with the message.
func TestWithoutJavaScript(t *testing.T) {
	is := is.New(t)
	srv := serveApp(t)
	jar, err := cookiejar.New(nil)
	is.NoErr(err)
	client := &http.Client{Jar: jar}
	get := func() string {
		res, err := client.Get(srv.URL + "/")
		is.NoErr(err)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	get() // the session cookie
	post := func(form url.Values) (int, string) {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(form.Encode()))
		is.NoErr(err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", srv.URL)
		res, err := client.Do(req)
		is.NoErr(err)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	status, body := post(url.Values{"add": {""}, "name": {"milk"}})
	is.Equal(status, http.StatusOK) // 303, followed to the page
	is.True(strings.Contains(body, `<span class="name">milk</span>`))
	status, body = post(url.Values{"toggle": {"1"}})
	is.Equal(status, http.StatusOK)
	is.True(strings.Contains(body, `<li id="item-1" class="done">`))
	status, body = post(url.Values{"add": {""}, "name": {""}})
	is.Equal(status, http.StatusUnprocessableEntity)
	is.True(strings.Contains(body, "type what there is to do first"))
	is.True(strings.Contains(get(), `<li id="item-1" class="done">`)) // a reload keeps the list
}
