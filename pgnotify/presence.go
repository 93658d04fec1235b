package pgnotify

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Presence: which instances are live, so that Publish can refuse a message
// for an instance that is not (lt answers 410 Gone) before it is stored.
// Each Listener sends authenticated beacons: hello when it starts (and
// after it reconnects), which the others answer with alive at once; alive
// every ping interval; bye when it closes. An instance is live while heard
// from (a beacon or any other message) within livenessIntervals of its
// beacon interval. Beacons never reach lt.

// livenessIntervals is how many beacon intervals an instance stays live
// without being heard from.
const livenessIntervals = 3

// Bounds of the beacon interval: the ping interval, at least a second (a
// tiny ping interval must not flood the channel), and an interval that
// another instance announces is taken within these bounds.
const (
	minBeaconInterval = time.Second
	maxBeaconInterval = time.Hour
)

// minAnswerGap is the least time between two answers to hellos: the
// answers to hellos that come closer together go out as one.
const minAnswerGap = 250 * time.Millisecond

// beaconTimeout bounds sending one beacon; byeTimeout the bye of Close.
const (
	beaconTimeout = 5 * time.Second
	byeTimeout    = time.Second
)

// peers are the other instances this one has heard from.
type peers struct {
	mu      sync.Mutex
	seen    map[string]peer
	changed chan struct{} // closed, and replaced, whenever one becomes live
}

type peer struct {
	at  time.Time     // last heard from, by this instance's clock
	ttl time.Duration // live this long after
}

func (p *peers) init() {
	p.seen = map[string]peer{}
	p.changed = make(chan struct{})
}

func (l *Listener) beaconInterval() time.Duration {
	return min(max(l.cfg.pingInterval, minBeaconInterval), maxBeaconInterval)
}

// heard records a message from instance id; every is its beacon interval
// if the message is a beacon, else 0.
func (l *Listener) heard(id string, every time.Duration) {
	if id == l.cfg.instance || id == sqlInstance {
		return
	}
	p := &l.peers
	p.mu.Lock()
	defer p.mu.Unlock()
	old, known := p.seen[id]
	ttl := old.ttl
	switch {
	case every > 0:
		ttl = livenessIntervals * min(max(every, minBeaconInterval), maxBeaconInterval)
	case !known:
		ttl = livenessIntervals * l.beaconInterval()
	}
	now := l.cfg.now()
	p.seen[id] = peer{at: now, ttl: ttl}
	if !known || now.Sub(old.at) > old.ttl { // it was not live: tell awaitPeer
		close(p.changed)
		p.changed = make(chan struct{})
	}
}

// gone forgets instance id (it said bye).
func (l *Listener) gone(id string) {
	p := &l.peers
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.seen, id)
}

// live reports whether instance id is live: this instance, or one heard
// from recently enough.
func (l *Listener) live(id string) bool {
	if id == l.cfg.instance {
		return true
	}
	p := &l.peers
	p.mu.Lock()
	defer p.mu.Unlock()
	q, ok := p.seen[id]
	return ok && l.cfg.now().Sub(q.at) <= q.ttl
}

// livePeers lists the other live instances, sorted, forgetting the others.
func (l *Listener) livePeers() []string {
	p := &l.peers
	p.mu.Lock()
	defer p.mu.Unlock()
	now := l.cfg.now()
	out := []string{}
	for id, q := range p.seen {
		if now.Sub(q.at) <= q.ttl {
			out = append(out, id)
		} else {
			delete(p.seen, id)
		}
	}
	slices.Sort(out)
	return out
}

// awaitPeer waits until instance id is live.
func (l *Listener) awaitPeer(ctx context.Context, id string) error {
	for {
		l.peers.mu.Lock()
		changed := l.peers.changed
		l.peers.mu.Unlock()
		if l.live(id) {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// beaconReceived handles a beacon from another instance.
func (l *Listener) beaconReceived(from, kind string, every time.Duration) {
	switch kind {
	case beaconBye:
		l.gone(from)
	case beaconHello:
		l.heard(from, every)
		select {
		case l.answer <- struct{}{}:
		default: // an answer is due already
		}
	default:
		l.heard(from, every)
	}
	if h := l.cfg.hooks.beacon; h != nil {
		h(from, kind)
	}
}

// requestHello asks the beacon goroutine to say hello again (after a
// reconnect: the others' beacons sent meanwhile were lost).
func (l *Listener) requestHello() {
	select {
	case l.rehello <- struct{}{}:
	default:
	}
}

// beacons sends this instance's beacons until ctx ends.
func (l *Listener) beacons(ctx context.Context) {
	l.sendBeacon(ctx, beaconHello)
	tick := time.NewTicker(l.beaconInterval())
	defer tick.Stop()
	var lastAnswer time.Time
	var later <-chan time.Time // an answer held back by minAnswerGap
	answer := func() {
		later = nil
		lastAnswer = time.Now()
		l.sendBeacon(ctx, beaconAlive)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			l.sendBeacon(ctx, beaconAlive)
		case <-l.rehello:
			l.sendBeacon(ctx, beaconHello)
		case <-l.answer:
			if later != nil {
				continue // one is due already
			}
			if wait := minAnswerGap - time.Since(lastAnswer); wait > 0 {
				later = time.After(wait)
				continue
			}
			answer()
		case <-later:
			answer()
		}
	}
}

func (l *Listener) sendBeacon(ctx context.Context, kind string) {
	if l.cfg.hooks.noBeacons {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, beaconTimeout)
	defer cancel()
	if err := l.notifyBeacon(ctx, kind); err != nil && ctx.Err() == nil {
		l.refusals.note(l.log, l.cfg.now(), "beacon", "pgnotify: sending a beacon failed", err, "")
	}
}

// sayBye tells the other instances this one is leaving, so that they
// refuse messages for it at once instead of after livenessIntervals.
func (l *Listener) sayBye() {
	if l.cancel == nil || l.cfg.hooks.noBeacons {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
	defer cancel()
	_ = l.notifyBeacon(ctx, beaconBye)
}

func (l *Listener) notifyBeacon(ctx context.Context, kind string) error {
	body, err := encode(envelope{V: EnvelopeVersion, Beacon: kind, Every: l.beaconInterval().Milliseconds(), Instance: l.cfg.instance})
	if err != nil {
		return err
	}
	_, err = l.pool.Exec(ctx, "SELECT pg_notify($1, $2)", l.cfg.channel, l.keys.seal(l.cfg.channel, l.cfg.now().UnixMicro(), body))
	return err
}
