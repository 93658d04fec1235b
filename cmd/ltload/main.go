// Command ltload measures livesse's fan-out over Server-Sent Events on one
// machine: how long one server action takes to reach N open streams, and
// how much server memory an idle stream costs.
//
//	go run ./cmd/ltload -n 1000 -k 20
//	go run ./cmd/ltload -n 10000 -k 20 -timeout 3m -json > result.json
//
// It starts the server as a child process (itself, re-executed with a
// hidden -serve flag) so that the server's memory is measured apart from
// the clients'. The child serves one small live page (a ticker whose state
// is a number and a timestamp) on a loopback address, plus /debug/trigger,
// /debug/stats and /debug/pprof/. ltload then:
//
//  1. reads the child's memory (after a forced GC),
//  2. opens -n streams with the github.com/r3labs/sse/v2 client, each a
//     fresh connection (no _lt_conn: the first event is a render) with its
//     own cookie jar, so each is its own session, as separate browsers are;
//     at most -rate opens per second and -concurrency in flight,
//  3. reads the child's memory again once they are idle: the difference
//     divided by the streams is the memory per idle stream,
//  4. fires -k server actions one at a time, at least -interval apart:
//     each is Handler.TriggerAll(ctx, "tick", {"n": k, "sent": unix-nano}) in the
//     child; every stream must receive an update showing tick k, and the
//     page shows the send timestamp, so the delivery latency is the
//     receive time minus that timestamp (one clock: same machine),
//  5. prints latency percentiles per action and overall, drops, resyncs
//     (a render received instead of an update) and the time the
//     TriggerAll call itself took.
//
// With -gzip the server gzips the streams (lt.WithStreamCompression) and
// the clients ask for gzip and inflate it; every run reports the bytes
// read from the clients' sockets per delivered update, before any
// inflating, so runs with and without it compare the wire.
//
// With -baseline the child serves the same events (a first render, then
// one update per tick) from a bare writer with no lt in between, so the
// same clients, triggers and report measure this machine's floor.
//
// With -page table the child serves a 1,000-row table page whose one cell
// changes with each tick (issue 16), and with -states differ each stream
// asks for its own order of the rows, so that no two tabs render alike.
//
// With -compare ltload runs the bare writer, then lt, with the same
// streams and actions, and prints lt's figures (latency percentiles,
// first and later fan-out per delivery, server CPU per delivery, memory
// per stream, wire bytes) as ratios to the bare writer's: on a shared
// machine the ratio reproduces where the absolute figures do not.
// -compare -baseline runs the bare writer twice instead: the ratios are
// then the instrument's own, what running second costs on this machine,
// against which lt's ratios are read.
//
//	go run ./cmd/ltload -n 10000 -k 20 -page table -compare
//
// -compare -pairs n runs n such pairs one after the other and prints, for
// each figure, the median of the pairs' ratios: a single pair moves with
// whatever else ran during one of its two runs, the median much less.
//
// With -instances n it measures no streams: it starts n instance
// processes of one app on the PostgreSQL that the PG* variables name
// (pg_virtualenv makes one), each an lt.Handler on a pgnotify Listener,
// has them call TriggerAll until -messages are sent, and times until
// every instance has run every other's (instances.go); -unbatched
// publishes each message in a transaction of its own.
//
//	pg_virtualenv -t bash -c 'go run ./cmd/ltload -instances 4 -messages 30000'
//
// Each process needs a descriptor per stream and a few more: one server
// process serves at most the hard RLIMIT_NOFILE less 256 streams.
//
// Everything is bounded: -n streams, -k actions, -timeout overall. Only
// loopback addresses are accepted.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// config is one run's parameters.
type config struct {
	N           int           // streams
	K           int           // server actions
	Interval    time.Duration // minimum spacing of actions
	ActionWait  time.Duration // how long an action waits for its deliveries
	Timeout     time.Duration // the whole run
	Rate        float64       // stream opens per second
	Concurrency int           // stream opens in flight
	OpenTimeout time.Duration // one stream's open, until its first render
	Settle      time.Duration // idle time before the memory is read
	Listen      string        // the child's listen address (loopback)
	Heartbeat   time.Duration // the child's lt.WithHeartbeat (0: lt's default)
	InHandler   bool          // the child's lt.WithStreamsInHandler
	ClientGC    bool          // keep this process's collector on during the actions
	Baseline    bool          // the child serves the events from a bare writer, not lt
	Gzip        bool          // the child's lt.WithStreamCompression; the clients ask for gzip
	Page        string        // pageCounter or pageTable
	Differ      bool          // each stream its own state (-states differ; the table page only)
	Compare     bool          // run the bare writer, then lt, and print lt's figures as ratios
	Pairs       int           // with Compare: run that many pairs and give each ratio's median
	Instances   int           // instances mode (instances.go): instance processes on one PostgreSQL
	Messages    int           // instances mode: messages in all
	Publishers  int           // instances mode: publishing goroutines in all
	Unbatched   bool          // instances mode: a transaction per message
	HeapProfile string        // write the child's heap profile (idle streams) here
	CPUProfile  string        // write the child's CPU profile (actions phase) here
	JSON        bool

	// serverCmd is how the child is started: argv without the -serve
	// arguments; the executable itself by default.
	serverCmd []string
	stderr    io.Writer // the child's stderr and progress lines
}

