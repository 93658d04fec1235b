package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/ltbrowser"
	"github.com/matryer/is"
	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind (an upload cut
// mid-body, a bucket's server).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// modes are the app's two: files in the POST's body to a directory, and
// files PUT by the browser straight to a bucket.
var modes = []string{"disk", "s3"}

// app is the example served for a test, in a browser.
type app struct {
	ctx    context.Context
	url    string
	mode   string
	dir    string  // disk
	bucket *Bucket // s3
	valve  *valve
}

// open serves the app in mode, loads it in a fresh browser and waits
// until the page is live, recording the lt:progress events it sees in
// window.__progress ([field, file name, percent]).
func open(t *testing.T, mode string) *app {
	t.Helper()
	is := is.New(t)
	a := &app{mode: mode, valve: newValve()}
	t.Cleanup(a.valve.release) // a held body must not hold the server's Close
	var store Store
	switch mode {
	case "disk":
		a.dir = t.TempDir()
		store = diskStore{lt.DiskStore{Dir: a.dir}}
	case "s3":
		b, err := startBucket(a.valve.wrap(http.MethodPut))
		is.NoErr(err)
		t.Cleanup(b.Close)
		a.bucket, store = b, b.Store
	}
	router, h, err := newApp(store, mode == "s3", []byte("a test secret of at least 32 bytes, for refs"))
	is.NoErr(err)
	var handler http.Handler = router
	if mode == "disk" {
		handler = a.valve.wrap(http.MethodPost)(router)
	}
	srv := ltbrowser.Serve(t, handler, h)
	a.url = srv.URL
	if a.bucket != nil {
		a.bucket.Allow(srv.URL)
	}
	a.ctx = ltbrowser.New(t)
	is.NoErr(ltbrowser.Do(a.ctx, chromedp.Navigate(srv.URL+"/")))
	is.NoErr(ltbrowser.WaitStatus(a.ctx, "online"))
	_, err = ltbrowser.Eval[chromedp.Void](a.ctx, `window.__progress = [];
		document.addEventListener("lt:progress", (e) => __progress.push([e.target.name, e.detail.name, e.detail.percent]))`)
	is.NoErr(err)
	return a
}

// choose sets the files of the file input named field, as a user's pick.
func (a *app) choose(t *testing.T, field string, paths ...string) {
	t.Helper()
	is.New(t).NoErr(ltbrowser.Do(a.ctx, chromedp.SetUploadFiles(chromedp.CSS(`input[name="`+field+`"]`), paths)))
}

func (a *app) click(t *testing.T, sel string) {
	t.Helper()
	is.New(t).NoErr(ltbrowser.Do(a.ctx, chromedp.Click(chromedp.CSS(sel))))
}

// entry is what the page shows of a file chosen.
type entry struct {
	Name     string `json:"name"`
	Progress string `json:"progress"`
	Failed   string `json:"failed"`
}

func (a *app) entries(t *testing.T, field string) []entry {
	t.Helper()
	es, err := ltbrowser.Eval[[]entry](a.ctx, `[...document.querySelectorAll('[data-lt-files="`+field+`"] [data-lt-file]')].map((li) => ({
		name: li.querySelector("span").textContent, progress: li.dataset.ltProgress || "",
		failed: li.hasAttribute("data-lt-failed") ? li.querySelector("small").textContent : ""}))`)
	is.New(t).NoErr(err)
	return es
}

// stored lists the files the store holds (disk: the directory; s3: the
// bucket).
func (a *app) stored(t *testing.T) []string {
	t.Helper()
	var names []string
	if a.mode == "disk" {
		des, err := os.ReadDir(a.dir)
		is.New(t).NoErr(err)
		for _, de := range des {
			names = append(names, de.Name())
		}
		return names
	}
	out, err := a.bucket.Store.Client.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: &a.bucket.Store.Bucket})
	is.New(t).NoErr(err)
	for _, o := range out.Contents {
		names = append(names, *o.Key)
	}
	return names
}

