package pgnotify

import (
	"fmt"
	"sync"
	"time"
)

// MessageWindow is how far a message's time may be from the receiver's clock,
// either way: the allowance for clocks that disagree, and for a message
// made in a transaction that commits later. A message outside it is
// refused, so that a notification captured by another database role
// cannot be replayed later; within it, each message is accepted once.
const MessageWindow = 2 * time.Minute

// startSlack is how much older than its Listener's start a message may be:
// a Listener remembers nothing of what was sent before it started, so
// older messages could be replays it cannot recognise.
const startSlack = 5 * time.Second

// maxReplayIDs bounds the ids a Listener remembers (about 40 bytes each).
// At more than maxReplayIDs messages per MessageWindow it forgets the oldest ones
// first, and from then on refuses messages as old as those (see
// replayGuard.floor) rather than accept their replays.
const maxReplayIDs = 1 << 20

// replayGuard refuses messages outside the time window and messages it has
// accepted before.
type replayGuard struct {
	mu    sync.Mutex
	seen  map[uint64]struct{}
	ring  []seenID // in arrival order, from head, n of them (a circular buffer)
	head  int
	n     int
	max   int
	floor int64 // µs: messages made at or before it are refused
}

type seenID struct {
	time int64
	id   uint64
}

func newReplayGuard(start time.Time, maxIDs int) *replayGuard {
	return &replayGuard{
		seen:  map[uint64]struct{}{},
		max:   maxIDs,
		floor: start.Add(-startSlack).UnixMicro(),
	}
}

// check accepts a message made at t (µs) with the given id, now being
// the receiver's time, and remembers it; the error wraps errStale or
// errReplayed.
func (g *replayGuard) check(id uint64, t int64, now time.Time) error {
	nowUS, w := now.UnixMicro(), MessageWindow.Microseconds()
	switch {
	case t < nowUS-w:
		return fmt.Errorf("%w: made %v ago", errStale, time.Duration(nowUS-t)*time.Microsecond)
	case t > nowUS+w:
		return fmt.Errorf("%w: made %v in the future", errStale, time.Duration(t-nowUS)*time.Microsecond)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if t <= g.floor {
		return fmt.Errorf("%w: older than what this listener remembers", errStale)
	}
	for g.n > 0 && g.ring[g.head].time < nowUS-w {
		g.forget()
	}
	if _, dup := g.seen[id]; dup {
		return errReplayed
	}
	if g.n == g.max {
		g.forget()
	}
	if g.n == len(g.ring) {
		g.grow()
	}
	g.ring[(g.head+g.n)%len(g.ring)] = seenID{t, id}
	g.n++
	g.seen[id] = struct{}{}
	return nil
}

// forget drops the oldest id; messages as old as it are refused from
// now on, since their replays would no longer be recognised.
func (g *replayGuard) forget() {
	e := g.ring[g.head]
	delete(g.seen, e.id)
	g.floor = max(g.floor, e.time)
	g.head = (g.head + 1) % len(g.ring)
	g.n--
}

func (g *replayGuard) grow() {
	ring := make([]seenID, min(max(2*len(g.ring), 64), g.max))
	for i := range g.n {
		ring[i] = g.ring[(g.head+i)%len(g.ring)]
	}
	g.ring, g.head = ring, 0
}