func defaultConfig() config {
	return config{
		N:           1000,
		K:           20,
		Interval:    200 * time.Millisecond,
		ActionWait:  10 * time.Second,
		Timeout:     3 * time.Minute,
		Rate:        2000,
		Concurrency: 200,
		OpenTimeout: 30 * time.Second,
		Settle:      time.Second,
		Listen:      "127.0.0.1:0",
		Page:        pageCounter,
		Messages:    30000,
		Pairs:       1,
		Publishers:  64,
		stderr:      os.Stderr,
	}
}

// maxStreams bounds -n: the tool measures one machine, not a cluster.
const maxStreams = 50000

// The pages the child serves (-page).
const (
	pageCounter = "counter" // the ticker: one value
	pageTable   = "table"   // a 1,000-row table whose one cell changes (table.go)
)

// spareFiles is the descriptors each process needs besides one per
// stream: listeners, pipes, the runtime's, the control requests'.
const spareFiles = 256

func parseFlags(args []string, stderr io.Writer) (config, error) {
	cfg := defaultConfig()
	fs := flag.NewFlagSet("ltload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&cfg.N, "n", cfg.N, "streams to open (at most 50,000)")
	fs.IntVar(&cfg.K, "k", cfg.K, "server actions to fire, one at a time")
	fs.DurationVar(&cfg.Interval, "interval", cfg.Interval, "minimum time between two actions")
	fs.DurationVar(&cfg.ActionWait, "action-wait", cfg.ActionWait, "how long one action waits for all its deliveries")
	fs.DurationVar(&cfg.Timeout, "timeout", cfg.Timeout, "bound on the whole run")
	fs.Float64Var(&cfg.Rate, "rate", cfg.Rate, "stream opens per second")
	fs.IntVar(&cfg.Concurrency, "concurrency", cfg.Concurrency, "stream opens in flight")
	fs.DurationVar(&cfg.OpenTimeout, "open-timeout", cfg.OpenTimeout, "bound on one stream's open (until its first render)")
	fs.DurationVar(&cfg.Settle, "settle", cfg.Settle, "idle time after the streams are open, before the memory is read")
	fs.StringVar(&cfg.Listen, "listen", cfg.Listen, "the server's listen address; loopback only")
	fs.DurationVar(&cfg.Heartbeat, "heartbeat", cfg.Heartbeat, "the server's heartbeat interval (0: lt's default, 15s)")
	fs.BoolVar(&cfg.ClientGC, "client-gc", false, "keep the clients' garbage collector running during the actions (by default it is paused, so that its pauses do not count as delivery latency)")
	fs.BoolVar(&cfg.InHandler, "in-handler", false, "the server keeps streams in their handlers instead of taking the connections over (lt.WithStreamsInHandler)")
	fs.BoolVar(&cfg.Gzip, "gzip", false, "the server gzips the streams (lt.WithStreamCompression) and the clients send Accept-Encoding: gzip and inflate")
	fs.BoolVar(&cfg.Baseline, "baseline", false, "serve the same events from a bare writer with no lt in between, to measure this machine's floor")
	fs.StringVar(&cfg.Page, "page", cfg.Page, "the page: counter (one value changes) or table (a 1,000-row table, one cell changes)")
	states := fs.String("states", "equal", "equal: every stream shows the same page; differ: each its own order of the table's rows (-page table)")
	fs.BoolVar(&cfg.Compare, "compare", false, "run the bare writer, then lt, with the same streams and actions, and print lt's figures as ratios to the bare writer's (with -baseline: the bare writer twice, the instrument's own ratios)")
	fs.IntVar(&cfg.Pairs, "pairs", cfg.Pairs, "with -compare: run this many pairs one after the other and print each ratio's median over them (-timeout bounds them all)")
	fs.IntVar(&cfg.Instances, "instances", 0, "instead of streams: start this many instance processes on the PostgreSQL of the PG* variables and measure cross-instance server actions (TriggerAll) until all are delivered")
	fs.IntVar(&cfg.Messages, "messages", cfg.Messages, "with -instances: messages to publish in all")
	fs.IntVar(&cfg.Publishers, "publishers", cfg.Publishers, "with -instances: publishing goroutines in all, spread over the instances")
	fs.BoolVar(&cfg.Unbatched, "unbatched", false, "with -instances: publish each message in a transaction of its own (pgnotify's PublishTx), not in Publish's batches")
	fs.StringVar(&cfg.HeapProfile, "heapprofile", "", "write the server's heap profile, taken with the streams idle, to this file (and its goroutines to file.goroutines.txt)")
	fs.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write the server's CPU profile of the actions phase to this file")
	fs.BoolVar(&cfg.JSON, "json", false, "print the result as JSON")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch *states {
	case "equal":
	case "differ":
		cfg.Differ = true
	default:
		return cfg, fmt.Errorf("-states %q: want equal or differ", *states)
	}
	return cfg, cfg.check()
}

func (c config) check() error {
	switch {
	case c.N < 1 || c.N > maxStreams:
		return fmt.Errorf("-n %d: want 1 to %d streams", c.N, maxStreams)
	case c.K < 1 || c.K > 10000:
		return fmt.Errorf("-k %d: want 1 to 10,000 actions", c.K)
	case c.Timeout <= 0 || c.ActionWait <= 0 || c.OpenTimeout <= 0 || c.Interval < 0 || c.Settle < 0:
		return errors.New("durations must be positive")
	case c.Instances < 0 || c.Instances > 16:
		return fmt.Errorf("-instances %d: want 1 to 16 processes", c.Instances)
	case c.Instances > 0 && (c.Messages < 1 || c.Messages > 1000000 || c.Publishers < 1 || c.Publishers > 1024):
		return errors.New("-messages must be 1 to 1,000,000 and -publishers 1 to 1,024")
	case c.Page != pageCounter && c.Page != pageTable:
		return fmt.Errorf("-page %q: want %s or %s", c.Page, pageCounter, pageTable)
	case c.Differ && c.Page != pageTable:
		return errors.New("-states differ is for -page table (the counter has one state)")
	case c.Rate <= 0 || c.Concurrency < 1:
		return errors.New("-rate and -concurrency must be positive")
	case c.Pairs < 1 || c.Pairs > 100:
		return fmt.Errorf("-pairs %d: want 1 to 100", c.Pairs)
	case c.Pairs > 1 && !c.Compare:
		return errors.New("-pairs is for -compare")
	case c.Baseline && c.InHandler:
		return errors.New("-in-handler is an lt option; with -baseline there is no lt (the bare writer takes every connection over)")
	case c.Baseline && c.Gzip:
		return errors.New("-gzip is an lt option; the bare writer of -baseline sends its streams as they are")
	case c.Baseline && c.Heartbeat != 0:
		return errors.New("-heartbeat is an lt option; with -baseline there is no lt and no heartbeat")
	}
	return checkLoopback(c.Listen)
}

// server says what the child serves, for the report: a baseline must not
// pass for a measure of lt.
func (c config) server() string {
	s := c.serverKind()
	if c.Page == pageTable {
		s += "; table page"
		if c.Differ {
			s += ", a different order per stream"
		}
	}
	return s
}

func (c config) serverKind() string {
	switch {
	case c.Baseline:
		return "bare writer (baseline, no lt)"
	case c.InHandler && c.Gzip:
		return "lt, streams in their handlers, gzipped"
	case c.InHandler:
		return "lt, streams in their handlers"
	case c.Gzip:
		return "lt, gzipped streams"
	}
	return "lt"
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == serveFlag {
		os.Exit(serveMain(os.Args[2:]))
	}
	if len(os.Args) > 1 && os.Args[1] == instanceFlag {
		os.Exit(instanceMain(os.Args[2:]))
	}
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ltload:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if cfg.Instances > 0 {
		res, err := runInstances(ctx, instancesConfig{N: cfg.Instances, Messages: cfg.Messages, Publishers: cfg.Publishers,
			Unbatched: cfg.Unbatched, Timeout: cfg.Timeout, stderr: os.Stderr})
		if res != nil {
			if cfg.JSON {
				_ = json.NewEncoder(os.Stdout).Encode(res)
			} else {
				res.print(os.Stdout)
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "ltload:", err)
			os.Exit(1)
		}
		return
	}
	if cfg.Compare {
		var out interface{ print(io.Writer) }
		var err error
		if cfg.Pairs > 1 {
			out, err = runSeries(ctx, cfg)
		} else {
			out, err = runCompare(ctx, cfg)
		}
		if cfg.JSON {
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", "  ")
			_ = enc.Encode(out)
		} else {
			out.print(os.Stdout)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "ltload:", err)
			os.Exit(1)
		}
		return
	}
	res, err := run(ctx, cfg)
	if res != nil {
		if cfg.JSON {
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", "  ")
			_ = enc.Encode(res)
		} else {
			res.print(os.Stdout)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ltload:", err)
		os.Exit(1)
	}
}
