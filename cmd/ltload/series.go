package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
)

// Series is a -compare -pairs n run: n pairs, one after the other, each
// the bare writer then lt, and the median of each figure's ratio over
// them. On a shared machine one pair's ratio moves with whatever else ran
// during one of its two runs; the median of several moves much less.
type Series struct {
	Pairs []*Comparison `json:"pairs"`
	// Medians has, for each figure, the median of the pairs' ratios and
	// the medians of each side's absolute figures.
	Medians []ratio `json:"medians"`
}

// runSeries runs cfg.Pairs comparisons. It returns what it measured with
// the first error; the medians are over the pairs that completed.
func runSeries(ctx context.Context, cfg config) (*Series, error) {
	s := &Series{}
	defer s.summarize()
	one := cfg
	one.Pairs = 1
	for i := range cfg.Pairs {
		cfg.progress("pair %d of %d", i+1, cfg.Pairs)
		cmp, err := runCompare(ctx, one)
		s.Pairs = append(s.Pairs, cmp)
		if err != nil {
			return s, fmt.Errorf("pair %d of %d: %w", i+1, cfg.Pairs, err)
		}
	}
	return s, nil
}

// summarize sets the medians over the pairs that have ratios.
func (s *Series) summarize() {
	var done []*Comparison
	for _, c := range s.Pairs {
		if len(c.Ratios) > 0 {
			done = append(done, c)
		}
	}
	s.Medians = nil
	if len(done) == 0 {
		return
	}
	for j, r := range done[0].Ratios {
		col := func(f func(ratio) float64) float64 {
			vs := make([]float64, len(done))
			for i, c := range done {
				vs[i] = f(c.Ratios[j])
			}
			return median(vs)
		}
		s.Medians = append(s.Medians, ratio{What: r.What, Unit: r.Unit,
			LT:    col(func(r ratio) float64 { return r.LT }),
			Bare:  col(func(r ratio) float64 { return r.Bare }),
			Ratio: col(func(r ratio) float64 { return r.Ratio }),
		})
	}
}

// median is the middle of vs, or the mean of the two middle ones.
func median(vs []float64) float64 {
	vs = slices.Clone(vs)
	slices.Sort(vs)
	n := len(vs)
	if n%2 == 1 {
		return vs[n/2]
	}
	return (vs[n/2-1] + vs[n/2]) / 2
}

// print writes a line per pair (its headline ratios and the load) and the
// medians.
func (s *Series) print(w io.Writer) {
	find := func(rs []ratio, what string) string {
		for _, r := range rs {
			if r.What == what && r.Ratio > 0 {
				return fmt.Sprintf("%.2f×", r.Ratio)
			}
		}
		return "-"
	}
	for i, c := range s.Pairs {
		if len(c.Ratios) == 0 {
			fmt.Fprintf(w, "pair %d: not completed\n", i+1)
			continue
		}
		fmt.Fprintf(w, "pair %d: p99 %s, server CPU per delivery %s, clients' CPU per delivery %s; load %s -> %s\n", i+1,
			find(c.Ratios, "latency p99"), find(c.Ratios, "server CPU per delivery"), find(c.Ratios, "clients' CPU per delivery"),
			c.Bare.LoadBefore, c.LT.LoadAfter)
	}
	if len(s.Medians) == 0 {
		return
	}
	last := s.Pairs[len(s.Pairs)-1]
	fmt.Fprintf(w, "\nmedians over the pairs: %s / bare writer\n", last.LT.Server)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if last.LT.Baseline {
		fmt.Fprintln(tw, "figure\tsecond / first\tsecond\tfirst\t")
	} else {
		fmt.Fprintln(tw, "figure\tlt / bare\tlt\tbare writer\t")
	}
	for _, r := range s.Medians {
		fmt.Fprintf(tw, "%s\t%.2f×\t%.2f %s\t%.2f %s\t\n", r.What, r.Ratio, r.LT, r.Unit, r.Bare, r.Unit)
	}
	_ = tw.Flush()
	if last.LT.Streams >= 10000 && last.LT.Server == "lt" {
		fmt.Fprintf(w, "targets   (DESIGN.md section 9, counter at 10,000 streams, medians) p99 ≤ 1.3× the bare writer: %s; server CPU per delivery ≤ 1.1×: %s\n",
			find(s.Medians, "latency p99"), find(s.Medians, "server CPU per delivery"))
	}
}
