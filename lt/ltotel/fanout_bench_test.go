package ltotel_test

import (
	"testing"

	"github.com/livesse/livesse/internal/test/fanouttest"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/ltotel"
)

// BenchmarkFanOut measures what ltotel's metrics cost a fan-out: one
// TriggerAll reaching 500 streams (internal/test/fanouttest) on two Handlers
// side by side, one without metrics and one with ltotel's (on the
// OpenTelemetry SDK, read by a ManualReader); fanouttest.Compare reports
// the median wall and CPU time per delivery of each, and their ratios:
//
//	go test ./lt/ltotel -run '^$' -bench FanOut -benchtime 400x -count 5
func BenchmarkFanOut(b *testing.B) {
	m, r := newMetrics(b)
	off := fanouttest.New(b)
	on := fanouttest.New(b, lt.WithMetrics(m))
	fanouttest.Compare(b, "ltotel", off, on)

	// The metrics saw every fan-out, each reaching every stream.
	rd := collect(b, r)
	if got, want := rd.count("livesse.fanout.connections", ltotel.PageKey.String(fanouttest.Page)), int64(fanouttest.Streams*b.N); got != want {
		b.Fatalf("livesse.fanout.connections = %d, want %d", got, want)
	}
}
