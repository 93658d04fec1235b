package lt_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
)

// pngHead is the start of a PNG file: what sniffing recognizes.
var pngHead = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")

type upState struct {
	Names []string
}

// upCtrl records the files its actions received, and their references
// (a page could echo them).
type upCtrl struct {
	mu    *sync.Mutex
	got   *[]lt.File
	refs  *[]string
	calls *int
}

func (c *upCtrl) Save(s upState, ctx *lt.Context) (upState, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	*c.calls++
	*c.refs = append(*c.refs, ctx.Request().PostForm["_lt_file.avatar"]...)
	files := ctx.Files("avatar")
	*c.got = append(*c.got, files...)
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

type upFixture struct {
	srv   *httptest.Server
	h     *lt.Handler
	dir   string
	mu    sync.Mutex
	got   []lt.File
	refs  []string
	calls int
}

func newUpFixture(t testing.TB, u lt.Upload, opts ...lt.Option) *upFixture {
	t.Helper()
	f := &upFixture{dir: t.TempDir()}
	if u.Store == nil {
		u.Store = lt.DiskStore{Dir: f.dir}
	}
	h, err := lt.New(lt.Must(lt.Parse("up", upHTML)), &upCtrl{mu: &f.mu, got: &f.got, refs: &f.refs, calls: &f.calls}, upState{},
		append([]lt.Option{lt.WithUpload("avatar", u)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	f.h = h
	f.srv = httptest.NewServer(h)
	t.Cleanup(func() { _ = h.Close(); f.srv.Close() })
	return f
}

// files lists the store's directory.
func (f *upFixture) files(t testing.TB) []string {
	t.Helper()
	ents, err := os.ReadDir(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func (f *upFixture) received() ([]lt.File, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]lt.File(nil), f.got...), f.calls
}

// part is one part of a multipart body.
type part struct {
	name, file string // file "" for a plain field
	body       []byte
}

func multipartBody(t testing.TB, parts ...part) (*bytes.Buffer, string) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		if p.file != "" {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename="%s"`, p.name, p.file))
			h.Set("Content-Type", "application/octet-stream")
		} else {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q`, p.name))
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write(p.body)
	}
	_ = mw.Close()
	return &b, mw.FormDataContentType()
}

// post sends body without JavaScript (no _lt_conn), not following the
// redirect.
func post(t testing.TB, url string, body io.Reader, ct string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ct)
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// A plain multipart form (no JavaScript) uploads its file to the store,
// named by a random key, and the action gets it: 303.
func TestUploadWithoutJavaScript(t *testing.T) {
	is := is.New(t)
	f := newUpFixture(t, lt.Upload{Accept: []string{"image/*"}})
	content := append(bytes.Clone(pngHead), bytes.Repeat([]byte{7}, 100_000)...)
	body, ct := multipartBody(t, part{name: "save"}, part{name: "avatar", file: "../../photo.png", body: content})
	status, _ := post(t, f.srv.URL+"/", body, ct)
	is.Equal(status, http.StatusSeeOther)
	got, calls := f.received()
	is.Equal(calls, 1)
	is.Equal(len(got), 1)
	is.Equal(got[0].Name, "photo.png") // no directories (control characters: TestCleanFileName)
	is.Equal(got[0].Type, "image/png")
	is.Equal(got[0].Size, int64(len(content)))
	is.Equal(got[0].Field, "avatar")
	is.True(strings.HasSuffix(got[0].Key, ".png"))
	is.Equal(f.files(t), []string{got[0].Key}) // nothing else: no partial file
	stored, err := os.ReadFile(filepath.Join(f.dir, got[0].Key))
	is.NoErr(err)
	is.True(bytes.Equal(stored, content))
}

// With the JavaScript client the action runs on the tab's connection and
// gets the files just the same.
func TestUploadLiveAction(t *testing.T) {
	is := is.New(t)
	f := newUpFixture(t, lt.Upload{MaxFiles: 2})
	tab := lttest.Open(t, f.srv.URL+"/")
	body, ct := multipartBody(t, part{name: "_lt_action", body: []byte("save")}, part{name: "_lt_conn", body: []byte(tab.Conn())},
		part{name: "avatar", file: "a.txt", body: []byte("hello")}, part{name: "avatar", file: "b.txt", body: []byte("world")})
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+"/", body)
	is.NoErr(err)
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Accept", "application/json")
	resp, err := (&http.Client{Jar: tab.Jar()}).Do(req)
	is.NoErr(err)
	resp.Body.Close()
	is.Equal(resp.StatusCode, http.StatusOK)
	tab.WaitFor("a.txt;b.txt;")
	got, _ := f.received()
	is.Equal(len(got), 2)
	is.Equal(got[0].Type, "text/plain; charset=utf-8"[:len("text/plain")])
	is.Equal(len(f.files(t)), 2)
}

