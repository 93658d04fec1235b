package export

import "context"

// ExportState is the doc's ExportState plus DownloadURL, which the doc's
// declaration omits although ExportComplete assigns it.
type ExportState struct {
	ExportStatus string
	DownloadURL  string // added: missing from the doc's ExportState
}

// ExportResult is what an export produces.
type ExportResult struct {
	URL string
}

// exportJob is a running export as the test (standing in for the export
// backend) sees it: the job's context, and where to say how it ends.
type exportJob struct {
	ctx      context.Context
	finish   chan exportOutcome // buffered 1
	returned chan struct{}      // closed when performLongRunningExport returns
	err      error              // what it returned; read after returned
}

type exportOutcome struct {
	result ExportResult
	err    error
}

// exportJobs hands each started export to whoever runs the backend: here,
// the tests, which decide when and how it finishes.
var exportJobs = make(chan *exportJob)

// performLongRunningExport runs an export until the backend finishes it,
// and honours ctx: when ctx is done it gives up at once with ctx.Err().
func performLongRunningExport(ctx context.Context) (result ExportResult, err error) {
	j := &exportJob{ctx: ctx, finish: make(chan exportOutcome, 1), returned: make(chan struct{})}
	defer func() {
		j.err = err
		close(j.returned)
	}()
	select {
	case exportJobs <- j:
	case <-ctx.Done():
		return ExportResult{}, ctx.Err()
	}
	select {
	case o := <-j.finish:
		return o.result, o.err
	case <-ctx.Done():
		return ExportResult{}, ctx.Err()
	}
}
