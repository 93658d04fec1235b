// Package ltbrowser runs livesse pages in a real headless Chromium for
// tests, with chromedp: one browser per test, tabs that share its cookies,
// the app served on a loopback httptest.Server, and bounded waits that
// poll inside the page.
//
//	srv := ltbrowser.Serve(t, router, h)
//	ctx := ltbrowser.New(t)
//	err := ltbrowser.Do(ctx, chromedp.Navigate(srv.URL+"/"))
//	err = ltbrowser.WaitText(ctx, "#count", "0")
//
// Chromium is found at $LIVESSE_CHROMIUM, else /usr/bin/chromium, else as
// chromium on the PATH. Without it the tests are skipped, except under
// CI=true, where a missing browser fails them.
package ltbrowser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/livesse/livesse/lt"
)

// Timeout bounds every wait and every action run through this package.
const Timeout = 10 * time.Second

// startTimeout bounds starting the browser and opening a tab.
const startTimeout = 30 * time.Second

// closeTimeout bounds a graceful browser shutdown before it is killed.
const closeTimeout = 10 * time.Second

// Chromium returns the path of the Chromium binary the tests use, or an
// error saying why there is none.
func Chromium() (string, error) {
	if p := os.Getenv("LIVESSE_CHROMIUM"); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			return "", fmt.Errorf("LIVESSE_CHROMIUM=%s is not an executable: %v", p, err)
		}
		return p, nil
	}
	const debian = "/usr/bin/chromium"
	if _, err := exec.LookPath(debian); err == nil {
		return debian, nil
	}
	p, err := exec.LookPath("chromium")
	if err != nil {
		return "", fmt.Errorf("no Chromium: not at /usr/bin/chromium nor on PATH, and LIVESSE_CHROMIUM is unset")
	}
	return p, nil
}

// allocatorOptions are the flags the browser runs with. They replace
// chromedp's defaults on purpose: the networking switches keep Chromium from
// stalling on background requests in a closed network (no component updates,
// no sync, no QUIC probes), and the profile lives in a fresh directory.
func allocatorOptions(execPath, userDataDir string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(execPath),
		chromedp.UserDataDir(userDataDir),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-client-side-phishing-detection", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		// Several tabs update at once in these tests: none may be
		// throttled for being in the background.
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
	}
}

// New starts a fresh headless Chromium for the test and returns the
// chromedp context of its first tab. The browser has its own profile in
// t.TempDir(); it is closed when the test ends, and the cleanup waits for
// its process to exit. New skips the test when there is no Chromium,
// unless CI=true, where it fails it.
func New(t testing.TB) context.Context {
	t.Helper()
	return start(t)
}

// start is New with extra flags for the browser.
func start(t testing.TB, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	path, err := Chromium()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("ltbrowser: %v; install it with apt-get install chromium (or set LIVESSE_CHROMIUM)", err)
		}
		t.Skipf("ltbrowser: skipping browser test: %v (apt-get install chromium, or set LIVESSE_CHROMIUM)", err)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(allocatorOptions(path, t.TempDir()), extra...)...)
	logf := &testLog{t: t}
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithErrorf(logf.logf))
	// Registered before the browser starts so that a failed start cleans
	// up too. t.TempDir's own cleanup was registered earlier, so it runs
	// after the browser is gone.
	t.Cleanup(func() {
		defer logf.stop()
		cctx, ccancel := context.WithTimeout(ctx, closeTimeout)
		defer ccancel()
		if err := chromedp.Cancel(cctx); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, chromedp.ErrInvalidContext) {
			t.Logf("ltbrowser: closing the browser: %v", err)
		}
		cancel()      // waits until the browser process has exited
		cancelAlloc() // waits for the allocator's goroutines
	})
	// The first Do starts the browser and binds it to ctx, so it must not
	// run under a timeout; a watchdog bounds it instead.
	if err := startBounded(ctx, cancel, "start the browser"); err != nil {
		t.Fatalf("ltbrowser: %s: %v", path, err)
	}
	return ctx
}

// testLog passes chromedp's error log to t.Logf until the test's cleanup
// is over; a log call after the test has ended would panic.
type testLog struct {
	t    testing.TB
	mu   sync.Mutex
	done bool
}

func (l *testLog) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		l.t.Logf("chromedp: "+format, args...)
	}
}