// awaitStored waits, at most ltbrowser.Timeout, until the store holds n
// files (an upload cut mid-body is removed once the server has read the
// error).
func (a *app) awaitStored(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(ltbrowser.Timeout)
	for len(a.stored(t)) != n {
		if time.Now().After(deadline) {
			t.Fatalf("the store holds %q, want %d files", a.stored(t), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// progress is the lt:progress events seen, per file name.
func (a *app) progress(t *testing.T) map[string][]int {
	t.Helper()
	evs, err := ltbrowser.Eval[[][]any](a.ctx, `__progress`)
	is.New(t).NoErr(err)
	out := map[string][]int{}
	for _, e := range evs {
		out[e[1].(string)] = append(out[e[1].(string)], int(e[2].(float64)))
	}
	return out
}

// files writes test files into a temporary directory: PNGs of size bytes
// (a PNG signature, then zeros: what lt sniffs is the signature), a real
// 64×48 PNG, and text named as a PNG.
type testFiles struct{ dir string }

func newFiles(t *testing.T) testFiles { return testFiles{t.TempDir()} }

func (f testFiles) png(t *testing.T, name string, size int) string {
	t.Helper()
	b := make([]byte, size)
	copy(b, "\x89PNG\r\n\x1a\n")
	return f.write(t, name, b)
}

func (f testFiles) image(t *testing.T, name string) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for i := range img.Pix {
		img.Pix[i] = byte(i)
	}
	img.Set(0, 0, color.RGBA{255, 0, 0, 255})
	var buf bytes.Buffer
	is.New(t).NoErr(png.Encode(&buf, img))
	return f.write(t, name, buf.Bytes())
}

func (f testFiles) write(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(f.dir, name)
	is.New(t).NoErr(os.WriteFile(p, b, 0o600))
	return p
}

// valve holds the bodies of requests (of one method) while armed: a
// handler's first read of the body waits until the valve is released,
// so that a test sees an upload under way, at a progress that stays put.
type valve struct {
	mu    sync.Mutex
	armed bool
	open  chan struct{}
	held  chan struct{} // closed when a held body is first read
}

func newValve() *valve { return &valve{open: make(chan struct{}), held: make(chan struct{})} }

// arm makes the next requests' bodies wait.
func (v *valve) arm() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.armed, v.open, v.held = true, make(chan struct{}), make(chan struct{})
}

// release lets every body held through, and disarms.
func (v *valve) release() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.armed {
		v.armed = false
		close(v.open)
	}
}

// awaitHeld waits until a body is held.
func (v *valve) awaitHeld() error {
	v.mu.Lock()
	held := v.held
	v.mu.Unlock()
	select {
	case <-held:
		return nil
	case <-time.After(ltbrowser.Timeout):
		return errors.New("no request body held")
	}
}

func (v *valve) wrap(method string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			v.mu.Lock()
			armed, open, held := v.armed, v.open, v.held
			v.mu.Unlock()
			if armed && r.Method == method && (method != http.MethodPost || strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/")) {
				r.Body = &heldBody{ReadCloser: r.Body, open: open, held: held, once: &sync.Once{}}
			}
			next.ServeHTTP(w, r)
		})
	}
}

type heldBody struct {
	io.ReadCloser
	open <-chan struct{}
	held chan struct{}
	once *sync.Once
}

func (b *heldBody) Read(p []byte) (int, error) {
	b.once.Do(func() {
		select {
		case <-b.held:
		default:
			close(b.held)
		}
	})
	<-b.open
	return b.ReadCloser.Read(p)
}

// forModes runs test in each mode.
func forModes(t *testing.T, test func(t *testing.T, a *app)) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) { test(t, open(t, mode)) })
	}
}

