package lt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/livesse/livesse/internal/livetree"
)

// RenderFunc writes the HTML of a page for a state: a whole document, or
// a fragment that lt wraps in one (as for a template without <body>). It
// must escape what it writes (templ does), write the same HTML for the
// same state and view, and be safe for concurrent use. ctx carries the
// tab's view, which ActionError, FieldError and Invalid read; it is not
// the request's context and is never cancelled.
type RenderFunc func(ctx context.Context, w io.Writer, state any) error

// NewFunc makes the Handler for a page that render writes, with the same
// controller, lifecycle, server actions, sessions, instances and
// JavaScript-free behaviour as New gives a template. Package lt/lttempl
// makes a RenderFunc of a templ component.
//
// Updates are computed from the HTML alone, without template markers: lt
// splits each render into statics and values (text nodes and attribute
// values), learns from consecutive renders which elements' children vary,
// and sends only the values and list operations that changed, in the
// format a template's page uses (docs/templ.md). name names the page in
// logs and metrics, as a template's name does (WithName overrides it).
func NewFunc(name string, render RenderFunc, controller any, initialState any, opts ...Option) (*Handler, error) {
	if render == nil {
		return nil, fmt.Errorf("%w: nil RenderFunc", ErrBadController)
	}
	return newHandler(func() (*renderers, error) {
		st := livetree.NewStatics()
		return &renderers{st: st, in: livetree.NewInterner(), fn: &funcRenderer{name: name, write: render, learner: livetree.NewLearner(st, 0)}}, nil
	}, controller, initialState, opts...)
}

// funcRenderer renders NewFunc's pages and splits them with a Learner of
// the page's own.
type funcRenderer struct {
	name    string
	write   RenderFunc
	learner *livetree.Learner
	bufs    sync.Pool // *bytes.Buffer
}

// viewKey is the context key of a render's view.
type viewKey struct{}

// render is renderers.render for a RenderFunc.
func (f *funcRenderer) render(state any, v view) (tree *livetree.Frag, plain []byte, err error) {
	buf, _ := f.bufs.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	defer func() {
		if buf.Cap() <= 1<<20 {
			buf.Reset()
			f.bufs.Put(buf)
		}
	}()
	if err := f.call(context.WithValue(context.Background(), viewKey{}, &v), buf, state); err != nil {
		return nil, nil, fmt.Errorf("lt: rendering %s: %w", f.name, err)
	}
	tree, err = f.learner.Split(buf.Bytes())
	if errors.Is(err, livetree.ErrShapes) {
		return nil, bytes.Clone(buf.Bytes()), nil // sent as HTML
	}
	if err != nil {
		return nil, nil, fmt.Errorf("lt: splitting %s: %w", f.name, err)
	}
	return tree, nil, nil
}

// call runs the RenderFunc, turning a panic into an error as
// html/template does for its functions.
func (f *funcRenderer) call(ctx context.Context, w io.Writer, state any) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return f.write(ctx, w, state)
}

// name is the page's name, for logs and metrics.
func (rs *renderers) name() string {
	if rs.fn != nil {
		return rs.fn.name
	}
	return rs.master.Name()
}

func viewOf(ctx context.Context) *view {
	if v, ok := ctx.Value(viewKey{}).(*view); ok {
		return v
	}
	return &view{}
}

// ActionError returns, in a RenderFunc, the error of this tab's last
// action, "" if it succeeded: what {{ltError}} shows in a template. It is
// the text for users (a UserError's, or a generic message with a log
// reference), not yet escaped. Outside a render it returns "".
func ActionError(ctx context.Context) string { return viewOf(ctx).err }

// FieldError returns, in a RenderFunc, the message of the field errors
// (FieldErrors) the last action returned for field, "" if none: what
// {{ltFieldError "field"}} shows in a template.
func FieldError(ctx context.Context, field string) string {
	m, _ := viewOf(ctx).fields.lookup(field)
	return m
}

// Invalid reports, in a RenderFunc, whether field has a field error to
// show: what {{ltInvalid "field"}} reports in a template.
func Invalid(ctx context.Context, field string) bool {
	_, ok := viewOf(ctx).fields.lookup(field)
	return ok
}
