// Command export runs a long job started by a click and shows its progress
// live: the job reports each step with Session.TriggerAction, and ends as
// complete (with a download link), failed, or cancelled. The job belongs to
// the tab that started it: it is cancelled when the user clicks Cancel and
// when that tab's connection ends (the tab closed, or the server shut down),
// so no export runs for nobody.
//
//	go run ./examples/export             # http://localhost:8080/
//
// The live progress needs JavaScript; without it the page says so.
package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/go-chi/chi/v5"
	chimw "github.com/go-chi/chi/v5/middleware"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/middleware"
)

//go:embed export.html
var files embed.FS

// Export statuses.
const (
	Idle      = ""
	Running   = "running"
	Complete  = "complete"
	Failed    = "failed"
	Cancelled = "cancelled"
)

// State is one tab's state.
type State struct {
	Status      string
	Done, Total int // rows exported so far, of Total
	Percent     int
	Message     string // why it failed or was cancelled
	DownloadURL string
	Fail        bool // the "make it fail" checkbox
	Mine        bool // this tab started the running export (and can cancel it)
}

// Exporter is the controller. The exported fields are configuration, set
// on the prototype given to lt.New and shared by every tab's copy; cancel
// is per tab, since each connection gets its own copy of the controller.
//
// lt runs a connection's methods one at a time, so cancel needs no lock:
// only the job goroutine runs concurrently, and it does not touch it.
type Exporter struct {
	Steps     int           // batches in an export
	StepDelay time.Duration // how long one batch takes
	Files     *Files        // finished exports, for download
	Log       *slog.Logger

	cancel context.CancelCauseFunc // the running job of this tab, if any
}

// Causes of a cancellation, shown to the user.
var (
	errCancelledByUser = errors.New("cancelled")
	errServerOnly      = lt.UserError("this action is sent by the export job, not by the page")
)

// Mount runs on every page load: a new page never owns a running export
// (the session's saved state may say one is running, started elsewhere).
func (e *Exporter) Mount(s State, ctx *lt.Context) (State, error) {
	s.Mine = false
	return s, nil
}

// StartExport starts the job and returns at once; the job reports back
// through the session.
func (e *Exporter) StartExport(s State, ctx *lt.Context) (State, error) {
	if s.Status == Running {
		return s, lt.UserError("an export is already running")
	}
	// ctx is done when this tab's connection ends for good, so deriving
	// the job's context from it cancels the job when the tab goes away,
	// which is what the guide's OnDisconnect does by hand.
	jobCtx, cancel := context.WithCancelCause(ctx)
	e.cancel = cancel
	fail := ctx.GetBool("fail")
	go e.run(jobCtx, cancel, ctx.Session(), ctx.SessionID(), fail)
	return State{Status: Running, Total: e.Steps, Fail: fail, Mine: true}, nil
}

// CancelExport cancels the job this tab started.
func (e *Exporter) CancelExport(s State, ctx *lt.Context) (State, error) {
	if e.cancel == nil || s.Status != Running {
		return s, lt.UserError("this tab has no export running")
	}
	e.cancel(errCancelledByUser)
	return s, nil // the job reports the cancellation itself
}

// run performs the export and reports every step. It is the only
// goroutine of the job; it ends when the export does, or as soon as ctx
// is cancelled.
func (e *Exporter) run(ctx context.Context, cancel context.CancelCauseFunc, session lt.Session, owner string, fail bool) {
	defer cancel(nil) // release the context once the job is over
	report := func(action string, data map[string]any) {
		// A closed handler (server shutdown) is the only likely error;
		// nobody is left to tell.
		if err := session.TriggerAction(action, data); err != nil {
			e.Log.Debug("export: report dropped", "action", action, "err", err)
		}
	}
	url, err := e.export(ctx, owner, fail, func(done int) {
		report("exportProgress", map[string]any{"done": done, "total": e.Steps})
	})
	switch {
	case ctx.Err() != nil:
		cause := context.Cause(ctx)
		e.Log.Info("export cancelled", "group", owner, "cause", cause)
		reason := "Cancelled."
		if !errors.Is(cause, errCancelledByUser) {
			// The session's other tabs, if any, learn why it stopped.
			reason = "Cancelled: the tab that started it was closed."
		}
		report("exportCancelled", map[string]any{"reason": reason})
	case err != nil:
		e.Log.Info("export failed", "group", owner, "err", err)
		report("exportFailed", map[string]any{"error": err.Error()})
	default:
		e.Log.Info("export complete", "group", owner, "url", url)
		report("exportComplete", map[string]any{"downloadURL": url})
	}
}

// export writes e.Steps batches of rows, calling progress after each, and
// returns the download URL. It stands in for real work (a database query,
// a file upload) and, like real work should, gives up when ctx is done.
func (e *Exporter) export(ctx context.Context, owner string, fail bool, progress func(done int)) (string, error) {
	var csv bytes.Buffer
	csv.WriteString("id,item,quantity\n")
	progress(0)
	timer := time.NewTimer(e.StepDelay)
	defer timer.Stop()
	for step := 1; step <= e.Steps; step++ {
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-timer.C:
			timer.Reset(e.StepDelay)
		}
		if fail && step > e.Steps*2/3 {
			return "", fmt.Errorf("disk quota exceeded after %d rows (you asked for it)", (step-1)*100)
		}
		for i := range 100 {
			id := (step-1)*100 + i + 1
			fmt.Fprintf(&csv, "%d,item-%d,%d\n", id, id%37, id%7+1)
		}
		progress(step)
	}
	return e.Files.Put(owner, csv.Bytes()), nil
}

