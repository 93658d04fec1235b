package lt_test

import (
	"testing"

	"github.com/livesse/livesse/internal/test/fanouttest"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/ltprom"
	"github.com/prometheus/client_golang/prometheus"
)

// BenchmarkFanOutMetrics measures what lt/ltprom's metrics cost a fan-out:
// BenchmarkFanOut's on two Handlers side by side, one without metrics and
// one with ltprom's, which then measures every action, render and write
// and the fan-out itself (fanouttest.Compare: medians per delivery of the
// wall and CPU time of each, and their ratios):
//
//	go test ./lt -run '^$' -bench FanOutMetrics -benchtime 400x -count 5
func BenchmarkFanOutMetrics(b *testing.B) {
	reg := prometheus.NewRegistry()
	off := fanouttest.New(b)
	on := fanouttest.New(b, lt.WithMetrics(ltprom.New(reg)))
	fanouttest.Compare(b, "ltprom", off, on)

	// The metrics saw every fan-out, each reaching every stream.
	mfs, err := reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "livesse_fanout_connections_total" {
			if got, want := mf.GetMetric()[0].GetCounter().GetValue(), float64(fanouttest.Streams*b.N); got != want {
				b.Fatalf("livesse_fanout_connections_total = %v, want %v", got, want)
			}
			return
		}
	}
	b.Fatal("no livesse_fanout_connections_total")
}
