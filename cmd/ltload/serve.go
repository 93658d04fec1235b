package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"github.com/livesse/livesse/lt"
)

// serveFlag, as the first argument, makes the process the target server.
// It is not listed in -help: only ltload starts it.
const serveFlag = "-serve"

// tickState is the page's state: the last tick and when it was sent.
type tickState struct {
	N    int
	Sent int64 // unix nanoseconds, taken before TriggerAll
}

// Stamp is what the page shows: one value, so a tick's update is a
// one-value diff that a client reads without decoding the tree.
func (s tickState) Stamp() string { return fmt.Sprintf("tick:%d:%d", s.N, s.Sent) }

type ticker struct{}

// Tick is the server action: it shows tick n and its send time.
func (*ticker) Tick(s tickState, ctx *lt.Context) (tickState, error) {
	s.N = ctx.GetInt("n")
	s.Sent, _ = ctx.Get("sent").(int64)
	return s, nil
}

const pageHTML = `<!doctype html>
<html><head><title>ltload ticker</title></head>
<body><h1>ltload</h1><p>Last tick: <output id="tick">{{.Stamp}}</output></p></body></html>`

// childHello is the child's first line on stdout.
type childHello struct {
	Addr string `json:"addr"`
	Pid  int    `json:"pid"`
}

// serverStats is what /debug/stats answers.
type serverStats struct {
	HeapInuse  uint64 `json:"heap_inuse"`
	HeapAlloc  uint64 `json:"heap_alloc"`
	StackInuse uint64 `json:"stack_inuse"`
	Sys        uint64 `json:"sys"`
	RSS        uint64 `json:"rss"` // VmRSS, bytes
	Goroutines int    `json:"goroutines"`
	Streams    int64  `json:"streams"`     // event streams being served
	CPU        int64  `json:"cpu_ns"`      // user+system time of the process
	TotalAlloc uint64 `json:"total_alloc"` // bytes allocated since the start
	AutoGCs    uint32 `json:"auto_gcs"`    // collections the runtime started (not runtime.GC's)
}

// triggerResult is what /debug/trigger answers.
type triggerResult struct {
	N       int    `json:"n"`
	Sent    int64  `json:"sent"`       // unix nanoseconds, as the page shows it
	Trigger int64  `json:"trigger_ns"` // how long TriggerAll (or the bare writer's fan-out) took
	Error   string `json:"error,omitempty"`
}

// serveMain runs the target server until its stdin closes (ltload holds
// the other end; the child never outlives it) or it gets SIGTERM.
func serveMain(args []string) int {
	fs := flag.NewFlagSet("ltload -serve", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "listen address (loopback only)")
	heartbeat := fs.Duration("heartbeat", 0, "lt.WithHeartbeat (0: lt's default)")
	inHandler := fs.Bool("in-handler", false, "lt.WithStreamsInHandler")
	gzip := fs.Bool("gzip", false, "lt.WithStreamCompression")
	baseline := fs.Bool("baseline", false, "serve the events from the bare writer (baseline.go) instead of lt")
	page := fs.String("page", pageCounter, "the page: counter or table")
	want := fs.Uint64("nofile", 0, "raise RLIMIT_NOFILE to at least this")
	rate := fs.Int("memprofilerate", 0, "runtime.MemProfileRate (0: Go's default)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *rate > 0 {
		runtime.MemProfileRate = *rate // before the allocations worth profiling
	}
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "ltload -serve:", err)
		return 1
	}
	if err := checkLoopback(*listen); err != nil {
		return fail(err)
	}
	if _, err := raiseNoFile(*want); err != nil {
		return fail(err)
	}
	var t target
	switch {
	case *baseline && *page == pageTable:
		head, err := bareTableHead()
		if err != nil {
			return fail(err)
		}
		t = &bareWriter{head: head}
	case *baseline:
		t = &bareWriter{head: bareHead}
	default:
		lp, err := newLTTarget(*page, *heartbeat, *inHandler, *gzip)
		if err != nil {
			return fail(err)
		}
		t = lp
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fail(err)
	}
	if err := checkLoopback(ln.Addr().String()); err != nil {
		ln.Close()
		return fail(err)
	}
	srv := &http.Server{Handler: debugMux(t), ReadHeaderTimeout: 10 * time.Second}
	srv.RegisterOnShutdown(func() { _ = t.Close() })
	hello, _ := json.Marshal(childHello{Addr: ln.Addr().String(), Pid: os.Getpid()})
	fmt.Printf("%s\n", hello)

	// Ctrl-C reaches the whole process group: the child leaves it to
	// ltload, which ends the run and closes the child's stdin.
	signal.Ignore(os.Interrupt)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	go func() { // ltload closes our stdin when it is done, or dies
		_, _ = io.Copy(io.Discard, os.Stdin)
		stop()
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fail(err)
	}
	<-ctx.Done()
	return 0
}