// A 32 MiB file and a small one go up at once: while the server (or the
// bucket) reads nothing, the page shows the first file part sent and the
// other not done; then both reach 100%, each through percents that only
// grow, and the gallery shows them.
func TestBrowserProgress(t *testing.T) {
	forModes(t, func(t *testing.T, a *app) {
		is := is.New(t)
		f := newFiles(t)
		big, small := f.png(t, "big.png", 32<<20), f.png(t, "small.png", 100<<10)
		a.valve.arm()
		a.choose(t, "gallery", big, small)
		is.Equal(len(a.entries(t, "gallery")), 2)
		a.click(t, `button[name="add_photos"]`)
		is.NoErr(a.valve.awaitHeld())
		is.NoErr(ltbrowser.Wait(a.ctx, "big.png's progress", `__progress.some((p) => p[1] === "big.png")`, `JSON.stringify(__progress)`))
		held := a.progress(t)
		is.True(held["big.png"][len(held["big.png"])-1] < 100) // the server holds most of it back
		a.valve.release()
		is.NoErr(ltbrowser.WaitText(a.ctx, "#count", "2 photos"))
		got := a.progress(t)
		for _, name := range []string{"big.png", "small.png"} {
			ps := got[name]
			is.True(len(ps) > 0)
			is.Equal(ps[len(ps)-1], 100) // name's progress ends at 100%
			for i := 1; i < len(ps); i++ {
				is.True(ps[i] > ps[i-1]) // name's progress only grows
			}
		}
		t.Logf("%s: progress of big.png: %v", a.mode, got["big.png"])
		is.True(len(got["big.png"]) > 1)
		is.Equal(len(a.entries(t, "gallery")), 0) // a success clears the files
		is.Equal(len(a.stored(t)), 2)
	})
}

// Removing one file during the upload: with the files in the POST's body,
// the POST is aborted and the other files stay chosen, to be sent again;
// with PUTs to the bucket, its PUT alone is aborted and the others go on.
// Nothing of the file removed stays in the store.
func TestBrowserCancelOne(t *testing.T) {
	forModes(t, func(t *testing.T, a *app) {
		is := is.New(t)
		f := newFiles(t)
		// Larger than the socket buffers between the browser and the server
		// (a few MiB on loopback): the bytes of a file removed have not all
		// left the browser, so it cannot arrive whole.
		paths := []string{f.png(t, "a.png", 16<<20), f.png(t, "b.png", 16<<20), f.png(t, "c.png", 16<<20)}
		a.valve.arm()
		a.choose(t, "gallery", paths...)
		a.click(t, `button[name="add_photos"]`)
		is.NoErr(a.valve.awaitHeld())
		a.click(t, `#gallery-list [data-lt-file]:nth-child(2) button`)
		names := func() []string {
			var n []string
			for _, e := range a.entries(t, "gallery") {
				n = append(n, e.Name)
			}
			return n
		}
		if a.mode == "disk" {
			// The POST is aborted: not a failure, and nothing ran.
			is.NoErr(ltbrowser.Wait(a.ctx, "the form no longer busy", `!document.querySelector("#gallery-form").hasAttribute("data-lt-busy")`, `document.querySelector("#gallery-form").outerHTML`))
			is.Equal(names(), []string{"a.png", "c.png"})
			a.valve.release()
			a.awaitStored(t, 0) // the aborted body's files are removed
			a.click(t, `button[name="add_photos"]`)
		} else {
			a.valve.release()
		}
		is.NoErr(ltbrowser.WaitText(a.ctx, "#count", "2 photos"))
		alts, err := ltbrowser.Eval[[]string](a.ctx, `[...document.querySelectorAll("#photos img")].map((i) => i.alt)`)
		is.NoErr(err)
		is.Equal(alts, []string{"c.png", "a.png"})
		failed, err := ltbrowser.Eval[bool](a.ctx, `document.querySelector("[data-lt-failed]") !== null`)
		is.NoErr(err)
		is.True(!failed)
		a.awaitStored(t, 2)
	})
}

