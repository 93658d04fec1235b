package lt

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"reflect"
	"runtime"

	"github.com/livesse/livesse/internal/livetree"
)

// Funcs returns the template functions lt provides, for templates you parse
// yourself: template.New("page").Funcs(lt.Funcs()).Parse(...). Parse,
// ParseFiles and ParseFS add them for you.
//
//	{{ltError}}              the error of this tab's last action, "" if it succeeded
//	{{ltFieldError "email"}} the message of the field errors (FieldErrors) for field email, "" if none
//	{{ltInvalid "email"}}    whether field email has one: aria-invalid="{{ltInvalid "email"}}"
//	{{ltFlash}}              this render's flashes (Context.Flash): {{range ltFlash}}{{.Kind}} {{.Message}}{{end}}
//	{{ltList "feed"}}        the items Mount and Params put in the live list feed, in the page they render (Context.List)
func Funcs() template.FuncMap {
	// Placeholders: each render binds them to the connection it renders.
	return viewFuncs(&view{})
}

// Parse parses text as a page template named name, with Funcs available.
func Parse(name, text string) (*template.Template, error) {
	return template.New(name).Funcs(Funcs()).Parse(text)
}

// ParseFiles parses the named files with Funcs available. The first file is
// the page that is rendered; the others can hold {{define}}d parts.
func ParseFiles(filenames ...string) (*template.Template, error) {
	if len(filenames) == 0 {
		return nil, fmt.Errorf("lt: ParseFiles needs at least one file")
	}
	return template.New(baseName(filenames[0])).Funcs(Funcs()).ParseFiles(filenames...)
}

// ParseFS is ParseFiles for an fs.FS such as an embed.FS. The first file
// matched by the first pattern is the page that is rendered.
func ParseFS(fsys fs.FS, patterns ...string) (*template.Template, error) {
	if len(patterns) == 0 {
		return nil, fmt.Errorf("lt: ParseFS needs at least one pattern")
	}
	names, err := fs.Glob(fsys, patterns[0])
	if err != nil || len(names) == 0 {
		return nil, fmt.Errorf("lt: ParseFS: pattern %q matches no file (%v)", patterns[0], err)
	}
	return template.New(baseName(names[0])).Funcs(Funcs()).ParseFS(fsys, patterns...)
}

func baseName(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' || p[i] == '\\' {
			return p[i+1:]
		}
	}
	return p
}

// Must panics if err is not nil and returns v otherwise, for package-level
// setup: lt.Must(lt.ParseFS(files, "*.html")), lt.Must(lt.New(...)).
func Must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// renderers executes the page template with per-render template functions,
// instrumented for statics/dynamics splitting. html/template binds
// functions at parse time, so each renderer is a clone whose functions read
// a slot set before it executes; a small pool keeps clones (and the
// escaping and instrumenting done on first use) reusable without a clone
// per connection.
type renderers struct {
	master *template.Template // never executed, so it stays clonable
	pool   chan *renderer
	slots  chan struct{} // tokens for clones not yet made
	nonce  string        // shared by every clone's markers
	st     *livetree.Statics
	in     *livetree.Interner // makes equal renders, and their equal parts, one tree
	fn     *funcRenderer      // NewFunc's page instead of a template (renderfunc.go)
	list   listTemplate       // renders list items (list.go)
}

type renderer struct {
	t     *template.Template
	v     view            // what the funcs of Funcs show
	marks *livetree.Marks // nil until first use
}

func newRenderers(t *template.Template) (*renderers, error) {
	if t == nil {
		return nil, fmt.Errorf("%w: nil template", ErrBadController)
	}
	n := 2 * runtime.GOMAXPROCS(0)
	rs := &renderers{master: t, pool: make(chan *renderer, n), slots: make(chan struct{}, n),
		nonce: livetree.NewNonce(), st: livetree.NewStatics(), in: livetree.NewInterner()}
	for range n - 1 {
		rs.slots <- struct{}{}
	}
	// Make one now: it reports a template that cannot be cloned (already
	// executed) at New instead of at the first request.
	r, err := rs.clone()
	if err != nil {
		return nil, err
	}
	rs.pool <- r
	return rs, nil
}