// Every refusal leaves no file behind and does not run the action.
func TestUploadRefusals(t *testing.T) {
	big := append(bytes.Clone(pngHead), bytes.Repeat([]byte{1}, 2000)...)
	for _, c := range []struct {
		name   string
		upload lt.Upload
		parts  []part
		status int
	}{
		{"too large", lt.Upload{MaxBytes: 1000}, []part{{name: "save"}, {name: "avatar", file: "a.png", body: big}}, http.StatusRequestEntityTooLarge},
		{"a type that lies about its content", lt.Upload{Accept: []string{"image/*"}},
			[]part{{name: "save"}, {name: "avatar", file: "evil.png", body: []byte("<html><script>alert(1)</script>")}}, http.StatusUnsupportedMediaType},
		{"too many files, the first one stored", lt.Upload{}, []part{{name: "save"}, {name: "avatar", file: "1.png", body: pngHead}, {name: "avatar", file: "2.png", body: pngHead}}, http.StatusRequestEntityTooLarge},
		{"a file field the page did not declare", lt.Upload{}, []part{{name: "save"}, {name: "other", file: "x.png", body: pngHead}}, http.StatusBadRequest},
		{"a file, then an unknown action", lt.Upload{}, []part{{name: "avatar", file: "x.png", body: pngHead}, {name: "no_such_action"}}, http.StatusBadRequest},
		{"a file, then an action that fails", lt.Upload{}, []part{{name: "save"}, {name: "fail", body: []byte("1")}, {name: "avatar", file: "x.png", body: pngHead}}, http.StatusUnprocessableEntity},
		{"a plain field over the body limit", lt.Upload{}, []part{{name: "save"}, {name: "avatar", file: "x.png", body: pngHead}, {name: "note", body: bytes.Repeat([]byte("x"), 2<<20)}}, http.StatusRequestEntityTooLarge},
	} {
		t.Run(c.name, func(t *testing.T) {
			is := is.New(t)
			f := newUpFixture(t, c.upload)
			body, ct := multipartBody(t, c.parts...)
			status, page := post(t, f.srv.URL+"/", body, ct)
			is.Equal(status, c.status)
			is.Equal(f.files(t), []string(nil)) // nothing left
			if c.status != http.StatusUnprocessableEntity {
				_, calls := f.received()
				is.Equal(calls, 0) // the action did not run
			}
			is.True(!strings.Contains(page, f.dir)) // no path in the answer
		})
	}
}

// Malformed bodies: a clear 4xx each, nothing stored.
func TestUploadMalformedBodies(t *testing.T) {
	file, ct := multipartBody(t, part{name: "save"}, part{name: "avatar", file: "a.png", body: bytes.Repeat(pngHead, 100)})
	whole := file.Bytes()
	_, boundary, _ := strings.Cut(ct, "boundary=")
	var tiny bytes.Buffer
	for i := range 10_000 {
		fmt.Fprintf(&tiny, "--%s\r\nContent-Disposition: form-data; name=\"f%d\"\r\n\r\nx\r\n", boundary, i)
	}
	tiny.WriteString("--" + boundary + "--\r\n")
	hugeHeader := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"save\"\r\nX-Pad: " + strings.Repeat("a", 3<<20) + "\r\n\r\n\r\n--" + boundary + "--\r\n"
	for _, c := range []struct {
		name, ct string
		body     []byte
		status   int
	}{
		{"truncated in the middle of the file", ct, whole[:len(whole)/2], http.StatusBadRequest},
		{"a wrong boundary", "multipart/form-data; boundary=nope", whole, http.StatusBadRequest},
		{"no boundary", "multipart/form-data", whole, http.StatusBadRequest},
		{"10,000 tiny parts", ct, tiny.Bytes(), http.StatusRequestEntityTooLarge},
		{"a huge part header", ct, []byte(hugeHeader), http.StatusRequestEntityTooLarge},
	} {
		t.Run(c.name, func(t *testing.T) {
			is := is.New(t)
			f := newUpFixture(t, lt.Upload{})
			status, _ := post(t, f.srv.URL+"/", bytes.NewReader(c.body), c.ct)
			is.Equal(status, c.status)
			is.Equal(f.files(t), []string(nil))
			_, calls := f.received()
			is.Equal(calls, 0)
		})
	}
}

