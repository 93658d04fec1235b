package lt_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
)

// postLeave posts what a leaving tab's beacon sends: _lt_leave=conn, form
// encoded, with the cookies of jar.
func postLeave(t *testing.T, jar http.CookieJar, page, conn string) int {
	t.Helper()
	return postForm(t, jar, page, url.Values{"_lt_leave": {conn}})
}

// postForm posts form to page with the cookies of jar, as the client
// does, and returns the status.
func postForm(t *testing.T, jar http.CookieJar, page string, form url.Values) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(waitCtx(t), http.MethodPost, page, strings.NewReader(form.Encode()))
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := (&http.Client{Jar: jar}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// count returns how many entries of j equal e.
func count(j *journal, e string) int {
	n := 0
	for _, x := range j.list() {
		if x == e {
			n++
		}
	}
	return n
}

// A tab that says it leaves ends its connection at once (OnDisconnect
// runs, its context is cancelled), not after the reconnect grace (30 s
// here); the stream it shared goes on for the other tab. Another session
// naming it, or an unknown id, ends nothing.
func TestLeaveEndsTheConnectionAtOnce(t *testing.T) {
	is := is.New(t)
	f := newFixture(t)
	page := f.URL + "/page"
	a := lttest.Get(t, page)
	b := lttest.Get(t, page, lttest.WithJar(a.Jar()))
	resp, next := openRaw(t, &http.Client{Jar: a.Jar()}, page, url.Values{
		"_lt_conn": {a.Conn(), b.Conn()}, "_lt_seq": {"", ""},
	})
	is.Equal(resp.StatusCode, http.StatusOK)
	next()
	next() // the two renders
	for count(f.J, "connect") < 2 {
		<-f.J.changed
	}

	stranger := lttest.Get(t, page) // another browser: another session
	is.Equal(postLeave(t, stranger.Jar(), page, a.Conn()), http.StatusForbidden)
	is.Equal(postLeave(t, a.Jar(), page, "forged-"+a.Conn()), http.StatusGone)
	is.Equal(postForm(t, a.Jar(), page, url.Values{"_lt_conn": {a.Conn()}, "_lt_action": {"increment"}}), http.StatusOK) // still live
	next()

	is.Equal(postLeave(t, a.Jar(), page, a.Conn()), http.StatusNoContent)
	f.J.waitFor(t, "disconnect")
	f.J.waitFor(t, "ctx done")
	is.Equal(postForm(t, a.Jar(), page, url.Values{"_lt_conn": {a.Conn()}, "_lt_action": {"increment"}}), http.StatusGone)
	is.Equal(postLeave(t, a.Jar(), page, a.Conn()), http.StatusGone) // once

	// The shared stream carries b on.
	is.Equal(postForm(t, a.Jar(), page, url.Values{"_lt_conn": {b.Conn()}, "_lt_action": {"increment"}}), http.StatusOK)
	ev := next()
	is.Equal(ev.Msg.C, b.Conn())
	is.Equal(count(f.J, "disconnect"), 1)
}

// A tab's leave beacon that reaches an instance other than the one holding
// its connection ends the connection there, at once; another session's
// forwarded leave ends nothing.
func TestLeaveForwardedToOwningInstance(t *testing.T) {
	is := is.New(t)
	bus := lt.NewBus()
	a, b := newInstance(t, bus.Instance("a")), newInstance(t, bus.Instance("b"))
	tab := lttest.Open(t, a.URL+"/page")
	a.J.waitFor(t, "connect")
	jar := sameSession(t, tab, a.URL, b.URL)

	stranger := lttest.Get(t, b.URL+"/page")
	is.Equal(postLeave(t, stranger.Jar(), b.URL+"/page", tab.Conn()), http.StatusAccepted) // forwarded, and refused there
	// The bus delivers b's messages to a in order: a server action sent
	// after the stranger's leave reaches the tab, so that leave ended
	// nothing.
	is.NoErr(b.H.TriggerAll(waitCtx(t), "set_msg", map[string]any{"msg": "still here"}))
	tab.WaitFor("msg=still here")
	is.Equal(count(a.J, "disconnect"), 0)

	is.Equal(postLeave(t, jar, b.URL+"/page", tab.Conn()), http.StatusAccepted)
	a.J.waitFor(t, "disconnect")
	a.J.waitFor(t, "ctx done")
	is.Equal(count(a.J, "disconnect"), 1)
}
