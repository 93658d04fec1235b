package ltotel_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/livesse/livesse/lt/ltotel"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newMetrics returns a Metrics on a MeterProvider read by a ManualReader.
func newMetrics(t testing.TB) (*ltotel.Metrics, *sdkmetric.ManualReader) {
	t.Helper()
	r := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	m, err := ltotel.NewMetrics(mp)
	if err != nil {
		t.Fatal(err)
	}
	return m, r
}

// reading is one collection of a ManualReader, by instrument name.
type reading struct {
	t       testing.TB
	metrics map[string]metricdata.Metrics
	err     error // what Collect returned
}

// collect reads r; an error fails the test unless tolerated.
func collect(t testing.TB, r *sdkmetric.ManualReader) *reading {
	t.Helper()
	rd := collectErr(t, r)
	if rd.err != nil {
		t.Fatalf("collect: %v", rd.err)
	}
	return rd
}

func collectErr(t testing.TB, r *sdkmetric.ManualReader) *reading {
	t.Helper()
	var rm metricdata.ResourceMetrics
	err := r.Collect(context.Background(), &rm)
	rd := &reading{t: t, metrics: map[string]metricdata.Metrics{}, err: err}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != ltotel.ScopeName {
			t.Fatalf("scope %q, want %q", sm.Scope.Name, ltotel.ScopeName)
		}
		for _, m := range sm.Metrics {
			rd.metrics[m.Name] = m
		}
	}
	return rd
}

// metric returns the instrument named name, failing the test if the
// collection has none.
func (rd *reading) metric(name string) metricdata.Metrics {
	rd.t.Helper()
	m, ok := rd.metrics[name]
	if !ok {
		rd.t.Fatalf("no metric %q; have %v", name, rd.names())
	}
	return m
}

func (rd *reading) names() []string {
	var ns []string
	for n := range rd.metrics {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	return ns
}

// points lists the attribute sets of an instrument's data points, for
// failure messages.
func points[N int64 | float64](dps []metricdata.DataPoint[N]) string {
	var b strings.Builder
	for _, dp := range dps {
		fmt.Fprintf(&b, "\n\t%s = %v", dp.Attributes.Encoded(attribute.DefaultEncoder()), dp.Value)
	}
	return b.String()
}

// sum returns the value of the int64 counter (or up-down counter) named
// name at exactly attrs, and whether it has that point.
func (rd *reading) sum(name string, attrs ...attribute.KeyValue) (int64, bool) {
	rd.t.Helper()
	s, ok := rd.metric(name).Data.(metricdata.Sum[int64])
	if !ok {
		rd.t.Fatalf("%s is a %T, not an int64 sum", name, rd.metric(name).Data)
	}
	want := attribute.NewSet(attrs...)
	for _, dp := range s.DataPoints {
		if dp.Attributes.Equals(&want) {
			return dp.Value, true
		}
	}
	return 0, false
}

// count is sum, failing the test when the point is missing.
func (rd *reading) count(name string, attrs ...attribute.KeyValue) int64 {
	rd.t.Helper()
	v, ok := rd.sum(name, attrs...)
	if !ok {
		s := rd.metric(name).Data.(metricdata.Sum[int64])
		rd.t.Fatalf("%s has no point %v; it has:%s", name, attrs, points(s.DataPoints))
	}
	return v
}

// gauge returns the value of the gauge named name at exactly attrs.
func gauge[N int64 | float64](rd *reading, name string, attrs ...attribute.KeyValue) (N, bool) {
	rd.t.Helper()
	g, ok := rd.metric(name).Data.(metricdata.Gauge[N])
	if !ok {
		rd.t.Fatalf("%s is a %T, not a gauge of %T", name, rd.metric(name).Data, N(0))
	}
	want := attribute.NewSet(attrs...)
	for _, dp := range g.DataPoints {
		if dp.Attributes.Equals(&want) {
			return dp.Value, true
		}
	}
	return 0, false
}

// hist returns the point of the histogram named name at exactly attrs
// (Count 0 if there is none).
func hist[N int64 | float64](rd *reading, name string, attrs ...attribute.KeyValue) metricdata.HistogramDataPoint[N] {
	rd.t.Helper()
	h, ok := rd.metric(name).Data.(metricdata.Histogram[N])
	if !ok {
		rd.t.Fatalf("%s is a %T, not a histogram of %T", name, rd.metric(name).Data, N(0))
	}
	want := attribute.NewSet(attrs...)
	for _, dp := range h.DataPoints {
		if dp.Attributes.Equals(&want) {
			return dp
		}
	}
	return metricdata.HistogramDataPoint[N]{}
}

// histPoints is the number of points of the histogram named name.
func histPoints(rd *reading, name string) int {
	rd.t.Helper()
	return len(rd.metric(name).Data.(metricdata.Histogram[float64]).DataPoints)
}
