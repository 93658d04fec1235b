package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/pgnotify"
)

// Instances mode (-instances n): n instance PROCESSES of one app on this
// machine, each an lt.Handler on a pgnotify Listener with its own pool and
// LISTEN connection, all on the PostgreSQL the PG* variables (or
// DATABASE_URL) name; pg_virtualenv provides one. The publishers (64 by
// default) are spread over the instances, each calling TriggerAll (a
// server action for every connection of the page, on every instance) in
// a loop until the instances have sent -messages in all; each message
// reaches the n-1 other instances. The driver times it from the moment it
// tells every instance to start until the last one has received every
// other instance's messages.
//
// With -unbatched each message is published in a transaction of its own
// (pgnotify's PublishTx, as an app that publishes inside its own
// transactions does), so that every message costs a commit, and the
// commits' cluster-wide lock is what limits; by default Publish batches
// what is queued while its last statement runs. PublishTx also delivers
// each message back to its sender (meant for messages an app's own
// transaction sends, which no Handler applied), so there every instance
// runs every message; PostgreSQL sends the same notifications either way
// (every LISTEN connection gets every one).

// instanceFlag, as the first argument, makes the process one instance.
const instanceFlag = "-instance"

// instancesConfig is an instances run's parameters.
type instancesConfig struct {
	N          int
	Messages   int
	Publishers int
	Unbatched  bool
	Timeout    time.Duration
	stderr     io.Writer
	cmd        []string // how an instance is started (argv without its flags); the executable by default
}

// instanceReport is what an instance prints when it is done.
type instanceReport struct {
	ID        string `json:"id"`
	Published int64  `json:"published"` // messages its TriggerAll calls published
	Batches   int64  `json:"batches"`   // statements they went out in
	Received  int64  `json:"received"`  // notifications its LISTEN connection read
	Delivered int64  `json:"delivered"` // messages of other instances it ran
	Dropped   int64  `json:"dropped"`
	Error     string `json:"error,omitempty"`
}

// InstancesResult is what an instances run measured.
type InstancesResult struct {
	Instances      int              `json:"instances"`
	Messages       int              `json:"messages"`
	Publishers     int              `json:"publishers"`
	Batched        bool             `json:"batched"`
	Seconds        float64          `json:"seconds"` // start to the last delivery
	MessagesPerS   float64          `json:"messages_per_s"`
	DeliveriesPerS float64          `json:"deliveries_per_s"`
	NotifiesPerS   float64          `json:"notifications_per_s"` // messages × instances: every LISTEN connection gets every one
	PerStatement   float64          `json:"messages_per_statement"`
	LoadBefore     string           `json:"loadavg_before"`
	LoadAfter      string           `json:"loadavg_after"`
	Reports        []instanceReport `json:"instances_reports"`
}

func (r *InstancesResult) print(w io.Writer) {
	mode := "batched (Publish)"
	if !r.Batched {
		mode = "a transaction per message (PublishTx)"
	}
	fmt.Fprintf(w, "instances %d processes, %d publishers in all, %d messages, %s\n", r.Instances, r.Publishers, r.Messages, mode)
	fmt.Fprintf(w, "took      %.2f s: %.0f messages/s, %.0f deliveries/s, %.0f notifications/s sent by PostgreSQL; %.1f messages per statement\n",
		r.Seconds, r.MessagesPerS, r.DeliveriesPerS, r.NotifiesPerS, r.PerStatement)
	var dropped int64
	for _, i := range r.Reports {
		dropped += i.Dropped
	}
	fmt.Fprintf(w, "          %d dropped; load average before %s, after %s\n", dropped, r.LoadBefore, r.LoadAfter)
}