// A client that stalls in the middle of a file is cut after the field's
// IdleTimeout, and one that goes away mid-file leaves nothing either.
func TestUploadStalledOrGoneClient(t *testing.T) {
	for _, gone := range []bool{false, true} {
		name := "stalls"
		if gone {
			name = "goes away"
		}
		t.Run(name, func(t *testing.T) {
			is := is.New(t)
			stored := make(chan error, 1)
			f := newUpFixture(t, lt.Upload{IdleTimeout: 200 * time.Millisecond, Store: watchedStore{dir: t.TempDir(), done: stored}})
			body, ct := multipartBody(t, part{name: "save"}, part{name: "avatar", file: "a.png", body: bytes.Repeat(pngHead, 1000)})
			half := body.Bytes()[:body.Len()/2]
			conn, err := net.Dial("tcp", f.srv.Listener.Addr().String())
			is.NoErr(err)
			defer conn.Close()
			fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", ct, body.Len())
			_, err = conn.Write(half)
			is.NoErr(err)
			if gone {
				conn.Close()
			}
			select {
			case err := <-stored: // Put returned, after the store removed its partial file
				is.True(err != nil)
			case <-time.After(10 * time.Second):
				t.Fatal("the upload never ended")
			}
			_, calls := f.received()
			is.Equal(calls, 0)
		})
	}
}

// watchedStore is a DiskStore that reports each Put's outcome, and checks
// that a failed Put left nothing in its directory.
type watchedStore struct {
	dir  string
	done chan error
}

func (w watchedStore) Put(ctx context.Context, key string, r io.Reader) error {
	err := lt.DiskStore{Dir: w.dir}.Put(ctx, key, r)
	if err != nil {
		if ents, _ := os.ReadDir(w.dir); len(ents) != 0 {
			err = fmt.Errorf("%w; and it left %d files", err, len(ents))
			panic(err)
		}
	}
	w.done <- err
	return err
}

func (w watchedStore) Delete(ctx context.Context, key string) error {
	return lt.DiskStore{Dir: w.dir}.Delete(ctx, key)
}

// A reference to an uploaded file cannot be made up, moved to another
// field, or used by another session.
func TestUploadReferencesCannotBeForged(t *testing.T) {
	is := is.New(t)
	f := newUpFixture(t, lt.Upload{MaxFiles: 2})
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: noRedirect.CheckRedirect}
	// A first post stores a file; its reference is in the form the action
	// saw, which a page could echo: take it from the store's key instead.
	body, ct := multipartBody(t, part{name: "save"}, part{name: "avatar", file: "a.png", body: pngHead})
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/", body)
	req.Header.Set("Content-Type", ct)
	resp, err := client.Do(req)
	is.NoErr(err)
	resp.Body.Close()
	is.Equal(resp.StatusCode, http.StatusSeeOther)
	got, _ := f.received()
	is.Equal(len(got), 1)
	for _, forged := range []string{
		"x",
		`{"f":"avatar","k":"` + got[0].Key + `"}.AAAA`,
		"eyJmIjoiYXZhdGFyIn0.c2lnbmF0dXJl",
	} {
		resp, err := client.PostForm(f.srv.URL+"/", url.Values{"save": {""}, "_lt_file.avatar": {forged}})
		is.NoErr(err)
		resp.Body.Close()
	}
	got, calls := f.received()
	is.Equal(calls, 4)
	is.Equal(len(got), 1) // the forged references gave the action nothing
}
