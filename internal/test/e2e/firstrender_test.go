package e2e

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/ltbrowser"
	"github.com/matryer/is"
)

type earlyState struct{ N int }

// earlyCtrl pushes events from a server action and from OnConnect;
// Barrier, a server action that changes nothing, tells the test that the
// jobs queued on a connection before it have run.
type earlyCtrl struct{ barrier chan struct{} }

func (*earlyCtrl) Tick(s earlyState, ctx *lt.Context) (earlyState, error) {
	s.N++
	return s, ctx.PushEvent("tick", s.N)
}

func (*earlyCtrl) OnConnect(s earlyState, ctx *lt.Context) (earlyState, error) {
	return s, ctx.PushEvent("hello", s.N)
}

func (c *earlyCtrl) Barrier(s earlyState, _ *lt.Context) (earlyState, error) {
	c.barrier <- struct{}{}
	return s, nil
}

const earlyHTML = `<!DOCTYPE html><html><head><title>early</title></head><body><p id="n">{{.N}}</p></body></html>`

// The events of updates a tab never received, because they came between
// its page and its stream, reach its document with the stream's first
// render: here a server action's, made while the browser's stream request
// is held, and OnConnect's. Each is dispatched once, in order, and the
// events of later updates follow.
func TestEventsPushedBeforeTheStream(t *testing.T) {
	is := is.New(t)
	ctrl := &earlyCtrl{barrier: make(chan struct{}, 1)}
	h := lt.Must(lt.New(lt.Must(lt.Parse("early", earlyHTML)), ctrl, earlyState{}))
	arrived, release := make(chan struct{}), make(chan struct{})
	releaseStream := sync.OnceFunc(func() { close(release) })
	t.Cleanup(releaseStream)
	var once sync.Once
	held := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
			once.Do(func() { // the page's first stream only
				close(arrived)
				<-release
			})
		}
		h.ServeHTTP(w, r)
	})
	base := ltbrowser.Serve(t, held, h).URL
	ctx := ltbrowser.New(t)
	is.NoErr(ltbrowser.BeforeScripts(ctx, `window.__got = [];
		for (const n of ["tick", "hello"]) document.addEventListener(n, (e) => __got.push(n + " " + e.detail));`))
	is.NoErr(ltbrowser.Do(ctx, chromedp.Navigate(base+"/")))
	select {
	case <-arrived:
	case <-time.After(ltbrowser.Timeout):
		t.Fatal("the page's stream request did not come")
	}

	// The stream is held: the tab's connection runs a server action.
	is.NoErr(h.TriggerAll(context.Background(), "tick", nil))
	is.NoErr(h.TriggerAll(context.Background(), "barrier", nil))
	select {
	case <-ctrl.barrier: // tick's job, its update included, is done
	case <-time.After(ltbrowser.Timeout):
		t.Fatal("the server action did not run")
	}
	releaseStream()

	is.NoErr(ltbrowser.WaitStatus(ctx, "online"))
	is.NoErr(ltbrowser.WaitText(ctx, "#n", "1"))
	is.NoErr(ltbrowser.Wait(ctx, "the early events", `__got.join() === "tick 1,hello 1"`, `__got.join()`))
	is.NoErr(h.TriggerAll(context.Background(), "tick", nil))
	is.NoErr(ltbrowser.WaitText(ctx, "#n", "2"))
	is.NoErr(ltbrowser.Wait(ctx, "the next event", `__got.join() === "tick 1,hello 1,tick 2"`, `__got.join()`))
}