func (l *testLog) stop() {
	l.mu.Lock()
	l.done = true
	l.mu.Unlock()
}

// NewTab opens another tab in the browser of browserCtx (from New) and
// returns its context. Like a second tab of a real browser it shares the
// browser's cookies, so it is in the same livesse session. Each tab
// has its own window, so it is never hidden behind another and keeps
// rendering. The tab is closed when the test ends, before the browser.
func NewTab(t testing.TB, browserCtx context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browserCtx)
	t.Cleanup(cancel) // closes the tab and waits for it
	if err := startBounded(ctx, cancel, "open a tab"); err != nil {
		t.Fatalf("ltbrowser: %v", err)
	}
	return ctx
}

// startBounded runs the first (empty) Do on ctx, which attaches its browser
// and tab for the life of ctx, and cancels ctx if that takes over
// startTimeout.
func startBounded(ctx context.Context, cancel context.CancelFunc, what string) error {
	stuck := time.AfterFunc(startTimeout, cancel)
	err := chromedp.Do(ctx)
	if !stuck.Stop() {
		return fmt.Errorf("could not %s within %v: %v", what, startTimeout, err)
	}
	if err != nil {
		return fmt.Errorf("could not %s: %w", what, err)
	}
	return nil
}

// Serve serves router on a new loopback httptest.Server for the test. When
// the test ends it closes h first, so that the live pages' event streams
// end and OnDisconnect runs, and then the server, which waits for its
// requests to finish.
func Serve(t testing.TB, router http.Handler, h *lt.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(router) // listens on 127.0.0.1
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Errorf("ltbrowser: closing the live handler: %v", err)
		}
		srv.Close()
	})
	return srv
}

// BeforeScripts has the tab of ctx run js at the start of every document
// it loads from now on, before the page's own scripts and outside its
// Content-Security-Policy: where a test sets up the listeners that must
// hear a page from its first moment (its first render, a CSP violation).
func BeforeScripts(ctx context.Context, js string) error {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: js})
	if err != nil {
		return fmt.Errorf("ltbrowser: adding a script before the page's: %w", err)
	}
	return nil
}

// Do runs actions in the tab of ctx, in order, within Timeout.
func Do(ctx context.Context, actions ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	return chromedp.Do(ctx, actions...)
}

// Eval evaluates the JavaScript expression js in the page of ctx within
// Timeout and decodes its value into a T. A promise is awaited.
func Eval[T any](ctx context.Context, js string) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		return v, fmt.Errorf("evaluating %s: %w", js, err)
	}
	return v, nil
}

// Wait polls the JavaScript expression cond in the page of ctx, on every
// animation frame, until it is truthy, for at most Timeout. When the time
// runs out it returns an error that names what was awaited (what) and the
// current value of the JavaScript expression show, which should describe
// what the page shows instead.
func Wait(ctx context.Context, what, cond, show string) error {
	deadline := time.Now().Add(Timeout)
	var err error
	for {
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		pctx, cancel := context.WithTimeout(ctx, left+2*time.Second)
		_, err = chromedp.Run(pctx, chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingTimeout(left)))
		cancel()
		// A navigation (a form post's redirect, a reload) destroys the
		// page's JavaScript context under a running poll: poll again in the
		// new page, within the same bound.
		if err == nil || !contextGone(err) {
			break
		}
	}
	if err == nil {
		return nil
	}
	got := "(unknown)"
	if s, serr := Eval[string](ctx, "String("+show+")"); serr == nil {
		got = s
	}
	return fmt.Errorf("waiting for %s: %w; the page shows %s", what, err, got)
}

// contextGone reports whether err says the page's JavaScript context went
// away under an evaluation, as it does during a navigation.
func contextGone(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "Cannot find context with specified id") ||
		strings.Contains(msg, "Execution context was destroyed")
}

// WaitText waits until the text content of the first element matching the
// CSS selector sel, trimmed, is want. On failure the error shows the
// element's current text.
func WaitText(ctx context.Context, sel, want string) error {
	el := "document.querySelector(" + jsString(sel) + ")"
	return Wait(ctx, fmt.Sprintf("%s to read %q", sel, want),
		fmt.Sprintf("((e) => e !== null && e.textContent.trim() === %s)(%s)", jsString(want), el),
		textOf(el))
}

