package lts3_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/livesse/livesse/lt"
	"github.com/matryer/is"
)

var testSecret = []byte("livesse test secret of 32 bytes or more")

type upState struct{ Names []string }

// recorder keeps the files the actions of one app (one instance) got.
type recorder struct {
	mu    sync.Mutex
	files []lt.File
	calls int
}

func (r *recorder) got() ([]lt.File, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]lt.File(nil), r.files...), r.calls
}

type upCtrl struct{ rec *recorder }

func (c *upCtrl) Save(s upState, ctx *lt.Context) (upState, error) {
	files := ctx.Files("avatar")
	c.rec.mu.Lock()
	c.rec.calls++
	c.rec.files = append(c.rec.files, files...)
	c.rec.mu.Unlock()
	for _, f := range files {
		s.Names = append(s.Names, f.Name)
	}
	if ctx.GetString("fail") != "" {
		return s, lt.UserError("refused")
	}
	return s, nil
}

const upHTML = `<!DOCTYPE html><html><head><title>up</title></head><body>` +
	`<p id="names">{{range .Names}}{{.}};{{end}}</p><p>{{ltError}}</p></body></html>`

// app is a page with an avatar field (images up to 1 MiB) stored in a
// bucket, and a browser's session on it.
type app struct {
	URL    string
	H      *lt.Handler
	rec    *recorder
	client *http.Client
}

