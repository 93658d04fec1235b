// Package lttempl makes live pages of templ components
// (github.com/a-h/templ): a function of the state that returns the page's
// component is all a page needs, beside the controller and the state that
// lt.New takes. It is a thin adapter over lt.NewFunc, which keeps package
// lt free of templ.
//
//	h, err := lttempl.New("todo", views.Page, &Todo{}, State{})
//
// Inside a component, ctx carries the tab's view: { lt.ActionError(ctx) }
// shows the error of the tab's last action, lt.FieldError(ctx, "email")
// and lt.Invalid(ctx, "email") its field errors. Updates are computed from
// the rendered HTML (docs/templ.md): templ escapes every value, lt only
// cuts the output.
package lttempl

import (
	"context"
	"fmt"
	"io"

	"github.com/a-h/templ"
	"github.com/livesse/livesse/lt"
)

// New makes the lt.Handler of the page that view renders for a state:
// view(state) is the page's component, a whole document or a fragment
// (which lt wraps in one). name names the page in logs and metrics. The
// controller, the initial state and the options are lt.New's.
func New[S any](name string, view func(S) templ.Component, controller any, initialState S, opts ...lt.Option) (*lt.Handler, error) {
	if view == nil {
		return nil, fmt.Errorf("lttempl: %w: nil view", lt.ErrBadController)
	}
	return lt.NewFunc(name, Render(view), controller, initialState, opts...)
}

// Render returns the lt.RenderFunc that renders view(state): for
// lt.NewFunc with options of its own, or for tests. It fails, without
// rendering, on a state that is not an S.
func Render[S any](view func(S) templ.Component) lt.RenderFunc {
	return func(ctx context.Context, w io.Writer, state any) error {
		s, ok := state.(S)
		if !ok {
			return fmt.Errorf("lttempl: state is %T, the view takes %T", state, *new(S))
		}
		c := view(s)
		if c == nil {
			return fmt.Errorf("lttempl: the view returned a nil component")
		}
		if err := c.Render(ctx, w); err != nil {
			return fmt.Errorf("lttempl: %w", err)
		}
		return nil
	}
}