// The job's reports. The browser could post them too (every action is
// callable from the page), so they refuse client calls: ctx.FromClient()
// is false only for server actions.

func (e *Exporter) ExportProgress(s State, ctx *lt.Context) (State, error) {
	if ctx.FromClient() {
		return s, errServerOnly
	}
	s.Status, s.Message, s.DownloadURL = Running, "", ""
	s.Done, s.Total = ctx.GetInt("done"), ctx.GetInt("total")
	if s.Total > 0 {
		s.Percent = 100 * s.Done / s.Total
	}
	return s, nil
}

func (e *Exporter) ExportComplete(s State, ctx *lt.Context) (State, error) {
	if ctx.FromClient() {
		return s, errServerOnly
	}
	s.Status, s.Percent, s.Done, s.Mine = Complete, 100, s.Total, false
	s.DownloadURL = ctx.GetString("downloadURL")
	return s, nil
}

func (e *Exporter) ExportFailed(s State, ctx *lt.Context) (State, error) {
	if ctx.FromClient() {
		return s, errServerOnly
	}
	s.Status, s.Mine = Failed, false
	s.Message = "Failed: " + ctx.GetString("error")
	return s, nil
}

func (e *Exporter) ExportCancelled(s State, ctx *lt.Context) (State, error) {
	if ctx.FromClient() {
		return s, errServerOnly
	}
	s.Status, s.Mine = Cancelled, false
	s.Message = ctx.GetString("reason")
	return s, nil
}

// Files keeps the finished exports in memory for download, each readable
// only by the session that made it. Safe for concurrent use.
type Files struct {
	mu    sync.Mutex
	files map[string]file
	order []string // oldest first
}

type file struct {
	owner string
	data  []byte
}

// keepFiles bounds how many exports Files holds.
const keepFiles = 100

// Put stores data for owner and returns its URL.
func (f *Files) Put(owner string, data []byte) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	name := "export-" + hex.EncodeToString(b[:]) + ".csv"
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.files == nil {
		f.files = map[string]file{}
	}
	f.files[name] = file{owner, data}
	f.order = append(f.order, name)
	if len(f.order) > keepFiles {
		delete(f.files, f.order[0])
		f.order = f.order[1:]
	}
	return "/exports/" + name
}

// ServeHTTP serves /exports/{name} to the session that made it.
// middleware.Session put the same Identity in the request context that lt
// gives the page, so the owners match.
func (f *Files) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id, _ := lt.IdentityFrom(r.Context())
	f.mu.Lock()
	file, ok := f.files[chi.URLParam(r, "name")]
	f.mu.Unlock()
	if !ok || file.owner != id.SessionID {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="export.csv"`)
	_, _ = w.Write(file.data)
}

// newRouter builds the app around a controller prototype; options go to
// lt.New.
func newRouter(e *Exporter, opts ...lt.Option) (http.Handler, *lt.Handler, error) {
	if e.Steps <= 0 || e.StepDelay <= 0 {
		return nil, nil, fmt.Errorf("export: need Steps and StepDelay, got %d and %v", e.Steps, e.StepDelay)
	}
	if e.Files == nil {
		e.Files = &Files{}
	}
	if e.Log == nil {
		e.Log = slog.Default()
	}
	tmpl, err := lt.ParseFS(files, "export.html")
	if err != nil {
		return nil, nil, err
	}
	h, err := lt.New(tmpl, e, State{}, opts...)
	if err != nil {
		return nil, nil, err
	}
	r := chi.NewRouter()
	r.Use(chimw.Logger, chimw.Recoverer)
	// middleware.Session issues the same anonymous session cookie as lt
	// and puts its Identity in the context: the page and the downloads
	// agree on who the visitor is.
	r.Use(middleware.Session)
	r.Handle("/", h)
	r.Method(http.MethodGet, "/exports/{name}", e.Files)
	return r, h, nil
}

func main() {
	addr := flag.String("addr", ":"+cmp.Or(os.Getenv("PORT"), "8080"), "listen address (the default port is $PORT, when set)")
	flag.Parse()
	r, h, err := newRouter(&Exporter{Steps: 20, StepDelay: 250 * time.Millisecond})
	if err == nil {
		err = serve(*addr, r, h)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "export:", err)
		os.Exit(1)
	}
}

// serve serves r on addr until SIGINT or SIGTERM, then shuts down
// gracefully: lt.Serve ends the live page's streams, which
// http.Server.Shutdown alone does not, and waits for its actions.
func serve(addr string, r http.Handler, h *lt.Handler) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("export: serving http://localhost:%d/\n", ln.Addr().(*net.TCPAddr).Port)
	return lt.Serve(ctx, lt.NewServer(r), ln, h)
}
