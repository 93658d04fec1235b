package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/livesse/livesse/internal/test/pgtest"
	"github.com/matryer/is"
	"go.uber.org/goleak"
)

// TestMain doubles as the server: run re-executes the test binary with
// -serve, as the command re-executes itself.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == serveFlag {
		os.Exit(serveMain(os.Args[2:]))
	}
	if len(os.Args) > 1 && os.Args[1] == instanceFlag {
		os.Exit(instanceMain(os.Args[2:]))
	}
	goleak.VerifyTestMain(m)
}

// TestSmallRun runs the whole tool (server process, streams, actions) at a
// small size and checks that every action reached every stream as an
// update. It asserts no timing.
func TestSmallRun(t *testing.T) {
	is := is.New(t)
	cfg := defaultConfig()
	cfg.N, cfg.K = 50, 3
	cfg.Interval, cfg.Settle = 20*time.Millisecond, 50*time.Millisecond
	cfg.Timeout, cfg.ActionWait = 2*time.Minute, 30*time.Second
	var progress bytes.Buffer
	cfg.stderr = &progress
	res, err := run(context.Background(), cfg)
	t.Log(progress.String())
	is.NoErr(err)
	is.Equal(res.Open.Opened, 50)
	is.Equal(res.Open.Failed, 0)
	is.Equal(res.Fired, 3)
	is.Equal(res.Delivery.Expected, 150)
	is.Equal(res.Delivery.Delivered, 150) // every action reached every stream
	is.Equal(res.Delivery.Dropped, 0)
	is.Equal(res.Delivery.ResyncRenders, 0) // as updates, not renders
	is.Equal(res.Delivery.StreamErrors, 0)
	is.Equal(res.Delivery.OtherEvents, 0)
	is.Equal(len(res.PerAction), 3)
	for i, a := range res.PerAction {
		is.Equal(a.N, i+1)
		is.Equal(a.Delivered, 50)
	}
	is.Equal(res.Memory.Idle.Streams, int64(50)) // the server saw them all
	is.True(res.Memory.Idle.RSS > 0)

	var out bytes.Buffer
	res.print(&out)
	is.True(bytes.Contains(out.Bytes(), []byte("150/150 delivered, 0 dropped")))
	is.True(bytes.Contains(out.Bytes(), []byte("server    lt\n")))
	b, err := json.Marshal(res)
	is.NoErr(err)
	var back Result
	is.NoErr(json.Unmarshal(b, &back))
	is.Equal(back.Delivery.Delivered, 150)
}

// TestBaselineRun runs the tool against the bare writer of -baseline: the
// same clients and triggers must see every update, and the report must
// say that no lt served them.
func TestBaselineRun(t *testing.T) {
	is := is.New(t)
	cfg := defaultConfig()
	cfg.N, cfg.K, cfg.Baseline = 20, 3, true
	cfg.Interval, cfg.Settle = 20*time.Millisecond, 50*time.Millisecond
	cfg.Timeout, cfg.ActionWait = 2*time.Minute, 30*time.Second
	var progress bytes.Buffer
	cfg.stderr = &progress
	res, err := run(context.Background(), cfg)
	t.Log(progress.String())
	is.NoErr(err)
	is.True(res.Baseline)
	is.Equal(res.Open.Opened, 20)
	is.Equal(res.Open.Failed, 0)
	is.Equal(res.Fired, 3)
	is.Equal(res.Delivery.Expected, 60)
	is.Equal(res.Delivery.Delivered, 60) // every update reached every stream
	is.Equal(res.Delivery.Dropped, 0)
	is.Equal(res.Delivery.ResyncRenders, 0)
	is.Equal(res.Delivery.StreamErrors, 0)
	is.Equal(res.Delivery.OtherEvents, 0)
	for i, a := range res.PerAction {
		is.Equal(a.N, i+1)
		is.Equal(a.Delivered, 20)
	}
	is.Equal(res.Memory.Idle.Streams, int64(20))                          // the server registered them all
	is.True(res.Memory.Idle.Goroutines-res.Memory.Before.Goroutines < 10) // and holds no goroutine per stream

	var out bytes.Buffer
	res.print(&out)
	is.True(bytes.Contains(out.Bytes(), []byte("server    bare writer (baseline, no lt)")))
	is.True(bytes.Contains(out.Bytes(), []byte("60/60 delivered, 0 dropped")))
	b, err := json.Marshal(res)
	is.NoErr(err)
	is.True(bytes.Contains(b, []byte(`"server":"bare writer (baseline, no lt)"`)))
}

