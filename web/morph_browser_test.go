package web_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/matryer/is"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/ltbrowser"
)

type morphState struct {
	Items []int
	Extra bool
}

type morphCtrl struct{}

// Top moves item id to the top of the list.
func (*morphCtrl) Top(s morphState, ctx *lt.Context) (morphState, error) {
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

// Extra shows scripts and an SVG chart.
func (*morphCtrl) Extra(s morphState, _ *lt.Context) (morphState, error) {
	s.Extra = true
	return s, nil
}

const morphHTML = `<!DOCTYPE html><html><head><title>morph</title></head><body>` +
	`<ul id="list">{{range .Items}}<li id="i{{.}}"><input name="f{{.}}"><iframe srcdoc="item {{.}}"></iframe></li>{{end}}</ul>` +
	`{{if .Extra}}<script>window.ran = true</script><script src="/ran.js"></script>` +
	`<svg id="chart" viewBox="0 0 10 10"><circle r="4" cx="5" cy="5"></circle></svg><p id="extra">extra</p>{{end}}` +
	`</body></html>`

// The client's morph in Chromium: a moved list item keeps its node, the
// focus, value and selection of the field typed in inside it, and its
// iframe's document (moveBefore); scripts an update inserts neither run
// nor load; an SVG an update inserts is SVG.
func TestMorphInChromium(t *testing.T) {
	is := is.New(t)
	h := lt.Must(lt.New(lt.Must(lt.Parse("morph", morphHTML)), &morphCtrl{}, morphState{Items: []int{1, 2, 3}}))
	var loads atomic.Int32
	mux := http.NewServeMux()
	mux.Handle("/{$}", h)
	mux.HandleFunc("/ran.js", func(w http.ResponseWriter, _ *http.Request) {
		loads.Add(1)
		w.Header().Set("Content-Type", "text/javascript")
		_, _ = w.Write([]byte("window.ranSrc = true"))
	})
	srv := ltbrowser.Serve(t, mux, h)
	ctx := ltbrowser.New(t)
	is.NoErr(ltbrowser.Do(ctx, chromedp.Navigate(srv.URL+"/")))
	is.NoErr(ltbrowser.WaitStatus(ctx, "online"))
	sid, err := ltbrowser.Cookie(ctx, srv.URL+"/", "lt_session")
	is.NoErr(err)
	group := lt.AnonymousIdentity(sid).SessionID

	is.NoErr(ltbrowser.Do(ctx, ltbrowser.SendKeys(`[name=f3]`, "typing")))
	_, err = ltbrowser.Eval[chromedp.Void](ctx, `(() => {
		const li = document.querySelector("#i3");
		li.mark = "kept";
		li.querySelector("iframe").contentWindow.mark = "kept";
		li.querySelector("input").setSelectionRange(1, 3);
	})()`)
	is.NoErr(err)
	is.NoErr(h.TriggerSession(context.Background(), group, "top", map[string]any{"id": 3}))
	order := `Array.from(document.querySelectorAll("#list li")).map((li) => li.id).join()`
	is.NoErr(ltbrowser.Wait(ctx, "i3 on top", order+` === "i3,i1,i2"`, order))
	type moved struct {
		Node, Frame, Focused, Value string
		Start, End                  int
	}
	got, err := ltbrowser.Eval[moved](ctx, `((li, f) => ({Node: li.mark, Frame: li.querySelector("iframe").contentWindow.mark,
		Focused: document.activeElement.name, Value: f.value, Start: f.selectionStart, End: f.selectionEnd}))(document.querySelector("#i3"), document.querySelector("[name=f3]"))`)
	is.NoErr(err)
	is.Equal(got, moved{Node: "kept", Frame: "kept", Focused: "f3", Value: "typing", Start: 1, End: 3})

	is.NoErr(h.TriggerSession(context.Background(), group, "extra", nil))
	is.NoErr(ltbrowser.WaitText(ctx, "#extra", "extra"))
	time.Sleep(300 * time.Millisecond) // a script that ran or loaded would have by now
	ran, err := ltbrowser.Eval[[]bool](ctx, `[window.ran === undefined, window.ranSrc === undefined, document.querySelectorAll("script:not([data-lt-conn])").length === 2]`)
	is.NoErr(err)
	is.Equal(ran, []bool{true, true, true})
	is.Equal(loads.Load(), int32(0))
	svg, err := ltbrowser.Eval[[]any](ctx, `((c) => [c.namespaceURI, c.getBBox().width])(document.querySelector("#chart circle"))`)
	is.NoErr(err)
	is.Equal(svg, []any{"http://www.w3.org/2000/svg", float64(8)})
}
