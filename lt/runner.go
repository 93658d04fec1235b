package lt

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// stallCheck is how long the runner waits for any job to finish, while
// connections wait for a worker, before it starts another worker.
const stallCheck = time.Millisecond

// runner runs the connections' queued work on workers that go from one
// connection to the next. A server action reaching 10,000 tabs then runs
// on a few goroutines whose stacks have already grown to run a method by
// reflection, instead of on 10,000 fresh ones.
//
// A controller method may block (on a database, on a lock), and a tab must
// not wait long behind another tab's slow method: when connections are
// waiting and no job has finished for stallCheck, the runner starts one
// more worker, and again after every further stallCheck without progress.
// Workers exit when no connection is waiting, so an idle page holds none.
type runner struct {
	base int // workers started without waiting for a stall

	mu       sync.Mutex
	ready    []*conn // connections with work and no worker, oldest first
	head     int     // ready[head:] is the queue
	workers  int
	checking bool   // a stall check is scheduled
	seen     uint64 // finished at the last stall check

	finished atomic.Uint64 // jobs done, for the stall check
}

func newRunner() *runner { return &runner{base: 2 * runtime.GOMAXPROCS(0)} }

// schedule queues c, which has work and no worker, for one.
func (r *runner) schedule(c *conn) {
	r.mu.Lock()
	r.ready = append(r.ready, c)
	if r.workers < r.base {
		r.workers++
		r.mu.Unlock()
		go r.work()
		return
	}
	if !r.checking {
		r.checking, r.seen = true, r.finished.Load()
		time.AfterFunc(stallCheck, r.checkStall)
	}
	r.mu.Unlock()
}

func (r *runner) work() {
	for {
		r.mu.Lock()
		if r.head == len(r.ready) {
			r.workers--
			r.ready, r.head = r.ready[:0], 0
			r.mu.Unlock()
			return
		}
		c := r.ready[r.head]
		r.ready[r.head] = nil
		r.head++
		if r.head >= 1024 && 2*r.head >= len(r.ready) { // under steady load the queue never empties
			n := copy(r.ready, r.ready[r.head:])
			clear(r.ready[n:])
			r.ready, r.head = r.ready[:n], 0
		}
		r.mu.Unlock()
		c.drain(r)
	}
}

func (r *runner) checkStall() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.head == len(r.ready) {
		r.checking = false
		return
	}
	if n := r.finished.Load(); n == r.seen {
		r.workers++
		go r.work()
	} else {
		r.seen = n
	}
	time.AfterFunc(stallCheck, r.checkStall)
}
