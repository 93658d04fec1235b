package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
)

// Comparison is a -compare run: the bare writer, then lt, with the same
// page size, streams, clients and actions, one after the other on the
// same machine; lt's figures are given as ratios to the bare writer's,
// which moves with the machine's load as lt's does.
type Comparison struct {
	Bare   *Result `json:"bare_writer"`
	LT     *Result `json:"lt"`
	Ratios []ratio `json:"ratios"`
}

// ratio is one figure of both runs.
type ratio struct {
	What  string  `json:"what"`
	Unit  string  `json:"unit"`
	LT    float64 `json:"lt"`
	Bare  float64 `json:"bare_writer"`
	Ratio float64 `json:"ratio"` // LT / Bare; 0 when Bare is 0
}

// runCompare runs the bare writer, then lt, and compares them; with
// cfg.Baseline it runs the bare writer twice, so that the ratios show
// what the order of the runs alone makes of them. It returns what it
// measured with the first error.
func runCompare(ctx context.Context, cfg config) (*Comparison, error) {
	bare := cfg
	bare.Baseline, bare.Compare, bare.InHandler, bare.Gzip, bare.Heartbeat = true, false, false, false, 0
	bare.HeapProfile, bare.CPUProfile = "", ""
	cmp := &Comparison{}
	var err error
	cfg.progress("the bare writer first")
	if cmp.Bare, err = run(ctx, bare); err != nil {
		return cmp, fmt.Errorf("bare writer: %w", err)
	}
	second := cfg
	second.Compare = false
	if cfg.Baseline {
		second = bare
	}
	cfg.progress("then " + second.server())
	if cmp.LT, err = run(ctx, second); err != nil {
		return cmp, fmt.Errorf("%s: %w", second.server(), err)
	}
	cmp.Ratios = ratios(cmp.LT, cmp.Bare)
	return cmp, nil
}

func ratios(l, b *Result) []ratio {
	mk := func(what, unit string, lv, bv float64) ratio {
		r := ratio{What: what, Unit: unit, LT: lv, Bare: bv}
		if bv > 0 {
			r.Ratio = lv / bv
		}
		return r
	}
	perDelivery := func(r *Result, bytes uint64) float64 {
		if r.Delivery.Delivered == 0 {
			return 0
		}
		return float64(bytes) / float64(r.Delivery.Delivered)
	}
	return []ratio{
		mk("latency p50", "ms", l.Delivery.Latency.P50, b.Delivery.Latency.P50),
		mk("latency p99", "ms", l.Delivery.Latency.P99, b.Delivery.Latency.P99),
		mk("latency max", "ms", l.Delivery.Latency.Max, b.Delivery.Latency.Max),
		mk("first fan-out, per delivery", "µs", l.FanOut.FirstPerDeliveryUs, b.FanOut.FirstPerDeliveryUs),
		mk("later fan-outs (median), per delivery", "µs", l.FanOut.LaterPerDeliveryUs, b.FanOut.LaterPerDeliveryUs),
		mk("first / later fan-out", "", l.FanOut.FirstOverLater, b.FanOut.FirstOverLater),
		mk("server CPU per delivery", "µs", l.FanOut.ServerCPUPerDeliveryUs, b.FanOut.ServerCPUPerDeliveryUs),
		mk("clients' CPU per delivery", "µs", perDelivery(l, uint64(l.CPU.Clients*1000)), perDelivery(b, uint64(b.CPU.Clients*1000))),
		mk("server RSS per idle stream", "KiB", l.Memory.IdlePerStream.RSS/1024, b.Memory.IdlePerStream.RSS/1024),
		mk("server heap+stacks per idle stream", "KiB", (l.Memory.IdlePerStream.HeapInuse+l.Memory.IdlePerStream.StackInuse)/1024,
			(b.Memory.IdlePerStream.HeapInuse+b.Memory.IdlePerStream.StackInuse)/1024),
		mk("server RSS per stream after the actions", "KiB", l.Memory.AfterPerStream.RSS/1024, b.Memory.AfterPerStream.RSS/1024),
		mk("bytes read per delivered update", "B", l.Wire.PerUpdate, b.Wire.PerUpdate),
		mk("server bytes allocated per delivery", "B", perDelivery(l, l.CPU.ServerAlloc), perDelivery(b, b.CPU.ServerAlloc)),
	}
}

// print writes both reports, then the ratios.
func (c *Comparison) print(w io.Writer) {
	if c.Bare != nil {
		c.Bare.print(w)
		fmt.Fprintln(w)
	}
	if c.LT != nil {
		c.LT.print(w)
		fmt.Fprintln(w)
	}
	if len(c.Ratios) == 0 {
		return
	}
	fmt.Fprintf(w, "second / first, same streams and actions, run in turn: %s / bare writer\n", c.LT.Server)
	fmt.Fprintf(w, "load average: bare writer %s -> %s; %s %s -> %s\n", c.Bare.LoadBefore, c.Bare.LoadAfter, c.LT.Server, c.LT.LoadBefore, c.LT.LoadAfter)
	printRatios(w, c.Ratios, c.LT, "")
}

// printRatios writes rows as a table whose columns name what second was
// (lt, or the bare writer again), then, when second is lt at 10,000 streams
// or more, the rows' figures against DESIGN.md's targets for the counter;
// of names what the ratios are (", medians").
func printRatios(w io.Writer, rows []ratio, second *Result, of string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if second.Baseline {
		fmt.Fprintln(tw, "figure\tsecond / first\tsecond\tfirst\t")
	} else {
		fmt.Fprintln(tw, "figure\tlt / bare\tlt\tbare writer\t")
	}
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%.2f %s\t%.2f %s\t\n", r.What, ratioOf(rows, r.What), r.LT, r.Unit, r.Bare, r.Unit)
	}
	_ = tw.Flush()
	if second.Streams >= 10000 && second.Server == "lt" {
		fmt.Fprintf(w, "targets   (DESIGN.md section 9, counter at 10,000 streams%s) p99 ≤ 1.3× the bare writer: %s; server CPU per delivery ≤ 1.1×: %s\n",
			of, ratioOf(rows, "latency p99"), ratioOf(rows, "server CPU per delivery"))
	}
}

// ratioOf is the ratio of the figure named what in rows as printed: "-"
// when rows have none (or no bare figure to divide by).
func ratioOf(rows []ratio, what string) string {
	for _, r := range rows {
		if r.What == what && r.Ratio > 0 {
			return fmt.Sprintf("%.2f×", r.Ratio)
		}
	}
	return "-"
}