// WaitTextContains waits until the text content of the first element
// matching sel contains want.
func WaitTextContains(ctx context.Context, sel, want string) error {
	el := "document.querySelector(" + jsString(sel) + ")"
	return Wait(ctx, fmt.Sprintf("%s to contain %q", sel, want),
		fmt.Sprintf("((e) => e !== null && e.textContent.includes(%s))(%s)", jsString(want), el),
		textOf(el))
}

// WaitStatus waits until the livesse client reports status ("connecting",
// "online" or "offline") in <html data-lt-status>.
func WaitStatus(ctx context.Context, status string) error {
	return Wait(ctx, "data-lt-status="+status,
		"document.documentElement.dataset.ltStatus === "+jsString(status),
		`"data-lt-status=" + JSON.stringify(document.documentElement.dataset.ltStatus)`)
}

// Open loads pageURL in the tab of ctx and waits until its page is live
// (the client reports "online"), so that a click after it is handled by
// the client, not posted as a plain form.
func Open(ctx context.Context, pageURL string) error {
	if err := Do(ctx, chromedp.Navigate(pageURL)); err != nil {
		return err
	}
	return WaitStatus(ctx, "online")
}

// SendKeys focuses the first node sel selects, once it is visible, and
// types text into it key by key, as chromedp.SendKeys does for anything
// but a file input. Use it instead of chromedp's on live pages:
// chromedp v0.23.0 reads the node's attributes without its lock
// (query.go:1293) while the page may be changing them (the client marks
// a field busy as it sends), which the race detector reports.
func SendKeys[S chromedp.Selectable](sel S, text string, opts ...chromedp.QueryOption) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(chromedp.Focus(sel, append(opts, chromedp.NodeVisible)...), chromedp.KeyEvent(text))
}

// Text returns the trimmed text content of the first element matching the
// CSS selector sel, or an error if there is none.
func Text(ctx context.Context, sel string) (string, error) {
	s, err := Eval[*string](ctx, fmt.Sprintf("((e) => e === null ? null : e.textContent.trim())(document.querySelector(%s))", jsString(sel)))
	if err != nil {
		return "", err
	}
	if s == nil {
		return "", fmt.Errorf("no element matches %s", sel)
	}
	return *s, nil
}

// Cookie returns the value of the cookie name that the browser of ctx
// sends to pageURL, HttpOnly cookies included.
func Cookie(ctx context.Context, pageURL, name string) (string, error) {
	cctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	res, err := chromedp.Call(cctx, network.GetCookies, network.GetCookiesParams{URLs: []string{pageURL}})
	if err != nil {
		return "", err
	}
	var names []string
	for _, c := range res.Cookies {
		if c.Name == name {
			return c.Value, nil
		}
		names = append(names, c.Name)
	}
	return "", fmt.Errorf("no cookie %q for %s (cookies: %s)", name, pageURL, strings.Join(names, ", "))
}

// textOf is a JavaScript expression describing the text of the element
// expression el, for failure messages.
func textOf(el string) string {
	return fmt.Sprintf(`((e) => e === null ? "no such element" : "text " + JSON.stringify(e.textContent.trim()))(%s)`, el)
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s) // a string always encodes
	return string(b)
}

// NewDevice opens a tab in a new browser context of the browser of
// browserCtx: a device of its own, with its own cookies.
func NewDevice(t testing.TB, browserCtx context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	// The first Do attaches the tab to ctx for its whole life, so it must
	// not run under a timeout; a watchdog bounds it instead.
	stuck := time.AfterFunc(30*time.Second, cancel)
	err := chromedp.Do(ctx)
	if !stuck.Stop() || err != nil {
		t.Fatalf("ltbrowser: opening a browser context: %v", err)
	}
	return ctx
}

// FillAndClick sets form fields (by CSS selector; a checkbox or radio is
// checked by any non-empty value) and clicks button, all in one task of
// the page, as a quick user would: no update can land in between.
func FillAndClick(button string, fields map[string]string) chromedp.Action[chromedp.Void] {
	f, _ := json.Marshal(fields) // strings always encode
	b, _ := json.Marshal(button)
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`((fields, button) => {
		for (const [sel, v] of Object.entries(fields)) {
			const el = document.querySelector(sel);
			if (el.type === "checkbox" || el.type === "radio") el.checked = v !== "";
			else el.value = v;
		}
		document.querySelector(button).click();
	})(%s, %s)`, f, b))
}