func newApp(t testing.TB, u lt.Upload, opts ...lt.Option) *app {
	t.Helper()
	a := &app{rec: &recorder{}}
	if u.MaxBytes == 0 {
		u.MaxBytes = 1 << 20
	}
	if u.Accept == nil {
		u.Accept = []string{"image/*"}
	}
	opts = append([]lt.Option{lt.WithUpload("avatar", u), lt.WithSecret(testSecret)}, opts...)
	h := lt.Must(lt.New(lt.Must(lt.Parse("up", upHTML)), &upCtrl{rec: a.rec}, upState{}, opts...))
	srv := httptest.NewServer(h)
	t.Cleanup(func() { _ = h.Close(); srv.Close() })
	a.URL, a.H = srv.URL, h
	a.client = browser(t)
	return a
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects.
func browser(t testing.TB) *http.Client {
	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Jar: jar, Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// presigned is lt's answer to a presign request.
type presigned struct {
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Ref     string            `json:"ref"`
	Error   string            `json:"error"`
}

// postForm posts fields to the page as c, form-encoded, with extra
// headers; it returns the status and the body.
func postForm(t testing.TB, c *http.Client, pageURL string, fields url.Values, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, pageURL, strings.NewReader(fields.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// presign asks the app, as c, to presign an upload to field.
func presign(t testing.TB, c *http.Client, pageURL, field, name string, size int, typ string) (int, presigned) {
	t.Helper()
	status, body := postForm(t, c, pageURL, url.Values{"_lt_presign": {field}, "name": {name}, "size": {strconv.Itoa(size)}, "type": {typ}},
		"Accept", "application/json")
	var p presigned
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("presign answered %d %q: %v", status, body, err)
	}
	return status, p
}

// put sends body to a presigned URL as a browser on origin does: a CORS
// preflight naming the headers, then the PUT with them.
func put(t testing.TB, origin string, p presigned, body []byte) int {
	t.Helper()
	var names []string
	for k := range p.Headers {
		names = append(names, strings.ToLower(k))
	}
	pre, _ := http.NewRequest(http.MethodOptions, p.URL, nil)
	pre.Header.Set("Origin", origin)
	pre.Header.Set("Access-Control-Request-Method", http.MethodPut)
	pre.Header.Set("Access-Control-Request-Headers", strings.Join(names, ","))
	resp, err := http.DefaultClient.Do(pre)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != origin {
		return http.StatusForbidden // the browser would not send the PUT
	}
	req, _ := http.NewRequest(http.MethodPut, p.URL, bytes.NewReader(body))
	req.Header.Set("Origin", origin)
	for k, v := range p.Headers {
		req.Header.Set(k, v)
	}
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode < 300 && resp.Header.Get("Access-Control-Allow-Origin") != origin {
		t.Fatalf("the bucket's answer to the PUT does not allow %s: the browser would not see it", origin)
	}
	return resp.StatusCode
}

// The browser asks the app for a presigned URL, sends the file straight
// to the bucket, and posts the form with the reference: the action gets
// the file, checked, with its sniffed type; the URL writes once only.
func TestPresignedUpload(t *testing.T) {
	is := is.New(t)
	s3 := newFakeS3(t)
	a := newApp(t, lt.Upload{Store: s3.store()})
	s3.cors.allow(a.URL)
	file := content(200_000)

	status, p := presign(t, a.client, a.URL+"/", "avatar", `C:\Users\me\photo.png`, len(file), "image/png")
	is.Equal(status, http.StatusOK)
	is.Equal(p.Headers["Content-Type"], "image/png")
	is.Equal(p.Headers["If-None-Match"], "*")
	is.True(strings.HasPrefix(p.URL, s3.URL+"/uploads/up/"))
	is.Equal(put(t, a.URL, p, file), http.StatusOK)
	is.Equal(put(t, a.URL, p, content(200_000)), http.StatusPreconditionFailed) // written once
	is.Equal(put(t, "http://evil.example", p, file), http.StatusForbidden)      // the bucket's CORS rule

	status, _ = postForm(t, a.client, a.URL+"/", url.Values{"save": {""}, "_lt_presigned.avatar": {p.Ref}})
	is.Equal(status, http.StatusSeeOther)
	got, calls := a.rec.got()
	is.Equal(calls, 1)
	is.Equal(len(got), 1)
	is.Equal(got[0].Name, "photo.png")
	is.Equal(got[0].Size, int64(len(file)))
	is.Equal(got[0].Type, "image/png")
	is.Equal(s3.keys(t), []string{"up/" + got[0].Key})

	// The live path: the tab's action gets the file just the same.
	status, p = presign(t, a.client, a.URL+"/", "avatar", "second.png", 1000, "image/png")
	is.Equal(status, http.StatusOK)
	is.Equal(put(t, a.URL, p, content(1000)), http.StatusOK)
	tab := ltOpen(t, a.URL+"/", a.client.Jar)
	r := tab.Act("save", url.Values{"_lt_presigned.avatar": {p.Ref}})
	is.Equal(r.Status, http.StatusOK)
	tab.WaitFor("second.png;")
	is.Equal(len(s3.keys(t)), 2)
}

// A presign request is refused, with nothing signed, for a field that is
// not an upload field or whose Store cannot presign, a size over the
// field's MaxBytes or missing, a type the field does not accept, or
// another site.
func TestPresignRefusals(t *testing.T) {
	s3 := newFakeS3(t)
	a := newApp(t, lt.Upload{Store: s3.store()}, lt.WithUpload("doc", lt.Upload{Store: lt.DiskStore{Dir: t.TempDir()}}))
	for _, c := range []struct {
		name, field, size, typ string
		header                 []string
		status                 int
		says                   string
	}{
		{"not an upload field", "other", "10", "image/png", nil, http.StatusBadRequest, "not an upload field"},
		{"a Store that cannot presign", "doc", "10", "image/png", nil, http.StatusBadRequest, "takes no direct uploads"},
		{"over MaxBytes", "avatar", strconv.Itoa(1<<20 + 1), "image/png", nil, http.StatusRequestEntityTooLarge, "too large"},
		{"no size", "avatar", "", "image/png", nil, http.StatusBadRequest, "size"},
		{"a negative size", "avatar", "-1", "image/png", nil, http.StatusBadRequest, "size"},
		{"a type not accepted", "avatar", "10", "text/html", nil, http.StatusUnsupportedMediaType, "type not accepted"},
		{"no type", "avatar", "10", "", nil, http.StatusUnsupportedMediaType, "type not accepted"},
		{"another site", "avatar", "10", "image/png", []string{"Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site"}, http.StatusForbidden, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			is := is.New(t)
			fields := url.Values{"_lt_presign": {c.field}, "name": {"a.png"}, "type": {c.typ}}
			if c.size != "" {
				fields.Set("size", c.size)
			}
			status, body := postForm(t, a.client, a.URL+"/", fields, append([]string{"Accept", "application/json"}, c.header...)...)
			is.Equal(status, c.status)
			is.True(strings.Contains(body, c.says))
			is.True(!strings.Contains(body, `"url"`))
		})
	}
	is.New(t).Equal(s3.keys(t), []string(nil))
}

// Before the action runs, lt checks each presigned upload the form refers
// to: an object missing, of another size than promised, or of a type
// that lies is refused (422, the field named) and deleted; a reference
// that does not check out is refused (400); more than MaxFiles, 413; a
// pending reference never passes for a checked one. An object that
// passed its check is never deleted by lt (the action's failing or not
// running included): its reference may be sent again once the object is
// the app's (TestPresignedReferenceSentAgain); the bucket's lifecycle rule
// expires the unused ones.
func TestPresignedUploadChecked(t *testing.T) {
	html := []byte("<html><script>alert(1)</script>" + strings.Repeat(" ", 1000))
	for _, c := range []struct {
		name       string
		promise    int    // bytes promised
		send       []byte // what the browser PUTs (nil: nothing)
		form       func(ref string, other *http.Client, a *app) url.Values
		status     int
		says       string
		calls      int
		filesGot   int
		objectKept bool
	}{
		{name: "never uploaded", promise: 1000, status: http.StatusUnprocessableEntity, says: "avatar: not uploaded"},
		{name: "fewer bytes than promised", promise: 2000, send: content(1000), status: http.StatusUnprocessableEntity, says: "avatar: not the file promised (1000 bytes, not 2000)"},
		{name: "a type that lies", promise: len(html), send: html, status: http.StatusUnprocessableEntity, says: "avatar: type not accepted (text/html)"},
		{name: "the action fails", promise: 1000, send: content(1000), status: http.StatusUnprocessableEntity, says: "refused", calls: 1, filesGot: 1, objectKept: true,
			form: func(ref string, _ *http.Client, _ *app) url.Values {
				return url.Values{"save": {""}, "fail": {"1"}, "_lt_presigned.avatar": {ref}}
			}},
		{name: "a tampered reference", promise: 1000, send: content(1000), status: http.StatusBadRequest, says: "not valid", objectKept: true,
			form: func(ref string, _ *http.Client, _ *app) url.Values {
				return url.Values{"save": {""}, "_lt_presigned.avatar": {"x" + ref[1:]}}
			}},
		{name: "two files for a field of one", promise: 1000, send: content(1000), status: http.StatusRequestEntityTooLarge, says: "too many files", objectKept: true,
			form: func(ref string, _ *http.Client, _ *app) url.Values {
				return url.Values{"save": {""}, "_lt_presigned.avatar": {ref, ref}}
			}},
		{name: "a pending reference as a checked one", promise: 1000, send: content(1000), status: http.StatusSeeOther, calls: 1, objectKept: true,
			form: func(ref string, _ *http.Client, _ *app) url.Values {
				return url.Values{"save": {""}, "_lt_file.avatar": {ref}}
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			is := is.New(t)
			s3 := newFakeS3(t)
			a := newApp(t, lt.Upload{Store: s3.store()})
			s3.cors.allow(a.URL)
			status, p := presign(t, a.client, a.URL+"/", "avatar", "a.png", c.promise, "image/png")
			is.Equal(status, http.StatusOK)
			if c.send != nil {
				is.Equal(put(t, a.URL, p, c.send), http.StatusOK)
			}
			form := url.Values{"save": {""}, "_lt_presigned.avatar": {p.Ref}}
			if c.form != nil {
				form = c.form(p.Ref, nil, a)
			}
			status, body := postForm(t, a.client, a.URL+"/", form)
			is.Equal(status, c.status)
			is.True(strings.Contains(body, c.says))
			got, calls := a.rec.got()
			is.Equal(calls, c.calls)
			is.Equal(len(got), c.filesGot)
			is.Equal(len(s3.keys(t)) == 1, c.objectKept)
		})
	}
}

// Another session cannot use a browser's presigned reference: the POST is
// refused and the object stays for its owner.
func TestPresignedReferenceOfAnotherSession(t *testing.T) {
	is := is.New(t)
	s3 := newFakeS3(t)
	a := newApp(t, lt.Upload{Store: s3.store()})
	s3.cors.allow(a.URL)
	status, p := presign(t, a.client, a.URL+"/", "avatar", "a.png", 1000, "image/png")
	is.Equal(status, http.StatusOK)
	is.Equal(put(t, a.URL, p, content(1000)), http.StatusOK)
	stranger := browser(t)
	status, _ = postForm(t, stranger, a.URL+"/", url.Values{"save": {""}})
	is.Equal(status, http.StatusSeeOther) // a session of its own
	status, _ = postForm(t, stranger, a.URL+"/", url.Values{"save": {""}, "_lt_presigned.avatar": {p.Ref}})
	is.Equal(status, http.StatusBadRequest)
	is.Equal(len(s3.keys(t)), 1)
	status, _ = postForm(t, a.client, a.URL+"/", url.Values{"save": {""}, "_lt_presigned.avatar": {p.Ref}})
	is.Equal(status, http.StatusSeeOther)
	got, _ := a.rec.got()
	is.Equal(len(got), 1)
}

// A presigned upload's reference sent again once its action succeeded
// (the object is the app's now) with an action that fails, with too many
// files, or with an unknown action: the object stays.
func TestPresignedReferenceSentAgain(t *testing.T) {
	is := is.New(t)
	s3 := newFakeS3(t)
	a := newApp(t, lt.Upload{Store: s3.store()})
	s3.cors.allow(a.URL)
	status, p := presign(t, a.client, a.URL+"/", "avatar", "a.png", 1000, "image/png")
	is.Equal(status, http.StatusOK)
	is.Equal(put(t, a.URL, p, content(1000)), http.StatusOK)
	status, _ = postForm(t, a.client, a.URL+"/", url.Values{"save": {""}, "_lt_presigned.avatar": {p.Ref}})
	is.Equal(status, http.StatusSeeOther)
	kept := s3.keys(t)
	is.Equal(len(kept), 1)
	for _, again := range []struct {
		form   url.Values
		status int
	}{
		{url.Values{"save": {""}, "fail": {"1"}, "_lt_presigned.avatar": {p.Ref}}, http.StatusUnprocessableEntity},
		{url.Values{"save": {""}, "_lt_presigned.avatar": {p.Ref, p.Ref}}, http.StatusRequestEntityTooLarge},
		{url.Values{"nosuchaction": {""}, "_lt_presigned.avatar": {p.Ref}}, http.StatusBadRequest},
	} {
		status, _ := postForm(t, a.client, a.URL+"/", again.form)
		is.Equal(status, again.status)
		is.Equal(s3.keys(t), kept) // the app's object stays
	}
}