func TestRefusesNonLoopback(t *testing.T) {
	is := is.New(t)
	for _, a := range []string{"127.0.0.1:0", "127.1.2.3:8080", "[::1]:0", "localhost:0"} {
		is.NoErr(checkLoopback(a))
	}
	for _, a := range []string{":0", "0.0.0.0:0", "[::]:0", "10.0.0.1:80", "192.168.1.2:0", "example.com:80", "127.0.0.1"} {
		is.True(checkLoopback(a) != nil) // refused
	}
	cfg := defaultConfig()
	cfg.Listen = "0.0.0.0:0"
	_, err := run(context.Background(), cfg) // refused before anything starts
	is.True(err != nil)
	_, err = parseFlags([]string{"-listen", "192.168.0.1:9000"}, &bytes.Buffer{})
	is.True(err != nil)
}

func TestParseStamp(t *testing.T) {
	is := is.New(t)
	n, sent, ok := parseStamp([]byte(`{"c":"x","s":3,"d":{"0":"tick:3:1712345678901234567"}}`))
	is.True(ok)
	is.Equal(n, 3)
	is.Equal(sent, int64(1712345678901234567))
	_, _, ok = parseStamp([]byte(`{"d":{"0":"no stamp"}}`))
	is.True(!ok)
	_, _, ok = parseStamp([]byte(`tick:3`))
	is.True(!ok)
}

func TestFlags(t *testing.T) {
	is := is.New(t)
	cfg, err := parseFlags([]string{"-n", "10000", "-k", "20", "-timeout", "3m"}, &bytes.Buffer{})
	is.NoErr(err)
	is.Equal(cfg.N, 10000)
	is.Equal(cfg.K, 20)
	_, err = parseFlags([]string{"-n", "0"}, &bytes.Buffer{})
	is.True(err != nil)
	_, err = parseFlags([]string{"-n", "1000000"}, &bytes.Buffer{}) // bounded
	is.True(err != nil)
	cfg, err = parseFlags([]string{"-baseline"}, &bytes.Buffer{})
	is.NoErr(err)
	is.True(cfg.Baseline)
	_, err = parseFlags([]string{"-baseline", "-in-handler"}, &bytes.Buffer{}) // no lt to configure
	is.True(err != nil)
}

// TestGzipRun runs the tool with gzipped streams and without, at a small
// size: every update arrives either way, and the gzipped run reads fewer
// bytes from the sockets per update (a count of bytes, not a timing).
func TestGzipRun(t *testing.T) {
	is := is.New(t)
	wire := map[bool]float64{}
	for _, gz := range []bool{false, true} {
		cfg := defaultConfig()
		cfg.N, cfg.K, cfg.Gzip = 20, 5, gz
		cfg.Interval, cfg.Settle = 20*time.Millisecond, 50*time.Millisecond
		cfg.Timeout, cfg.ActionWait = 2*time.Minute, 30*time.Second
		var progress bytes.Buffer
		cfg.stderr = &progress
		res, err := run(context.Background(), cfg)
		t.Log(progress.String())
		is.NoErr(err)
		is.Equal(res.Gzip, gz)
		is.Equal(res.Delivery.Delivered, 100)
		is.Equal(res.Delivery.StreamErrors, 0)
		is.True(res.Wire.PerUpdate > 0)
		wire[gz] = res.Wire.PerUpdate
		var out bytes.Buffer
		res.print(&out)
		is.Equal(bytes.Contains(out.Bytes(), []byte("server    lt, gzipped streams\n")), gz)
	}
	t.Logf("wire bytes per update: %.1f as is, %.1f gzipped", wire[false], wire[true])
	is.True(wire[true] < wire[false])
}