// A reset button cancels every file and the upload: nothing is sent (or
// what was is aborted), nothing runs, nothing stays in the store.
func TestBrowserCancelAll(t *testing.T) {
	forModes(t, func(t *testing.T, a *app) {
		is := is.New(t)
		f := newFiles(t)
		a.valve.arm()
		// As in TestBrowserCancelOne, more than the socket buffers hold.
		a.choose(t, "gallery", f.png(t, "a.png", 16<<20), f.png(t, "b.png", 16<<20))
		a.click(t, `button[name="add_photos"]`)
		is.NoErr(a.valve.awaitHeld())
		a.click(t, `#gallery-form button[type="reset"]`)
		is.Equal(len(a.entries(t, "gallery")), 0)
		is.NoErr(ltbrowser.Wait(a.ctx, "the form no longer busy", `!document.querySelector("#gallery-form").hasAttribute("data-lt-busy")`, `document.querySelector("#gallery-form").outerHTML`))
		a.valve.release()
		a.awaitStored(t, 0)
		// The page is still live and shows no photo; another upload works.
		a.choose(t, "gallery", f.png(t, "c.png", 1000))
		a.click(t, `button[name="add_photos"]`)
		is.NoErr(ltbrowser.WaitText(a.ctx, "#count", "1 photos"))
	})
}

// A file over the field's limit, and one whose content is not the type
// its name says, are refused next to their field, with the limit; the
// page stays as it was and the store keeps nothing.
func TestBrowserLimits(t *testing.T) {
	forModes(t, func(t *testing.T, a *app) {
		is := is.New(t)
		f := newFiles(t)
		a.choose(t, "avatar", f.png(t, "huge.png", AvatarMaxBytes+1))
		a.click(t, `button[name="save_avatar"]`)
		want := fmt.Sprintf("avatar: too large (at most %d bytes)", AvatarMaxBytes)
		is.NoErr(ltbrowser.WaitText(a.ctx, "#avatar-list [data-lt-failed] small", want))

		a.choose(t, "gallery", f.write(t, "notes.png", []byte("these are notes, not an image")), f.image(t, "fine.png"))
		a.click(t, `button[name="add_photos"]`)
		is.NoErr(ltbrowser.WaitText(a.ctx, "#gallery-list [data-lt-failed] small", "gallery: type not accepted (text/plain)"))
		av := a.entries(t, "avatar")
		is.Equal(len(av), 1)
		is.Equal(av[0].Failed, want) // still next to its field
		is.Equal(ltText(t, a, "#count"), "0 photos")
		// The store keeps nothing of a refused body; of presigned uploads it
		// keeps fine.png's, which passed its check: lt deletes only what
		// is not what was signed for (the bucket's lifecycle rule expires
		// the rest, docs/uploads.md).
		a.awaitStored(t, map[string]int{"disk": 0, "s3": 1}[a.mode])

		// The user removes the bad file and sends the rest.
		a.click(t, `#gallery-list [data-lt-file]:first-child button`)
		a.click(t, `button[name="add_photos"]`)
		is.NoErr(ltbrowser.WaitText(a.ctx, "#count", "1 photos"))
	})
}

func ltText(t *testing.T, a *app, sel string) string {
	t.Helper()
	s, err := ltbrowser.Text(a.ctx, sel)
	is.New(t).NoErr(err)
	return s
}

// The avatar chosen is previewed before it is sent (an object URL of the
// file itself, rendered), and shown from the server once saved.
func TestBrowserPreview(t *testing.T) {
	forModes(t, func(t *testing.T, a *app) {
		is := is.New(t)
		a.choose(t, "avatar", newFiles(t).image(t, "me.png"))
		is.NoErr(ltbrowser.Wait(a.ctx, "the preview rendered", `(() => { const i = document.querySelector("#avatar-list img"); return i && i.src.startsWith("blob:") && i.complete && i.naturalWidth === 64 })()`, `document.querySelector("#avatar-list").innerHTML`))
		a.click(t, `button[name="save_avatar"]`)
		is.NoErr(ltbrowser.Wait(a.ctx, "the avatar saved", `(() => { const i = document.querySelector("#avatar"); return i && i.complete && i.naturalWidth === 64 })()`, `document.body.innerHTML`))
		is.Equal(len(a.entries(t, "avatar")), 0)
	})
}