// runInstances starts the instances, has them publish, and waits for
// every delivery.
func runInstances(ctx context.Context, cfg instancesConfig) (*InstancesResult, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	stderr := &syncWriter{w: cfg.stderr} // every instance's
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		return nil, fmt.Errorf("connecting to PostgreSQL (PG* variables or DATABASE_URL): %w", err)
	}
	err = pgnotify.Setup(ctx, pool, pgnotify.WithSecret(secret))
	pool.Close()
	if err != nil {
		return nil, err
	}
	argv := cfg.cmd
	if len(argv) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		argv = []string{exe}
	}
	res := &InstancesResult{Instances: cfg.N, Messages: cfg.Messages, Publishers: cfg.Publishers, Batched: !cfg.Unbatched, LoadBefore: loadAvg()}
	type proc struct {
		cmd   *exec.Cmd
		stdin io.WriteCloser
		lines chan string
	}
	procs := make([]*proc, cfg.N)
	defer func() {
		for _, p := range procs {
			if p != nil {
				_ = p.stdin.Close()
				_ = p.cmd.Wait()
			}
		}
	}()
	for i := range procs {
		share := cfg.Messages / cfg.N
		if i < cfg.Messages%cfg.N {
			share++
		}
		pubs := max(1, cfg.Publishers/cfg.N)
		expect := cfg.Messages - share
		if cfg.Unbatched {
			expect = cfg.Messages // PublishTx echoes each message to its sender too
		}
		args := append(append([]string(nil), argv[1:]...), instanceFlag, "-id", "i"+strconv.Itoa(i),
			"-send", strconv.Itoa(share), "-expect", strconv.Itoa(expect), "-publishers", strconv.Itoa(pubs),
			"-unbatched="+strconv.FormatBool(cfg.Unbatched))
		cmd := exec.CommandContext(ctx, argv[0], args...)
		cmd.Env = append(os.Environ(), "LTLOAD_SECRET="+hex.EncodeToString(secret))
		cmd.Stderr = stderr
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
			return nil, fmt.Errorf("starting instance %d: %w", i, err)
		}
		p := &proc{cmd: cmd, stdin: stdin, lines: make(chan string, 4)}
		procs[i] = p
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				p.lines <- sc.Text()
			}
			close(p.lines)
		}()
	}
	next := func(p *proc) (string, error) {
		select {
		case l, ok := <-p.lines:
			if !ok {
				return "", errors.New("an instance ended early (its errors are above)")
			}
			return l, nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	for _, p := range procs {
		if l, err := next(p); err != nil || l != "ready" {
			return nil, fmt.Errorf("waiting for the instances: %q %v", l, err)
		}
	}
	t0 := time.Now()
	for _, p := range procs {
		if _, err := io.WriteString(p.stdin, "go\n"); err != nil {
			return nil, err
		}
	}
	var batches int64
	for _, p := range procs {
		l, err := next(p)
		if err != nil {
			return res, err
		}
		var rep instanceReport
		if err := json.Unmarshal([]byte(l), &rep); err != nil {
			return res, fmt.Errorf("an instance's report %q: %w", l, err)
		}
		if rep.Error != "" {
			return res, fmt.Errorf("instance %s: %s", rep.ID, rep.Error)
		}
		res.Reports = append(res.Reports, rep)
		batches += rep.Batches
	}
	res.Seconds = time.Since(t0).Seconds()
	res.LoadAfter = loadAvg()
	res.MessagesPerS = float64(cfg.Messages) / res.Seconds
	res.DeliveriesPerS = float64(cfg.Messages*(cfg.N-1)) / res.Seconds
	res.NotifiesPerS = float64(cfg.Messages*cfg.N) / res.Seconds
	switch {
	case cfg.Unbatched:
		res.PerStatement = 1 // a transaction each (PublishTx counts no batch)
	case batches > 0:
		res.PerStatement = float64(cfg.Messages) / float64(batches)
	}
	return res, nil
}

// txBroadcaster publishes each message in a transaction of its own.
type txBroadcaster struct {
	*pgnotify.Listener
	pool *pgxpool.Pool
}

func (b txBroadcaster) Publish(ctx context.Context, m lt.Message) error {
	tx, err := b.pool.Begin(ctx)
	if err != nil {
		return err
	}
	if err := b.Listener.PublishTx(ctx, tx, m); err != nil {
		_ = tx.Rollback(ctx)
		return err
	}
	return tx.Commit(ctx)
}

// instanceMain is one instance: it waits for "go" on stdin, publishes its
// share with its publishers, waits until it has run every other
// instance's messages, and prints its report.
func instanceMain(args []string) int {
	fs := flag.NewFlagSet("ltload -instance", flag.ContinueOnError)
	id := fs.String("id", "", "instance id")
	send := fs.Int("send", 0, "messages to publish")
	expect := fs.Int64("expect", 0, "messages of the other instances to wait for")
	pubs := fs.Int("publishers", 1, "publishing goroutines")
	unbatched := fs.Bool("unbatched", false, "a transaction per message")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	rep := instanceReport{ID: *id}
	err := instance(*id, *send, *expect, *pubs, *unbatched, &rep)
	if err != nil {
		rep.Error = err.Error()
	}
	b, _ := json.Marshal(rep)
	fmt.Printf("%s\n", b)
	if err != nil {
		return 1
	}
	return 0
}

func instance(id string, send int, expect int64, pubs int, unbatched bool, rep *instanceReport) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	secret, err := hex.DecodeString(os.Getenv("LTLOAD_SECRET"))
	if err != nil || len(secret) == 0 {
		return errors.New("no LTLOAD_SECRET")
	}
	cfg, err := pgxpool.ParseConfig(os.Getenv("DATABASE_URL"))
	if err != nil {
		return err
	}
	cfg.MaxConns = int32(pubs + 2)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	l, err := pgnotify.New(ctx, pool, pgnotify.WithSecret(secret), pgnotify.WithInstance(id),
		pgnotify.WithQueueSize(1<<20), pgnotify.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	if err != nil {
		return err
	}
	defer l.Close()
	var b lt.Broadcaster = l
	if unbatched {
		b = txBroadcaster{Listener: l, pool: pool}
	}
	page, err := lt.Parse("ltload", pageHTML)
	if err != nil {
		return err
	}
	h, err := lt.New(page, &ticker{}, tickState{}, lt.WithBroadcaster(b), lt.WithSecret(secret), lt.WithName("ltload"),
		lt.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	if err != nil {
		return err
	}
	defer h.Close()
	// Every instance is listening before any publishes.
	fmt.Println("ready")
	in := bufio.NewReader(os.Stdin)
	if line, err := in.ReadString('\n'); err != nil || line != "go\n" {
		return fmt.Errorf("waiting for go: %q %v", line, err)
	}
	go func() { // the driver closes our stdin when it is done, or dies
		_, _ = io.Copy(io.Discard, in)
		cancel()
	}()
	var left atomic.Int64
	left.Store(int64(send))
	var wg sync.WaitGroup
	var perr atomic.Value
	for range pubs {
		wg.Go(func() {
			for left.Add(-1) >= 0 {
				if err := h.TriggerAll(ctx, "tick", map[string]any{"n": 1, "sent": time.Now().UnixNano()}); err != nil {
					perr.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err, _ := perr.Load().(error); err != nil {
		return fmt.Errorf("publishing: %w", err)
	}
	for {
		hs, _ := l.Health(ctx)
		rep.Published, rep.Batches, rep.Received, rep.Delivered, rep.Dropped = hs.Published, hs.Batches, hs.Received, hs.Delivered, hs.Dropped
		if hs.Delivered >= expect {
			return nil
		}
		if hs.Dropped > 0 {
			return fmt.Errorf("%d messages dropped", hs.Dropped)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}
