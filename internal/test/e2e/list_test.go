package e2e

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/ltbrowser"
	"github.com/matryer/is"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type listState struct{ Items []int }

type listCtrl struct{}

func (*listCtrl) Top(s listState, ctx *lt.Context) (listState, error) {
	id := ctx.GetInt("id")
	out := []int{id}
	for _, v := range s.Items {
		if v != id {
			out = append(out, v)
		}
	}
	s.Items = out
	return s, nil
}

func (*listCtrl) Remove(s listState, ctx *lt.Context) (listState, error) {
	id := ctx.GetInt("id")
	var out []int
	for _, v := range s.Items {
		if v != id {
			out = append(out, v)
		}
	}
	s.Items = out
	return s, nil
}

func (*listCtrl) Add(s listState, ctx *lt.Context) (listState, error) {
	s.Items = append(s.Items, ctx.GetInt("id"))
	return s, nil
}

const listHTML = `<!DOCTYPE html><html><head><title>list</title></head><body>` +
	`<ul id="list">{{range .Items}}<li id="item-{{.}}">item {{.}}</li>{{end}}</ul></body></html>`

// Keyed list operations reach the page as a morph that keeps the DOM nodes
// of the rows they do not touch: each row is marked with a JavaScript
// property, which only the very same node keeps.
func TestKeyedListKeepsRowNodes(t *testing.T) {
	is := is.New(t)
	h := lt.Must(lt.New(lt.Must(lt.Parse("list", listHTML)), &listCtrl{}, listState{Items: []int{1, 2, 3, 4, 5}}))
	srv := ltbrowser.Serve(t, h, h)
	ctx := ltbrowser.New(t)
	is.NoErr(ltbrowser.Do(ctx, chromedp.Navigate(srv.URL+"/")))
	is.NoErr(ltbrowser.WaitStatus(ctx, "online"))
	_, err := ltbrowser.Eval[chromedp.Void](ctx, `document.querySelectorAll("#list li").forEach((li) => { li.__mark = li.id })`)
	is.NoErr(err)
	sid, err := ltbrowser.Cookie(ctx, srv.URL+"/", "lt_session")
	is.NoErr(err)
	group := lt.AnonymousIdentity(sid).SessionID

	step := func(action string, id int, want string) {
		t.Helper()
		is.NoErr(h.TriggerSession(context.Background(), group, action, map[string]any{"id": id}))
		is.NoErr(waitOrder(ctx, want))
	}
	step("top", 4, "4,1,2,3,5")
	is.NoErr(marksKept(ctx, 5))
	step("remove", 2, "4,1,3,5")
	is.NoErr(marksKept(ctx, 4))
	step("add", 6, "4,1,3,5,6")
	is.NoErr(marksKept(ctx, 4)) // the four old rows are the same nodes; 6 is new
	marked, err := ltbrowser.Eval[bool](ctx, `"__mark" in document.getElementById("item-6")`)
	is.NoErr(err)
	is.True(!marked)
}

// waitOrder waits until the list shows the ids in want, comma-separated.
func waitOrder(ctx context.Context, want string) error {
	order := `Array.from(document.querySelectorAll("#list li")).map((li) => li.id.slice(5)).join(",")`
	return ltbrowser.Wait(ctx, "list order "+want, order+` === "`+want+`"`, order)
}

// marksKept checks that n rows still carry the mark set on their node,
// each its own id.
func marksKept(ctx context.Context, n int) error {
	kept, err := ltbrowser.Eval[int](ctx, `Array.from(document.querySelectorAll("#list li")).filter((li) => li.__mark === li.id).length`)
	if err != nil {
		return err
	}
	if kept != n {
		return fmt.Errorf("%d rows kept their DOM node, want %d", kept, n)
	}
	return nil
}
