package lt_test

import (
	"testing"

	"github.com/livesse/livesse/internal/test/fanouttest"
)

// BenchmarkFanOut measures one TriggerAll reaching 500 tabs, each its own
// session on its own loopback connection, until every tab has read its
// update (internal/test/fanouttest). Per delivery it reports the time (both
// ends share the process and the machine, as in cmd/ltload) and the
// allocations, nearly all of them the server's: the readers count update
// events in a fixed buffer.
func BenchmarkFanOut(b *testing.B) {
	f := fanouttest.New(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f.Run(b, i)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*fanouttest.Streams), "ns/delivery")
}