// With JavaScript off, both forms are plain multipart forms: the POST
// stores the file and answers 303 to the page, which shows it.
func TestBrowserWithoutJavaScript(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			is := is.New(t)
			a := &app{mode: mode, valve: newValve()}
			var store Store
			if mode == "disk" {
				a.dir = t.TempDir()
				store = diskStore{lt.DiskStore{Dir: a.dir}}
			} else {
				b, err := startBucket(nil)
				is.NoErr(err)
				t.Cleanup(b.Close)
				a.bucket, store = b, b.Store
			}
			router, h, err := newApp(store, mode == "s3", []byte("a test secret of at least 32 bytes, for refs"))
			is.NoErr(err)
			srv := ltbrowser.Serve(t, router, h)
			a.ctx = ltbrowser.New(t)
			is.NoErr(ltbrowser.Do(a.ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
				return err
			})))
			resp, err := ltbrowser.NavigateResponse(a.ctx, chromedp.Navigate(srv.URL+"/"))
			is.NoErr(err)
			is.Equal(resp.Status, int64(http.StatusOK))
			redirected := make(chan int64, 4)
			is.NoErr(chromedp.Listen(a.ctx, func(ev any) {
				if e, ok := ev.(*network.EventRequestWillBeSent); ok && e.Type == network.ResourceTypeDocument && e.RedirectResponse != nil {
					select {
					case redirected <- e.RedirectResponse.Status:
					default:
					}
				}
			}))
			a.choose(t, "gallery", newFiles(t).image(t, "one.png"), newFiles(t).image(t, "two.png"))
			resp, err = ltbrowser.NavigateResponse(a.ctx, chromedp.Click(chromedp.CSS(`button[name="add_photos"]`)))
			is.NoErr(err)
			is.Equal(resp.Status, int64(http.StatusOK))
			is.Equal(<-redirected, int64(http.StatusSeeOther))
			count, err := ltbrowser.DOMText(a.ctx, "#count")
			is.NoErr(err)
			is.Equal(count, "2 photos")
			is.Equal(len(a.stored(t)), 2)
		})
	}
}

// Images dropped on the gallery's zone (drop.js) are listed as if chosen,
// and go up with the form.
func TestBrowserDragAndDrop(t *testing.T) {
	forModes(t, func(t *testing.T, a *app) {
		is := is.New(t)
		f := newFiles(t)
		paths := []string{f.image(t, "one.png"), f.image(t, "two.png")}
		at, err := ltbrowser.Eval[[]float64](a.ctx, `(() => { const r = document.querySelector("#gallery-drop").getBoundingClientRect();
			return [r.left + r.width / 2, r.top + r.height / 2] })()`)
		is.NoErr(err)
		data := &input.DragData{Items: []*input.DragDataItem{}, Files: paths, DragOperationsMask: 1}
		is.NoErr(ltbrowser.Do(a.ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			for _, typ := range []input.DispatchDragEventType{input.DispatchDragEventTypeDragEnter, input.DispatchDragEventTypeDragOver, input.DispatchDragEventTypeDrop} {
				if _, err := cdp.Call(ctx, tg, input.DispatchDragEvent, input.DispatchDragEventParams{Type: typ, X: at[0], Y: at[1], Data: data}); err != nil {
					return err
				}
			}
			return nil
		})))
		is.NoErr(ltbrowser.Wait(a.ctx, "two entries", `document.querySelectorAll("#gallery-list [data-lt-file]").length === 2`, `document.querySelector("#gallery-list").innerHTML`))
		a.click(t, `button[name="add_photos"]`)
		is.NoErr(ltbrowser.WaitText(a.ctx, "#count", "2 photos"))
	})
}
