package lt

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"runtime"
)

// Funcs returns the template functions lt provides, for templates you parse
// yourself: template.New("page").Funcs(lt.Funcs()).Parse(...). Parse,
// ParseFiles and ParseFS add them for you.
//
//	{{ltError}}  the error of this tab's last action, "" if it succeeded
func Funcs() template.FuncMap {
	// Placeholders: each render binds them to the connection it renders.
	return template.FuncMap{"ltError": func() string { return "" }}
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

// renderers executes the page template with per-render template functions.
// html/template binds functions at parse time, so each renderer is a clone
// whose functions read a slot set before it executes; a small pool keeps
// clones (and the escaping work html/template does on first execution)
// reusable without a clone per connection.
type renderers struct {
	master *template.Template // never executed, so it stays clonable
	pool   chan *renderer
	slots  chan struct{} // tokens for clones not yet made
}

type renderer struct {
	t   *template.Template
	err string
}

func newRenderers(t *template.Template) (*renderers, error) {
	if t == nil {
		return nil, fmt.Errorf("%w: nil template", ErrBadController)
	}
	n := 2 * runtime.GOMAXPROCS(0)
	rs := &renderers{master: t, pool: make(chan *renderer, n), slots: make(chan struct{}, n)}
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
	c.Funcs(template.FuncMap{"ltError": func() string { return r.err }})
	r.t = c
	return r, nil
}

// render executes the page for state, with errMsg as {{ltError}}.
func (rs *renderers) render(buf *bytes.Buffer, state any, errMsg string) error {
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
				return err
			}
		}
	}
	r.err = errMsg
	err := r.t.Execute(buf, state)
	r.err = ""
	rs.pool <- r
	if err != nil {
		return fmt.Errorf("lt: rendering %s: %w", rs.master.Name(), err)
	}
	return nil
}

// page is one rendering split around the live region, which is the content
// of <body> (or all of the output, for a template without a <body>).
type page struct {
	open, region, close []byte
	hasBody             bool
}

func splitPage(out []byte) page {
	start := indexTag(out, "<body", 0)
	if start < 0 {
		return page{region: out}
	}
	gt := bytes.IndexByte(out[start:], '>')
	if gt < 0 {
		return page{region: out}
	}
	inner := start + gt + 1
	end := lastIndexFold(out, []byte("</body"))
	if end < inner {
		end = len(out)
	}
	return page{open: out[:inner], region: out[inner:end], close: out[end:], hasBody: true}
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
	at := lastIndexFold(p.open, []byte("</head"))
	if at < 0 {
		at = indexTag(p.open, "<body", 0)
	}
	buf.Write(p.open[:at])
	buf.WriteString(script)
	buf.Write(p.open[at:])
	buf.Write(p.region)
	buf.Write(p.close)
}

// indexTag finds an opening tag name (like "<body") case-insensitively,
// followed by whitespace, '>' or '/', so that <bodyguard> does not match.
func indexTag(b []byte, tag string, from int) int {
	for i := from; ; {
		j := indexFold(b[i:], []byte(tag))
		if j < 0 {
			return -1
		}
		k := i + j + len(tag)
		if k < len(b) {
			switch b[k] {
			case '>', '/', ' ', '\t', '\n', '\r', '\f':
				return i + j
			}
		}
		i = k
	}
}

func indexFold(b, sub []byte) int {
	for i := 0; i+len(sub) <= len(b); i++ {
		if bytes.EqualFold(b[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

func lastIndexFold(b, sub []byte) int {
	for i := len(b) - len(sub); i >= 0; i-- {
		if bytes.EqualFold(b[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}