// target is what the child serves at "/" and fans the ticks out from:
// the lt ticker page, or the bare writer of -baseline.
type target interface {
	http.Handler
	// trigger sends tick n, stamped with sent, to every stream and
	// returns once it has.
	trigger(n int, sent time.Time) error
	// streams is the number of event streams being served.
	streams() int64
	// Close ends every stream.
	Close() error
}

// ltTarget is the ticker page served by lt.
type ltTarget struct{ h *lt.Handler }

func newLTTarget(page string, heartbeat time.Duration, inHandler, gzip bool) (*ltTarget, error) {
	opts := ltOptions(heartbeat, inHandler, gzip)
	if page == pageTable {
		h, err := newTableHandler(opts)
		if err != nil {
			return nil, err
		}
		return &ltTarget{h: h}, nil
	}
	tpl, err := lt.Parse("ltload", pageHTML)
	if err != nil {
		return nil, fmt.Errorf("parsing the page: %w", err)
	}
	h, err := lt.New(tpl, &ticker{}, tickState{}, opts...)
	if err != nil {
		return nil, fmt.Errorf("lt.New: %w", err)
	}
	return &ltTarget{h: h}, nil
}

func (t *ltTarget) ServeHTTP(w http.ResponseWriter, r *http.Request) { t.h.ServeHTTP(w, r) }

func (t *ltTarget) trigger(n int, sent time.Time) error {
	return t.h.TriggerAll(context.Background(), "tick", map[string]any{"n": n, "sent": sent.UnixNano()})
}

func (t *ltTarget) streams() int64 { return int64(t.h.Streams()) }

func (t *ltTarget) Close() error { return t.h.Close() }

// debugMux serves the target at / and the endpoints ltload drives the run
// with.
func debugMux(t target) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", t)
	mux.HandleFunc("POST /debug/trigger", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		sent := time.Now()
		err := t.trigger(n, sent)
		res := triggerResult{N: n, Sent: sent.UnixNano(), Trigger: int64(time.Since(sent))}
		if err != nil {
			res.Error = err.Error()
		}
		writeJSON(w, res)
	})
	mux.HandleFunc("GET /debug/stats", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("gc") != "" {
			debug.FreeOSMemory() // a full GC, and the freed pages go back to the OS: RSS shows what is live
		}
		writeJSON(w, readStats(t.streams()))
	})
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	return mux
}

func readStats(streams int64) serverStats {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return serverStats{
		HeapInuse: ms.HeapInuse, HeapAlloc: ms.HeapAlloc, StackInuse: ms.StackInuse, Sys: ms.Sys,
		RSS: readRSS(), Goroutines: runtime.NumGoroutine(), Streams: streams, CPU: cpuTime(),
		TotalAlloc: ms.TotalAlloc, AutoGCs: ms.NumGC - ms.NumForcedGC,
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// checkLoopback refuses any address that is not a loopback IP (or
// "localhost"): ltload loads this machine only.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %v", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("address %q is not a loopback address (127.0.0.0/8, ::1 or localhost); ltload loads this machine only", addr)
	}
	return nil
}
