package export

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/livesse/livesse/internal/test/specsnippets/internal/snippettest"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newHandler(t *testing.T, opts ...lt.Option) (*lt.Handler, string) {
	t.Helper()
	page := lt.Must(lt.Parse("page", `<p>status=[{{.ExportStatus}}] url=[{{.DownloadURL}}]</p>`))
	h, err := lt.New(page, &ExportController{}, ExportState{}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return h, snippettest.Serve(t, h, nil)
}

// nextJob receives the export StartExport started.
func nextJob(t *testing.T) *exportJob {
	t.Helper()
	select {
	case j := <-exportJobs:
		return j
	case <-time.After(lttest.Timeout):
		t.Fatal("no export started")
		return nil
	}
}

func waitClosed(t *testing.T, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(lttest.Timeout):
		t.Fatalf("%s: not within %v", what, lttest.Timeout)
	}
}

// StartExport answers at once with "Processing..."; when the job finishes,
// exportComplete reaches every tab of the session with the download URL.
func TestExportCompleteReachesTheSession(t *testing.T) {
	is := is.New(t)
	_, u := newHandler(t)
	tab := lttest.Open(t, u)
	other := lttest.Open(t, u, lttest.WithJar(tab.Jar())) // another tab of the session
	stranger := lttest.Open(t, u)                         // another session

	r := tab.Act("startExport", nil)
	is.Equal(r.Status, 200)
	is.True(strings.Contains(r.HTML, "status=[Processing...] url=[]"))
	j := nextJob(t)
	is.NoErr(j.ctx.Err()) // running

	j.finish <- exportOutcome{result: ExportResult{URL: "https://files.example/export-1.csv"}}
	const done = "status=[Complete] url=[https://files.example/export-1.csv]"
	tab.WaitFor(done)
	other.WaitFor(done)
	waitClosed(t, "export returned", j.returned)
	is.NoErr(j.err)
	// The other session's first action shows it never got the export.
	r = stranger.Act("exportFailed", nil)
	is.True(strings.Contains(r.HTML, "status=[Failed: ] url=[]"))
}

// A failed export reaches the tab as exportFailed with the error text.
func TestExportFailedReachesTheSession(t *testing.T) {
	is := is.New(t)
	_, u := newHandler(t)
	tab := lttest.Open(t, u)
	is.Equal(tab.Act("startExport", nil).Status, 200)
	nextJob(t).finish <- exportOutcome{err: errors.New("disk full")}
	tab.WaitFor("status=[Failed: disk full] url=[]")
}

// The tab goes away mid-export: after the reconnect grace its connection
// ends, OnDisconnect runs and cancels the job, and performLongRunningExport
// gives up. Nothing else cancels jobCtx while the job is still running
// (the goroutine's deferred cancel runs only after it returns), so the
// cancellation seen here is OnDisconnect's.
func TestTabClosedMidExportCancelsTheJob(t *testing.T) {
	is := is.New(t)
	_, u := newHandler(t, lt.WithReconnectGrace(20*time.Millisecond))
	tab := lttest.Open(t, u)
	is.Equal(tab.Act("startExport", nil).Status, 200)
	j := nextJob(t)
	is.NoErr(j.ctx.Err())

	tab.Close()
	waitClosed(t, "job cancelled", j.ctx.Done())
	waitClosed(t, "export returned", j.returned)
	is.True(errors.Is(j.err, context.Canceled))
}

// Closing the handler (server shutdown) ends every connection: by the time
// Close returns OnDisconnect has run and cancelled the running export.
func TestHandlerCloseCancelsTheJob(t *testing.T) {
	is := is.New(t)
	h, u := newHandler(t)
	tab := lttest.Open(t, u)
	is.Equal(tab.Act("startExport", nil).Status, 200)
	j := nextJob(t)
	is.NoErr(j.ctx.Err())

	is.NoErr(h.Close())
	is.True(errors.Is(j.ctx.Err(), context.Canceled)) // already: Close waited for OnDisconnect
	waitClosed(t, "export returned", j.returned)
	is.True(errors.Is(j.err, context.Canceled))
}
