package lt

import (
	"errors"
	"fmt"
	"html/template"
	"os"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/livesse/livesse/internal/livetree"
)

// WithDevMode turns on development mode, for a developer's own machine.
// Never use it in production: it shows internal error text to browsers.
//
// In development mode the error of an action, of a lifecycle method or
// of rendering the template is shown where it happened, in the page (in
// {{ltError}}, the POST's answer, the error page of a GET; a template
// that fails to render replaces the page's live region with its error)
// and in the log: the error's text, which for a template names the file
// and line ("template: page.html:12:5: executing ..."), and for a method
// its name and where it is defined, or, for a panic, the file and line
// that panicked. Without it, the default, browsers see "Something went
// wrong" and a reference to the log line, as before.
//
// templateFiles, when given, are the page template's files on disk:
// every WithDevPoll interval (default 500 ms) their modification times
// and sizes are read, and when one changed the files are parsed again
// (into a clone of the template passed to New, so that its functions and
// other templates stay) and every open tab gets a full render with the
// new template. A template that no longer parses is logged and shown on
// the page until the file is fixed. Files are polled on an interval, not
// on each request, so that open pages change without a request, and
// with no dependency beyond the standard library. Pages made by NewFunc
// have no template files: for them only errors are shown.
func WithDevMode(templateFiles ...string) Option {
	return func(o *options) {
		o.dev = true
		o.devFiles = append(o.devFiles, templateFiles...)
	}
}

// WithDevPoll sets how often development mode (WithDevMode) checks the
// template files for changes (default 500 ms).
func WithDevPoll(d time.Duration) Option { return func(o *options) { o.devPoll = d } }

// defaultDevPoll is how often template files are checked by default:
// quicker than a developer switches to the browser, and a few stat(2)
// calls a second.
const defaultDevPoll = 500 * time.Millisecond

// maxDevText bounds the error text development mode shows.
const maxDevText = 4000

// devMode reloads a page's template from its files.
type devMode struct {
	h      *Handler
	base   *template.Template // as passed to New, never executed: each reload parses into a clone
	files  []string
	every  time.Duration
	rs     atomic.Pointer[renderers] // the page's current renderers
	broken atomic.Pointer[error]     // the last reload's error, until one succeeds
	stamps []stamp
	quit   chan struct{}
	done   chan struct{}
	once   sync.Once
}

// stamp is what tells that a file changed.
type stamp struct {
	mod  time.Time
	size int64
	err  bool // could not stat it
}

func stampOf(name string) stamp {
	fi, err := os.Stat(name)
	if err != nil {
		return stamp{err: true}
	}
	return stamp{mod: fi.ModTime(), size: fi.Size()}
}

// startDev starts reloading h's template, base, from the files
// WithDevMode named. It fails when one cannot be read.
func (h *Handler) startDev(base *template.Template) error {
	o := h.opts
	d := &devMode{h: h, base: base, files: o.devFiles, every: o.devPoll, quit: make(chan struct{}), done: make(chan struct{})}
	if d.every <= 0 {
		d.every = defaultDevPoll
	}
	for _, f := range d.files {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("lt: WithDevMode: %w", err)
		}
		d.stamps = append(d.stamps, stampOf(f))
	}
	d.rs.Store(h.rs)
	h.dev = d
	go d.run()
	return nil
}

// run polls the files until stop.
func (d *devMode) run() {
	defer close(d.done)
	t := time.NewTicker(d.every)
	defer t.Stop()
	for {
		select {
		case <-d.quit:
			return
		case <-t.C:
		}
		changed := false
		for i, f := range d.files {
			if s := stampOf(f); s != d.stamps[i] {
				d.stamps[i], changed = s, true
			}
		}
		if changed {
			d.reload()
		}
	}
}

