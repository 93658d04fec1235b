package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// child is the target server process.
type child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	addr   string
	pid    int
	exited chan struct{}
	client *http.Client
}

// startChild re-executes the tool as the server and waits for its address.
func startChild(ctx context.Context, cfg config, nofile uint64) (*child, error) {
	argv := cfg.serverCmd
	if len(argv) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("finding my executable to start the server: %w", err)
		}
		argv = []string{exe}
	}
	args := append(append([]string(nil), argv[1:]...), serveFlag,
		"-listen", cfg.Listen, "-nofile", strconv.FormatUint(nofile, 10), "-heartbeat", cfg.Heartbeat.String(), "-in-handler="+strconv.FormatBool(cfg.InHandler),
		"-gzip="+strconv.FormatBool(cfg.Gzip),
		"-baseline="+strconv.FormatBool(cfg.Baseline), "-page", cfg.Page)
	if cfg.HeapProfile != "" {
		// A finer sample than Go's default (512 KiB), so that per-stream
		// allocations of a few KiB show up in the profile.
		args = append(args, "-memprofilerate", "4096")
	}
	cmd := exec.Command(argv[0], args...)
	cmd.Stderr = cfg.stderr
	childAttrs(cmd)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the server: %w", err)
	}
	c := &child{cmd: cmd, stdin: stdin, pid: cmd.Process.Pid, exited: make(chan struct{})}
	c.client = &http.Client{Transport: loopbackTransport(), Timeout: time.Minute}
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- s
	}()
	var hello childHello
	select {
	case s := <-line:
		err = json.Unmarshal([]byte(s), &hello)
		if err == nil {
			err = checkLoopback(hello.Addr)
		}
	case <-ctx.Done():
		err = ctx.Err()
	case <-time.After(30 * time.Second):
		err = errors.New("no address within 30s")
	}
	go func() {
		_ = cmd.Wait()
		close(c.exited)
	}()
	if err != nil {
		c.stop()
		return nil, fmt.Errorf("server did not start: %w", err)
	}
	c.addr = hello.Addr
	return c, nil
}

