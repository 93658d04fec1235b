package ltotel_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/ltprom"
	"github.com/livesse/livesse/pgnotify"
	"github.com/matryer/is"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// promName is the name OpenTelemetry's Prometheus exporters give the
// metric m (the OpenTelemetry specification's "Prometheus and OpenMetrics
// compatibility", with suffixes): runs of characters other than letters,
// digits and colons become one underscore; the unit's Prometheus name is
// appended unless the name holds it already (s: seconds, By: bytes;
// annotations such as {connection} and 1 add none); monotonic sums end in
// _total, gauges of unit 1 in _ratio.
func promName(m metricdata.Metrics) string {
	tokens := strings.FieldsFunc(m.Name, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == ':')
	})
	if unit := map[string]string{"s": "seconds", "By": "bytes"}[m.Unit]; unit != "" && !slices.Contains(tokens, unit) {
		tokens = append(tokens, unit)
	}
	gauge := false
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		if d.IsMonotonic {
			tokens = append(tokens, "total")
		} else {
			gauge = true
		}
	case metricdata.Gauge[int64], metricdata.Gauge[float64]:
		gauge = true
	}
	if gauge && m.Unit == "1" {
		tokens = append(tokens, "ratio")
	}
	return strings.Join(tokens, "_")
}

// healthy is a Listener for both adapters (ltprom's needs its channel).
type healthy struct{ fakeListener }

func (healthy) Channel() string { return pgnotify.DefaultChannel }

// Through OpenTelemetry's Prometheus exporter, the instruments read as
// package ltprom's metrics, one for one, so that dashboards and alerts
// written for either adapter work with both.
func TestNamesAreThoseOfLtprom(t *testing.T) {
	is := is.New(t)
	reg := prometheus.NewRegistry()
	pm := ltprom.New(reg)
	om, r := newMetrics(t)
	l := &healthy{fakeListener{h: pgnotify.Health{
		Instance: "a", Channel: pgnotify.DefaultChannel, Connected: true, LastPing: time.Now(),
		QueueUsage: 0.1, LargeMessages: 1, LargeBytes: 9000, Peers: []string{"b"},
	}}}
	is.NoErr(pm.RegisterListener(l))
	oreg, err := om.ObserveListener(l)
	is.NoErr(err)
	defer func() { _ = oreg.Unregister() }()

	// Every measurement, on both, so that every series exists.
	for _, m := range []interface {
		lt.Metrics
		pgnotify.Metrics
	}{pm, om} {
		p := m.Page("p", []string{"Increment"})
		p.Connections(1)
		p.Streams(1, 1)
		p.Action("Increment", true, lt.OutcomeOK, time.Millisecond)
		p.Refused("Increment", lt.RefusedGone)
		p.Rendered(time.Millisecond)
		p.Sent(1, 10)
		p.Heartbeat()
		p.Resumed(true)
		p.Queued(1)
		p.Overflowed()
		p.FanOut(1, time.Millisecond)
		m.Published(10, false)
		m.Delivered(time.Millisecond)
	}

	mfs, err := reg.Gather()
	is.NoErr(err)
	var prom []string
	for _, mf := range mfs {
		prom = append(prom, mf.GetName())
	}
	var otel []string
	for _, m := range collect(t, r).metrics {
		otel = append(otel, promName(m))
	}
	slices.Sort(prom)
	slices.Sort(otel)
	is.Equal(otel, prom) // ltotel's names, as Prometheus reads them, and ltprom's
	is.True(len(prom) >= 30)
}
