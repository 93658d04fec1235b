package pgnotify

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livesse/livesse/internal/test/pgtest"
	"github.com/livesse/livesse/lt"
	"github.com/matryer/is"
)

// metricsRecorder records what a Listener reports to its Metrics.
type metricsRecorder struct {
	mu        sync.Mutex
	published []string // "<bytes> <large>"
	lags      []time.Duration
}

func (m *metricsRecorder) Published(bytes int, large bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	kind := "small"
	if large {
		kind = "large"
	}
	m.published = append(m.published, kind)
	if bytes <= 0 {
		m.published = append(m.published, "no bytes")
	}
}

func (m *metricsRecorder) Delivered(lag time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lags = append(m.lags, lag)
}

// A delivered message's lag is the time since its sender made it.
func TestMetricsLag(t *testing.T) {
	is := is.New(t)
	rec := &metricsRecorder{}
	a := offline(t, "a", nil)
	b := offline(t, "b", nil, WithMetrics(rec))
	made := t0.Add(-1500 * time.Millisecond) // b's clock reads t0
	payload := a.keys.seal("livesse", made.UnixMicro(), mustEncode(t, envelope{V: 2, Instance: "a", Message: Msg{
		Page: "page", Kind: lt.ToAll, Action: "tick"}.M(t)}))
	_, _, ok := b.receive(t.Context(), payload)
	is.True(ok)
	_, _, ok = b.receive(t.Context(), payload) // a replay: refused, not delivered
	is.True(!ok)
	is.Equal(rec.lags, []time.Duration{1500 * time.Millisecond})
}

// Every message published is reported, large ones (through lt_messages)
// as such.
func TestMetricsPublished(t *testing.T) {
	is := is.New(t)
	pool := pgtest.Pool(t)
	is.NoErr(Setup(t.Context(), pool, WithSecret(testSecret)))
	rec := &metricsRecorder{}
	l, err := New(t.Context(), pool, WithSecret(testSecret), WithInstance("a"), WithMetrics(rec))
	is.NoErr(err)
	defer l.Close()
	is.NoErr(l.Publish(t.Context(), lt.Must(lt.ServerAction("p", lt.ToAll, "", "tick", nil))))
	is.NoErr(l.Publish(t.Context(), lt.Must(lt.ServerAction("p", lt.ToAll, "", "tick", map[string]any{"big": strings.Repeat("x", 9000)}))))
	rec.mu.Lock()
	defer rec.mu.Unlock()
	is.Equal(rec.published, []string{"small", "large"})
}
