package main

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/livesse/livesse/lt/ltbrowser"
	"github.com/matryer/is"
	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind: no export job
// may outlive its tab.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBrowserExportProgressCompleteAndFailed(t *testing.T) {
	is := is.New(t)
	logs := ltbrowser.NewLogs("cause")
	router, h, err := newRouter(&Exporter{Steps: 10, StepDelay: 20 * time.Millisecond, Log: logs.Logger()})
	is.NoErr(err)
	srv := ltbrowser.Serve(t, router, h)

	ctx := ltbrowser.New(t)
	is.NoErr(ltbrowser.Do(ctx, chromedp.Navigate(srv.URL+"/")))
	is.NoErr(ltbrowser.WaitStatus(ctx, "online"))
	// Record the progress bar's value after every live update.
	_, err = ltbrowser.Eval[chromedp.Void](ctx, `window.__progress = [];
		document.addEventListener("lt:update", () => {
			const p = document.querySelector("#progress");
			if (p) window.__progress.push(Number(p.value));
		})`)
	is.NoErr(err)

	is.NoErr(ltbrowser.Do(ctx, chromedp.Click(chromedp.ID("start"))))
	is.NoErr(ltbrowser.WaitTextContains(ctx, "#status", "Complete"))
	is.NoErr(logs.Await("export complete"))
	progress, err := ltbrowser.Eval[[]int](ctx, `window.__progress`)
	is.NoErr(err)
	t.Logf("progress seen: %v", progress)
	is.Equal(progress[len(progress)-1], 100) // the bar ends full
	between := 0
	for i, p := range progress {
		if p > 0 && p < 100 {
			between++
		}
		if i > 0 && p < progress[i-1] {
			t.Fatalf("progress went backwards: %v", progress)
		}
	}
	is.True(between >= 3) // and was seen on its way, step by step

	// The download is there for this browser's session, and for nobody else.
	href, err := ltbrowser.Eval[string](ctx, `document.querySelector("#download").href`)
	is.NoErr(err)
	csv, err := ltbrowser.Eval[string](ctx, `fetch(`+jsString(href)+`).then((r) => r.text())`)
	is.NoErr(err)
	is.True(strings.HasPrefix(csv, "id,item,quantity\n1,item-1,2\n"))
	is.Equal(strings.Count(csv, "\n"), 1+10*100) // a header and ten batches of rows
	resp, err := http.Get(href)                  // no session cookie
	is.NoErr(err)
	resp.Body.Close()
	is.Equal(resp.StatusCode, http.StatusNotFound)

	// "Make it fail": the job fails two thirds of the way.
	is.NoErr(ltbrowser.Do(ctx, ltbrowser.FillAndClick("#start", map[string]string{"#fail": "on"})))
	is.NoErr(ltbrowser.WaitText(ctx, "#status", "Failed: disk quota exceeded after 600 rows (you asked for it)"))
	is.NoErr(logs.Await("export failed"))
	checked, err := ltbrowser.Eval[bool](ctx, `document.querySelector("#fail").checked`)
	is.NoErr(err)
	is.True(checked) // the form kept the box ticked
}

func TestBrowserExportCancelled(t *testing.T) {
	is := is.New(t)
	logs := ltbrowser.NewLogs("cause")
	// A batch takes an hour: the job runs until something cancels it.
	// The default reconnect grace (30 s): a closed tab says it left.
	router, h, err := newRouter(&Exporter{Steps: 10, StepDelay: time.Hour, Log: logs.Logger()})
	is.NoErr(err)
	srv := ltbrowser.Serve(t, router, h)
	page := srv.URL + "/"

	// Two tabs of one browser: one starts the export, both see it.
	other := ltbrowser.New(t)
	starter, closeStarter := newTab(t, other)
	for _, tab := range []context.Context{other, starter} {
		is.NoErr(ltbrowser.Do(tab, chromedp.Navigate(page)))
		is.NoErr(ltbrowser.WaitStatus(tab, "online"))
	}

	// The user cancels.
	is.NoErr(ltbrowser.Do(starter, chromedp.Click(chromedp.ID("start"))))
	is.NoErr(ltbrowser.WaitText(other, "#status", "Exporting: 0 of 10 batches (0%)"))
	is.NoErr(ltbrowser.Do(starter, chromedp.Click(chromedp.ID("cancel"))))
	is.NoErr(ltbrowser.WaitText(starter, "#status", "Cancelled."))
	is.NoErr(ltbrowser.WaitText(other, "#status", "Cancelled."))
	is.NoErr(logs.Await("export cancelled cause=cancelled"))
	is.NoErr(waitFor("the job goroutine to end", func() bool { return jobs() == 0 }))

	// The tab that started it closes mid-export.
	is.NoErr(ltbrowser.Do(starter, chromedp.Click(chromedp.ID("start"))))
	is.NoErr(ltbrowser.WaitText(other, "#status", "Exporting: 0 of 10 batches (0%)"))
	is.Equal(jobs(), 1)
	present, err := ltbrowser.Eval[bool](other, `document.querySelector("#cancel") !== null`)
	is.NoErr(err)
	is.True(!present) // only the tab that started it can cancel it
	closeStarter()
	// Its beacon ends the connection at once; the job sees its context
	// cancelled, says so to the session's other tab, and returns.
	is.NoErr(ltbrowser.WaitText(other, "#status", "Cancelled: the tab that started it was closed."))
	is.NoErr(logs.Await("export cancelled cause=context canceled"))
	is.NoErr(waitFor("the job goroutine to end", func() bool { return jobs() == 0 }))
}

// jobs counts the running export jobs, by their goroutines' stacks.
func jobs() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Count(string(buf[:n]), "/examples/export.(*Exporter).run(")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// waitFor polls cond until it holds, for at most ltbrowser.Timeout.
func waitFor(what string, cond func() bool) error {
	deadline := time.Now().Add(ltbrowser.Timeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("waiting for %s: not within %v", what, ltbrowser.Timeout)
		}
		<-tick.C
	}
	return nil
}

// newTab opens a tab in the browser of browserCtx and returns it with a
// function that closes it, as a user closes a tab. (Navigating away is not
// the same: Chromium may keep the page, and its event stream, in the
// back/forward cache.)
func newTab(t *testing.T, browserCtx context.Context) (context.Context, func()) {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browserCtx)
	t.Cleanup(cancel)
	// The first Do attaches the tab to ctx for its whole life, so it must
	// not run under a timeout; a watchdog bounds it instead.
	stuck := time.AfterFunc(30*time.Second, cancel)
	err := chromedp.Do(ctx)
	if !stuck.Stop() || err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	return ctx, cancel
}

func jsString(s string) string { return fmt.Sprintf("%q", s) }
