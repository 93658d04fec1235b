package main

import (
	"context"
	"fmt"
	"io"
	"slices"
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

// completed is the pairs that ran to their ratios.
func (s *Series) completed() []*Comparison {
	var done []*Comparison
	for _, c := range s.Pairs {
		if len(c.Ratios) > 0 {
			done = append(done, c)
		}
	}
	return done
}

// summarize sets the medians over the completed pairs.
func (s *Series) summarize() {
	done := s.completed()
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
	for i, c := range s.Pairs {
		if len(c.Ratios) == 0 {
			fmt.Fprintf(w, "pair %d: not completed\n", i+1)
			continue
		}
		fmt.Fprintf(w, "pair %d: p99 %s, server CPU per delivery %s, clients' CPU per delivery %s; load %s -> %s\n", i+1,
			ratioOf(c.Ratios, "latency p99"), ratioOf(c.Ratios, "server CPU per delivery"), ratioOf(c.Ratios, "clients' CPU per delivery"),
			c.Bare.LoadBefore, c.LT.LoadAfter)
	}
	done := s.completed()
	if len(done) == 0 {
		return
	}
	second := done[len(done)-1].LT // a pair that did not complete may have no second run
	fmt.Fprintf(w, "\nmedians over the pairs: %s / bare writer\n", second.Server)
	printRatios(w, s.Medians, second, ", medians")
}
