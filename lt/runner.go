package lt

import (
	"runtime"
	"sync"
	"time"
)

// stallCheck is how long the runner waits for a worker to take a waiting
// connection before it starts another worker.
const stallCheck = time.Millisecond

// runner runs the connections' queued work on workers that go from one
// connection to the next. A server action reaching 10,000 tabs then runs
// on a few goroutines whose stacks have already grown to run a method by
// reflection, instead of on 10,000 fresh ones.
//
// A controller method may block (on a database, on a lock), and a tab must
// not wait long behind another tab's slow method: when connections are
// waiting and no worker has taken one for stallCheck, the runner starts
// one more worker, and again after every further stallCheck without
// progress.
// Workers exit when no connection is waiting, so an idle page holds none.
type runner struct {
	base int // workers started without waiting for a stall

	mu       sync.Mutex
	ready    []*conn // connections with work and no worker, oldest first
	head     int     // ready[head:] is the queue
	workers  int
	checking bool   // a stall check is scheduled
	taken    uint64 // connections workers have taken from ready
	seen     uint64 // taken at the last stall check

	// wg counts the connections scheduled and not yet drained. A worker
	// settles its share when it exits rather than after each connection:
	// a fan-out would otherwise have every worker write the same counter
	// for every connection, a cache line passed between the cores
	// thousands of times.
	wg *sync.WaitGroup
}

// newRunner returns a runner that marks the end of each connection's
// draining on wg, which its scheduler has added to.
func newRunner(wg *sync.WaitGroup) *runner {
	return &runner{base: 2 * runtime.GOMAXPROCS(0), wg: wg}
}

// schedule queues c, which has work and no worker, for one.
func (r *runner) schedule(c *conn) { r.scheduleAll([]*conn{c}) }

// scheduleAll queues cs, which have work and no worker, for one, in
// order, and starts the workers they need.
func (r *runner) scheduleAll(cs []*conn) {
	if len(cs) == 0 {
		return
	}
	r.mu.Lock()
	r.ready = append(r.ready, cs...)
	start := max(min(r.base-r.workers, len(cs)), 0)
	r.workers += start
	if len(cs) > start && !r.checking { // some wait for a worker
		r.checking, r.seen = true, r.taken
		time.AfterFunc(stallCheck, r.checkStall)
	}
	r.mu.Unlock()
	for range start {
		go r.work()
	}
}

func (r *runner) work() {
	drained := 0
	for {
		r.mu.Lock()
		if r.head == len(r.ready) {
			r.workers--
			r.ready, r.head = r.ready[:0], 0
			r.mu.Unlock()
			r.wg.Add(-drained)
			return
		}
		c := r.ready[r.head]
		r.ready[r.head] = nil
		r.head++
		r.taken++
		if r.head >= 1024 && 2*r.head >= len(r.ready) { // under steady load the queue never empties
			n := copy(r.ready, r.ready[r.head:])
			clear(r.ready[n:])
			r.ready, r.head = r.ready[:n], 0
		}
		r.mu.Unlock()
		c.drain()
		drained++
	}
}

func (r *runner) checkStall() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.head == len(r.ready) {
		r.checking = false
		return
	}
	if r.taken == r.seen { // connections wait, and no worker came for one
		r.workers++
		go r.work()
	} else {
		r.seen = r.taken
	}
	time.AfterFunc(stallCheck, r.checkStall)
}
