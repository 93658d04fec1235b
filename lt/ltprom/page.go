package ltprom

import (
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/livesse/livesse/lt"
	"github.com/prometheus/client_golang/prometheus"
)

// reasons are lt's Refused reasons, in the order of their index.
var reasons = [...]string{
	lt.RefusedCrossSite, lt.RefusedUnauthorized, lt.RefusedBadRequest, lt.RefusedUnknownAction,
	lt.RefusedTooLarge, lt.RefusedForeign, lt.RefusedGone, lt.RefusedTooMany,
	lt.RefusedQueueFull, lt.RefusedUnavailable, lt.RefusedMount, lt.RefusedInternal,
}

// reasonIndex returns the index of reason in reasons, or -1. A switch on
// strings compiles to comparisons: no hashing.
func reasonIndex(reason string) int {
	switch reason {
	case lt.RefusedCrossSite:
		return 0
	case lt.RefusedUnauthorized:
		return 1
	case lt.RefusedBadRequest:
		return 2
	case lt.RefusedUnknownAction:
		return 3
	case lt.RefusedTooLarge:
		return 4
	case lt.RefusedForeign:
		return 5
	case lt.RefusedGone:
		return 6
	case lt.RefusedTooMany:
		return 7
	case lt.RefusedQueueFull:
		return 8
	case lt.RefusedUnavailable:
		return 9
	case lt.RefusedMount:
		return 10
	case lt.RefusedInternal:
		return 11
	}
	return -1
}

// action holds one action's instruments, bound to their label values.
type action struct {
	name    string
	count   [2][2]prometheus.Counter // by origin (client, server), then outcome (ok, error)
	latency [2]prometheus.Observer   // by origin
	// refused holds the counters of refusals by reason, made on first
	// use: most (action, reason) pairs never happen, and a counter
	// exposed at zero for each would bloat every scrape.
	refused [len(reasons)]atomic.Pointer[prometheus.Counter]
}

// page is the lt.PageMetrics of one page.
type page struct {
	m    *Metrics
	name string

	connections, streams, tabs, queued prometheus.Gauge
	render, fanOut                     prometheus.Observer
	sentEvents, sentBytes, heartbeats  prometheus.Counter
	overflows, fanOutConns             prometheus.Counter
	replayed, rendered                 prometheus.Counter

	actions []*action // sorted by name
	other   *action   // names not in actions, and refusals that name none
}

func newPage(m *Metrics, name string, actions []string) *page {
	p := &page{
		m: m, name: name,
		connections: m.connections.WithLabelValues(name),
		streams:     m.streams.WithLabelValues(name),
		tabs:        m.streamTabs.WithLabelValues(name),
		queued:      m.queued.WithLabelValues(name),
		render:      m.renderTime.WithLabelValues(name),
		fanOut:      m.fanOutTime.WithLabelValues(name),
		sentEvents:  m.sentEvents.WithLabelValues(name),
		sentBytes:   m.sentBytes.WithLabelValues(name),
		heartbeats:  m.heartbeats.WithLabelValues(name),
		overflows:   m.overflows.WithLabelValues(name),
		fanOutConns: m.fanOutConns.WithLabelValues(name),
		replayed:    m.resumes.WithLabelValues(name, modeReplay),
		rendered:    m.resumes.WithLabelValues(name, modeRender),
		other:       &action{},
	}
	names := slices.Clone(actions)
	slices.Sort(names)
	names = slices.Compact(names)
	for _, a := range names {
		if a == "" {
			continue
		}
		x := &action{name: a}
		for o, origin := range [2]string{originClient, originServer} {
			for k, outcome := range [2]string{lt.OutcomeOK, lt.OutcomeError} {
				x.count[o][k] = m.actions.WithLabelValues(name, a, origin, outcome)
			}
			x.latency[o] = m.actionTime.WithLabelValues(name, a, origin)
		}
		p.actions = append(p.actions, x)
	}
	return p
}

// action returns the instruments of the action named name: a binary
// search of the page's few names, comparing strings, no hashing.
func (p *page) action(name string) *action {
	lo, hi := 0, len(p.actions)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		switch c := strings.Compare(p.actions[mid].name, name); {
		case c == 0:
			return p.actions[mid]
		case c < 0:
			lo = mid + 1
		default:
			hi = mid
		}
	}
	return p.other
}

func (p *page) Connections(delta int) { p.connections.Add(float64(delta)) }

func (p *page) Streams(delta, tabs int) {
	if delta != 0 {
		p.streams.Add(float64(delta))
	}
	if tabs != 0 {
		p.tabs.Add(float64(tabs))
	}
}

func (p *page) Action(name string, client bool, outcome string, d time.Duration) {
	a := p.action(name)
	o := 1
	if client {
		o = 0
	}
	if a == p.other {
		// Not one of the page's actions (lt never reports one): counted
		// under action="", through the vectors.
		origin := originServer
		if client {
			origin = originClient
		}
		p.m.actions.WithLabelValues(p.name, "", origin, outcome).Inc()
		p.m.actionTime.WithLabelValues(p.name, "", origin).Observe(d.Seconds())
		return
	}
	switch outcome {
	case lt.OutcomeOK:
		a.count[o][0].Inc()
	case lt.OutcomeError:
		a.count[o][1].Inc()
	default:
		origin := originServer
		if client {
			origin = originClient
		}
		p.m.actions.WithLabelValues(p.name, name, origin, outcome).Inc()
	}
	a.latency[o].Observe(d.Seconds())
}

func (p *page) Refused(name, reason string) {
	a := p.action(name)
	i := reasonIndex(reason)
	if i < 0 {
		p.m.refused.WithLabelValues(p.name, a.name, reason).Inc()
		return
	}
	if c := a.refused[i].Load(); c != nil {
		(*c).Inc()
		return
	}
	// The first refusal of this (action, reason): two racing callers make
	// the same child of the vector, so either pointer will do.
	c := p.m.refused.WithLabelValues(p.name, a.name, reasons[i])
	a.refused[i].Store(&c)
	c.Inc()
}

func (p *page) Rendered(d time.Duration) { p.render.Observe(d.Seconds()) }

func (p *page) Sent(events, bytes int) {
	p.sentEvents.Add(float64(events))
	p.sentBytes.Add(float64(bytes))
}

func (p *page) Heartbeat() { p.heartbeats.Inc() }

func (p *page) Resumed(replayed bool) {
	if replayed {
		p.replayed.Inc()
	} else {
		p.rendered.Inc()
	}
}

func (p *page) Queued(delta int) { p.queued.Add(float64(delta)) }

func (p *page) Overflowed() { p.overflows.Inc() }

func (p *page) FanOut(conns int, d time.Duration) {
	p.fanOut.Observe(d.Seconds())
	p.fanOutConns.Add(float64(conns))
}