// TestTableCompareRun runs -compare on the table page, with equal states
// and with a different order per stream: both servers deliver every
// action to every stream as an update, and each figure comes as a ratio.
func TestTableCompareRun(t *testing.T) {
	for _, differ := range []bool{false, true} {
		t.Run(map[bool]string{false: "equal", true: "differ"}[differ], func(t *testing.T) {
			is := is.New(t)
			cfg := defaultConfig()
			cfg.N, cfg.K, cfg.Page, cfg.Differ, cfg.Compare = 20, 3, pageTable, differ, true
			cfg.Interval, cfg.Settle = 20*time.Millisecond, 50*time.Millisecond
			cfg.Timeout, cfg.ActionWait = 2*time.Minute, 30*time.Second
			var progress bytes.Buffer
			cfg.stderr = &progress
			cmp, err := runCompare(context.Background(), cfg)
			t.Log(progress.String())
			is.NoErr(err)
			for _, r := range []*Result{cmp.Bare, cmp.LT} {
				is.Equal(r.Open.Opened, 20)
				is.Equal(r.Delivery.Delivered, 60) // every action reached every stream
				is.Equal(r.Delivery.ResyncRenders, 0)
				is.Equal(r.Delivery.StreamErrors, 0)
				is.True(r.FanOut.FirstMs > 0)
				is.True(r.FanOut.LaterMedianMs > 0)
			}
			is.True(cmp.Bare.Baseline)
			is.True(!cmp.LT.Baseline)
			is.True(len(cmp.Ratios) > 0)
			for _, r := range cmp.Ratios {
				if r.Bare > 0 {
					is.Equal(r.Ratio, r.LT/r.Bare)
				}
			}
			var out bytes.Buffer
			cmp.print(&out)
			is.True(bytes.Contains(out.Bytes(), []byte("run in turn: lt; table page")))
			is.Equal(bytes.Contains(out.Bytes(), []byte("a different order per stream")), differ)
		})
	}
}

// TestCompareBareTwice runs -compare -baseline: the bare writer twice, so
// that the ratios are what the order of the runs alone makes.
func TestCompareBareTwice(t *testing.T) {
	is := is.New(t)
	cfg, err := parseFlags([]string{"-compare", "-baseline", "-n", "20", "-k", "3", "-interval", "20ms", "-settle", "50ms"}, &bytes.Buffer{})
	is.NoErr(err)
	cfg.stderr = &bytes.Buffer{}
	cmp, err := runCompare(context.Background(), cfg)
	is.NoErr(err)
	for _, r := range []*Result{cmp.Bare, cmp.LT} {
		is.True(r.Baseline) // both runs are the bare writer's
		is.Equal(r.Delivery.Delivered, 60)
	}
	var out bytes.Buffer
	cmp.print(&out)
	is.True(bytes.Contains(out.Bytes(), []byte("run in turn: bare writer (baseline, no lt) / bare writer")))
}