// clone makes a renderer; the caller holds a slot token for it.
func (rs *renderers) clone() (*renderer, error) {
	c, err := rs.master.Clone()
	if err != nil {
		return nil, fmt.Errorf("lt: cloning page template (pass a template that has not been executed): %w", err)
	}
	r := &renderer{}
	c.Funcs(viewFuncs(&r.v))
	r.t = c
	return r, nil
}

// render executes the page for state, with v as {{ltError}} and the other
// funcs of the tab's view, and returns its tree, or (when the output does
// not split, see livetree.ErrMarkers) nil and the plain HTML. The tree is
// interned: equal to every other render's that is still in use, it is the
// same tree, and its parts equal to theirs are the same parts, so that a
// connection holds only what differs from the others (issue 16). No one
// changes a tree once rendered.
func (rs *renderers) render(state any, v view) (*livetree.Frag, []byte, error) {
	var tree *livetree.Frag
	var plain []byte
	var err error
	if rs.fn != nil {
		tree, plain, err = rs.fn.render(state, v)
	} else {
		tree, plain, err = rs.split(state, v)
	}
	return rs.in.Intern(tree), plain, err
}

// split is render for a template, before interning.
func (rs *renderers) split(state any, v view) (*livetree.Frag, []byte, error) {
	var r *renderer
	select {
	case r = <-rs.pool:
	default:
		select {
		case r = <-rs.pool:
		case <-rs.slots:
			var err error
			if r, err = rs.clone(); err != nil {
				rs.slots <- struct{}{}
				return nil, nil, err
			}
		}
	}
	defer func() { rs.pool <- r }()
	r.v = v
	defer func() { r.v = view{} }()
	var buf bytes.Buffer
	if r.marks == nil {
		// The first execution escapes the clone's trees; only then can
		// markers go in without being escaped themselves. It runs on the
		// zero state, whose output is thrown away and whose execution
		// errors do not matter (escaping comes before execution), so that
		// template functions see each real state once per render.
		var escErr *template.Error
		if err := r.t.Execute(io.Discard, zeroOf(state)); errors.As(err, &escErr) {
			return nil, nil, fmt.Errorf("lt: rendering %s: %w", rs.master.Name(), err)
		}
		marks, err := livetree.Instrument(r.t, rs.nonce)
		if err != nil {
			return nil, nil, fmt.Errorf("lt: instrumenting %s: %w", rs.master.Name(), err)
		}
		r.marks = marks
	}
	if err := r.t.Execute(&buf, state); err != nil {
		return nil, nil, fmt.Errorf("lt: rendering %s: %w", rs.master.Name(), err)
	}
	tree, err := r.marks.Parse(buf.Bytes(), rs.st)
	if err != nil {
		return nil, livetree.Strip(buf.Bytes(), rs.nonce), nil
	}
	return tree, nil, nil
}

// zeroOf returns the zero value of v's type.
func zeroOf(v any) any {
	if v == nil {
		return nil
	}
	return reflect.Zero(reflect.TypeOf(v)).Interface()
}

// page is one rendering split around the live region, which is the content
// of <body> (or all of the output, for a template without a <body>).
type page struct {
	open, region, close []byte
	hasBody             bool
}

func splitPage(out []byte) page {
	start, end, hasBody := livetree.Region(out)
	if !hasBody {
		return page{region: out}
	}
	return page{open: out[:start], region: out[start:end], close: out[end:], hasBody: true}
}

// writeDocument writes the full HTML document with script inserted in its
// head: before </head>, else before <body>, else in a minimal document
// wrapped around a template that renders only a fragment.
func (p page) writeDocument(buf *bytes.Buffer, script string) {
	if !p.hasBody {
		buf.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">")
		buf.WriteString(script)
		buf.WriteString("</head><body>")
		buf.Write(p.region)
		buf.WriteString("</body></html>\n")
		return
	}
	at := livetree.LastIndexFold(p.open, []byte("</head"))
	if at < 0 {
		at = livetree.IndexTag(p.open, "<body")
	}
	buf.Write(p.open[:at])
	buf.WriteString(script)
	buf.Write(p.open[at:])
	buf.Write(p.region)
	buf.Write(p.close)
}