// reload parses the files again and renders every open tab afresh.
func (d *devMode) reload() {
	h := d.h
	rs, err := d.parse()
	if err != nil {
		h.log.Error("lt: development mode: the template does not parse; pages show the error until it is fixed", "err", err)
		d.broken.Store(&err)
	} else {
		h.log.Info("lt: development mode: template reloaded; rendering open pages afresh", "files", d.files)
		d.rs.Store(rs)
		d.broken.Store(nil)
	}
	for _, c := range h.all("") {
		_ = c.enqueue(c.reloaded) // a connection that cannot take it is ending
	}
}

// parse makes renderers for the files as they are now.
func (d *devMode) parse() (*renderers, error) {
	t, err := d.base.Clone()
	if err != nil {
		return nil, fmt.Errorf("lt: development mode: %w", err)
	}
	if _, err := t.ParseFiles(d.files...); err != nil {
		return nil, fmt.Errorf("lt: development mode: %w", err)
	}
	return newRenderers(t)
}

// stop ends the polling; it may be called more than once.
func (d *devMode) stop() {
	d.once.Do(func() { close(d.quit) })
	<-d.done
}

// tpl returns the page's renderers: the latest reload's in development
// mode.
func (h *Handler) tpl() *renderers {
	if h.dev != nil {
		return h.dev.rs.Load()
	}
	return h.rs
}

// render is rs.render, except that in development mode a template that
// failed to reload is the error.
func (h *Handler) render(rs *renderers, state any, v view) (*livetree.Frag, []byte, error) {
	if h.dev != nil {
		if err := h.dev.broken.Load(); err != nil {
			return nil, nil, *err
		}
	}
	return rs.render(state, v)
}

// reloaded is a job: the tab's page is rendered afresh with the template
// as it is now, and sent whole. The client's statics are forgotten: the
// new template's come with the render.
func (c *conn) reloaded() {
	rs := c.h.tpl()
	c.mu.Lock()
	c.enc = livetree.NewEncoder(rs.st)
	c.tree, c.fallback = nil, nil
	c.mu.Unlock()
	c.publish(view{}, true, nil, nil)
}

// devErrorHTML is what the live region shows in development mode when
// the page cannot render.
func devErrorHTML(err error) []byte {
	return []byte(`<pre class="lt-dev-error" style="white-space:pre-wrap;color:#a00">` +
		template.HTMLEscapeString(clip(err.Error(), maxDevText)) + `</pre>`)
}

// devError is an action's or lifecycle method's error with where it
// happened, in development mode.
type devError struct {
	where string
	err   error
}

func (e *devError) Error() string { return e.where + ": " + e.err.Error() }
func (e *devError) Unwrap() error { return e.err }

// devWrap adds to err, the error of method m, where it happened: the
// line that panicked, or where m is defined. Only in development mode.
func (h *Handler) devWrap(m reflect.Method, err error) error {
	if err == nil || !h.opts.dev {
		return err
	}
	if pe := (*panicError)(nil); errors.As(err, &pe) {
		if at := panicSite(pe.stack); at != "" {
			return &devError{where: "panic at " + at, err: err}
		}
		return err
	}
	where := m.Name
	if fn := runtime.FuncForPC(m.Func.Pointer()); fn != nil {
		file, line := fn.FileLine(fn.Entry())
		where = fmt.Sprintf("%s (%s:%d)", m.Name, file, line)
	}
	return &devError{where: where, err: err}
}

// panicSite finds, in a stack from debug.Stack taken in a recover, the
// file and line of the frame that panicked: the first after the runtime's
// panic function.
func panicSite(stack []byte) string {
	lines := strings.Split(string(stack), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "panic(") && i+3 < len(lines) {
			at := strings.TrimSpace(lines[i+3])
			if j := strings.LastIndex(at, " +0x"); j > 0 {
				at = at[:j]
			}
			return at
		}
	}
	return ""
}

// devText is what development mode shows of an internal error.
func devText(err error, ref string) string {
	return clip(err.Error(), maxDevText) + " (ref " + ref + ")"
}