// TestCompareSeries runs -compare -pairs 3: three pairs, every one of
// them delivering everything, and each figure's median over them.
func TestCompareSeries(t *testing.T) {
	is := is.New(t)
	cfg, err := parseFlags([]string{"-compare", "-pairs", "3", "-n", "20", "-k", "3", "-interval", "20ms", "-settle", "50ms"}, &bytes.Buffer{})
	is.NoErr(err)
	cfg.stderr = &bytes.Buffer{}
	s, err := runSeries(context.Background(), cfg)
	is.NoErr(err)
	is.Equal(len(s.Pairs), 3)
	for _, c := range s.Pairs {
		is.True(c.Bare.Baseline && !c.LT.Baseline)
		is.Equal(c.LT.Delivery.Delivered, 60)
	}
	is.Equal(len(s.Medians), len(s.Pairs[0].Ratios))
	for j, m := range s.Medians {
		var rs []float64
		for _, c := range s.Pairs {
			rs = append(rs, c.Ratios[j].Ratio)
		}
		slices.Sort(rs)
		is.Equal(m.What, s.Pairs[0].Ratios[j].What)
		is.Equal(m.Ratio, rs[1]) // the middle one of three
	}
	var out bytes.Buffer
	s.print(&out)
	is.True(bytes.Contains(out.Bytes(), []byte("pair 3: p99 ")))
	is.True(bytes.Contains(out.Bytes(), []byte("medians over the pairs: lt / bare writer")))

	// A pair cut short (its lt run failed) is listed, and the medians stay
	// those of the pairs that completed.
	s.Pairs = append(s.Pairs, &Comparison{Bare: s.Pairs[0].Bare})
	medians := s.Medians
	s.summarize()
	is.Equal(s.Medians, medians)
	out.Reset()
	s.print(&out)
	is.True(bytes.Contains(out.Bytes(), []byte("pair 4: not completed")))
	is.True(bytes.Contains(out.Bytes(), []byte("medians over the pairs: lt / bare writer")))
}

func TestMedian(t *testing.T) {
	is := is.New(t)
	is.Equal(median([]float64{3, 1, 2}), 2.0)
	is.Equal(median([]float64{4, 1, 3, 2}), 2.5)
	in := []float64{2, 1}
	_ = median(in)
	is.Equal(in, []float64{2, 1}) // left as it was
}

func TestPageFlags(t *testing.T) {
	is := is.New(t)
	cfg, err := parseFlags([]string{"-page", "table", "-states", "differ", "-compare"}, &bytes.Buffer{})
	is.NoErr(err)
	is.Equal(cfg.Page, pageTable)
	is.True(cfg.Differ && cfg.Compare)
	for _, bad := range [][]string{
		{"-page", "chart"},
		{"-states", "differ"}, // the counter has one state
		{"-states", "some"},
		{"-pairs", "3"}, // without -compare
		{"-compare", "-pairs", "0"},
	} {
		_, err := parseFlags(bad, &bytes.Buffer{})
		is.True(err != nil) // refused
	}
}

// TestInstancesRun starts two instance processes on a PostgreSQL database
// of the test's own (pgtest; skipped without PostgreSQL), batched and a
// transaction per message: every message one instance publishes is run by
// the other, and none is dropped.
func TestInstancesRun(t *testing.T) {
	pgtest.Require(t)
	if os.Getenv("DATABASE_URL") != "" {
		t.Skip("the instances find their database through the PG* variables (pg_virtualenv)")
	}
	db := pgtest.Pool(t)
	t.Setenv("PGDATABASE", db.Config().ConnConfig.Database)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, unbatched := range []bool{false, true} {
		is := is.New(t)
		var stderr bytes.Buffer
		res, err := runInstances(context.Background(), instancesConfig{N: 2, Messages: 200, Publishers: 8, Unbatched: unbatched,
			Timeout: time.Minute, stderr: &stderr, cmd: []string{exe}})
		t.Log(stderr.String())
		is.NoErr(err)
		is.Equal(len(res.Reports), 2)
		var published, delivered int64
		for _, r := range res.Reports {
			published += r.Published
			delivered += r.Delivered
			is.Equal(r.Dropped, int64(0))
		}
		is.Equal(published, int64(200))
		is.Equal(res.Batched, !unbatched)
		if unbatched {
			is.Equal(delivered, int64(400)) // PublishTx: each message reached both instances
			is.Equal(res.PerStatement, 1.0) // a commit each
		} else {
			is.Equal(delivered, int64(200)) // each message reached the other instance
		}
	}
}