// stop closes the server's stdin, which shuts it down, and waits for it;
// it kills it if it takes more than 15 seconds.
func (c *child) stop() {
	_ = c.stdin.Close()
	select {
	case <-c.exited:
	case <-time.After(15 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
	c.client.CloseIdleConnections()
}

func (c *child) url(path string) string { return "http://" + c.addr + path }

func (c *child) getJSON(ctx context.Context, method, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.url(path), nil)
	if err != nil {
		return err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, b)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// stats reads the server's statistics after a full GC.
func (c *child) stats(ctx context.Context) (serverStats, error) {
	var st serverStats
	err := c.getJSON(ctx, http.MethodGet, "/debug/stats?gc=1", &st)
	return st, err
}

// fetch saves a response body (a profile) to a file.
func (c *child) fetch(ctx context.Context, path, file string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url(path), nil)
	if err != nil {
		return err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func sleepCtx(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// syncWriter serialises writes from several goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

// progress writes a progress line to stderr.
func (cfg config) progress(format string, args ...any) {
	fmt.Fprintf(cfg.stderr, "ltload: "+format+"\n", args...)
}

// run is one measurement. It returns what it measured even when it stops
// on an error (the timeout, say), with the error.
func run(ctx context.Context, cfg config) (res *Result, err error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	cfg.stderr = &syncWriter{w: cfg.stderr} // the child's stderr and our progress lines
	nofile := uint64(cfg.N) + spareFiles    // N sockets on each side, plus room
	if _, err := raiseNoFile(nofile); err != nil {
		return nil, err
	}
	ch, err := startChild(ctx, cfg, nofile)
	if err != nil {
		return nil, err
	}
	defer ch.stop()
	res = &Result{Streams: cfg.N, Actions: cfg.K, Interval: ms(cfg.Interval), ServerPID: ch.pid, ServerAddr: ch.addr,
		Server: cfg.server(), Baseline: cfg.Baseline, Gzip: cfg.Gzip, ClientGC: cfg.ClientGC, NoFile: nofile, LoadBefore: loadAvg()}
	cfg.progress("server pid %d on %s", ch.pid, ch.addr)

	before, err := ch.stats(ctx)
	if err != nil {
		return nil, fmt.Errorf("server stats: %w", err)
	}

	// Open the streams.
	rec := newRecorder(cfg.K)
	var wire atomic.Int64 // bytes read from the streams' sockets
	tr := streamTransport(&wire, cfg.Gzip)
	defer tr.CloseIdleConnections()
	ss, openTime := openStreams(ctx, cfg, ch.url("/"), tr, rec)
	defer ss.close()
	res.Open = summarizeOpen(ss.all, cfg.N, openTime)
	cfg.progress("opened %d/%d streams in %v (%d failed)", res.Open.Opened, cfg.N, openTime.Round(time.Millisecond), res.Open.Failed)
	if res.Open.Opened == 0 {
		return res, fmt.Errorf("no stream opened: %s", res.Open.FirstError)
	}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("opening streams: %w", err)
	}

	// Idle: memory per stream.
	sleepCtx(ctx, cfg.Settle)
	idle, err := ch.stats(ctx)
	if err != nil {
		return res, fmt.Errorf("server stats: %w", err)
	}
	res.Memory = memoryResult{Before: before, Idle: idle}
	res.Memory.IdlePerStream = perStream(before, idle, res.Open.Opened)
	if cfg.HeapProfile != "" {
		if err := ch.fetch(ctx, "/debug/pprof/heap?gc=1", cfg.HeapProfile); err != nil {
			return res, fmt.Errorf("heap profile: %w", err)
		}
		if err := ch.fetch(ctx, "/debug/pprof/goroutine?debug=1", cfg.HeapProfile+".goroutines.txt"); err != nil {
			return res, fmt.Errorf("goroutine profile: %w", err)
		}
		cfg.progress("heap profile (idle streams) in %s, goroutines in %s.goroutines.txt", cfg.HeapProfile, cfg.HeapProfile)
	}

	// The actions.
	rec.target.Store(int64(res.Open.Opened))
	profDone := make(chan error, 1)
	if cfg.CPUProfile != "" {
		secs := max(1, int(math.Ceil((time.Duration(cfg.K) * cfg.Interval).Seconds())))
		go func() { profDone <- ch.fetch(ctx, "/debug/pprof/profile?seconds="+strconv.Itoa(secs), cfg.CPUProfile) }()
	} else {
		profDone <- nil
	}
	if !cfg.ClientGC {
		defer pauseGC()()
	}
	cpuClients0, busy0, wall0 := cpuTime(), machineBusy(), time.Now()
	wire0 := wire.Load()
	triggers := make([]triggerResult, 0, cfg.K)
	for k := 1; k <= cfg.K; k++ {
		t0 := time.Now()
		var tr triggerResult
		if err := ch.getJSON(ctx, http.MethodPost, "/debug/trigger?n="+strconv.Itoa(k), &tr); err != nil {
			err = fmt.Errorf("trigger %d: %w", k, err)
			res.summarize(ss, triggers)
			return res, err
		}
		if tr.Error != "" {
			res.summarize(ss, triggers)
			return res, fmt.Errorf("trigger %d: TriggerAll: %s", k, tr.Error)
		}
		triggers = append(triggers, tr)
		select {
		case <-rec.done[k-1]:
		case <-time.After(cfg.ActionWait):
			cfg.progress("action %d: %d of %d deliveries after %v; going on", k, rec.got[k-1].Load(), res.Open.Opened, cfg.ActionWait)
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			res.summarize(ss, triggers)
			return res, fmt.Errorf("action %d: %w", k, ctx.Err())
		}
		sleepCtx(ctx, cfg.Interval-time.Since(t0))
	}
	// Late deliveries of actions that gave up waiting still count.
	deadline := time.After(cfg.ActionWait)
	for k := range cfg.K {
		select {
		case <-rec.done[k]:
			continue
		case <-deadline:
		case <-ctx.Done():
		}
		break
	}
	res.Wire.ActionsPhase = wire.Load() - wire0
	res.CPU = cpuResult{Wall: ms(time.Since(wall0)), Clients: ms(time.Duration(cpuTime() - cpuClients0)), Machine: ms(time.Duration(machineBusy() - busy0))}
	after, err := ch.stats(ctx)
	if err == nil {
		res.Memory.AfterActions = after
		res.Memory.AfterPerStream = perStream(before, after, res.Open.Opened)
		res.CPU.Server = ms(time.Duration(after.CPU - idle.CPU)) // includes the GC the stats call forced
		res.CPU.ServerGCs, res.CPU.ServerAlloc = after.AutoGCs-idle.AutoGCs, after.TotalAlloc-idle.TotalAlloc
	}
	res.LoadAfter = loadAvg()
	if perr := <-profDone; perr != nil && err == nil {
		err = fmt.Errorf("cpu profile: %w", perr)
	} else if cfg.CPUProfile != "" {
		cfg.progress("cpu profile (actions) in %s", cfg.CPUProfile)
	}
	res.summarize(ss, triggers)
	return res, err
}

// clientMemLimit bounds this process's heap while its collector is paused:
// past it the collector runs anyway.
const clientMemLimit = 4 << 30

// pauseGC collects once, then pauses this process's collector (up to
// clientMemLimit) until the returned function restores it. The clients
// are the instrument: thousands of r3labs streams allocate for every
// event, and a collection of their heap in the middle of a fan-out would
// show up as delivery latency that is not the server's.
func pauseGC() (restore func()) {
	runtime.GC()
	limit := debug.SetMemoryLimit(clientMemLimit)
	percent := debug.SetGCPercent(-1)
	return func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	}
}
