package lt

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"sync"
	"time"

	"github.com/livesse/livesse/internal/livetree"
	"github.com/livesse/livesse/internal/sse"
)

// maxQueue bounds the work waiting on one connection. It is far above what
// a live page produces; reaching it means a runaway producer or a stuck
// method. The work that does not fit is refused (ErrQueueFull), and so is
// every later job of that connection: the connection runs what it had
// accepted and then ends, so that its tab reconnects and mounts afresh
// rather than going on from a state that missed an action.
const maxQueue = 1024

// conn is one live connection: one tab's controller copy and state, its
// outgoing event log, and at most one attached stream. All work on a
// connection (actions, lifecycle methods) runs one job at a time, in order,
// on one of the runner's workers while there is work.
type conn struct {
	// The fields a job touches come first, together, in the order a
	// fan-out reaches them: it runs a job on thousands of connections whose
	// memory is no longer in any cache, and every cache line of a
	// connection it reaches costs a miss (the processor fetches the lines
	// that follow one it missed, so adjacent ones cost less).
	mu        sync.Mutex
	running   bool
	closed    bool
	overflown bool // it refused work: it ends once its queue is done
	connected bool // a stream has attached: OnConnect is queued
	onConnect bool // OnConnect has started: OnDisconnect is owed
	queue     []job
	queue0    [1]job // queue's first array, in the conn: one object less to reach
	h         *Handler
	ctrl      reflect.Value
	state     reflect.Value // only touched by jobs
	saved     *storeEntry   // where jobs save the state, once one has
	stream    *attachment
	// trace holds the span of the client action a job runs, while it
	// runs, with WithTracer; nil otherwise. Only that job touches it.
	trace   context.Context
	idJSON  string            // id as a JSON string, for every message
	out     outcome           // what the last call showed besides its state
	errMsg  view              // {{ltError}} and the rest of the tab's view
	tree    *livetree.Frag    // the page as last published
	enc     *livetree.Encoder // what statics the client has
	log     sse.Log
	callCtx Context // the Context of every job's method call (conn.call)

	id       string
	session  Session // its session group, for every Context
	ident    Identity
	key      string // state-store key: group and page path
	params   map[string]string
	url      string          // the tab's URL, path and query, as the browser shows it (navigate.go)
	moved    []byte          // the "u" of a full render once the server moved the tab (PushURL, ReplaceURL): for one that missed it; c.mu
	fallback []byte          // the live region instead, when the output did not split
	ctx      context.Context // done when the connection ends for good
	cancel   context.CancelFunc
	timer    *time.Timer // ends a connection that has no stream
	timerGen int
	pos      int  // in Handler.order, under the Handler's mu
	pending  bool // a rendered page waiting for its stream (limits.go)
	// resyncs counts its queued resync jobs, under mu (Handler.Resyncing).
	resyncs int64
	// answered is the newest update a tab applied from an action's
	// answer before it had a stream (a tree or HTML: the client applies a
	// diff only on a tree, which its first render brings), under mu: the
	// first render does not carry that update's events again.
	answered uint64
	// listSeq is the seq of the last update that carried list operations
	// (list.go), under mu: a tab behind it that the log cannot catch up
	// makes the connection mount again.
	listSeq uint64
}

// traceCtx is the context whose trace the job running now continues.
func (c *conn) traceCtx() context.Context {
	if c.trace != nil {
		return c.trace
	}
	return context.Background()
}

// job is one piece of a connection's work: f, or, for a server action
// that many connections run (a fan-out), the action shared by all of them,
// so that queueing it on 10,000 connections allocates nothing per
// connection.
type job struct {
	f   func()
	act *serverAction
}

// enqueue schedules f after the connection's earlier work.
func (c *conn) enqueue(f func()) error { return c.enqueueJob(job{f: f}) }

// enqueueJob schedules j after the connection's earlier work.
func (c *conn) enqueueJob(j job) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.queueLocked(j); err != nil {
		return err
	}
	c.scheduleLocked()
	return nil
}

// enqueueUnscheduled queues j like enqueueJob but leaves handing the
// connection to the runner to the caller, which must do it (with
// runner.scheduleAll) when idle reports true: a fan-out queues its job on
// every connection first and then wakes the workers once, rather than
// having them take the CPU from the loop that is still queueing.
func (c *conn) enqueueUnscheduled(j job) (idle bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.queueLocked(j); err != nil {
		return false, err
	}
	return c.claimLocked(), nil
}

func (c *conn) queueLocked(j job) error {
	switch {
	case c.closed:
		return ErrClosed
	case c.overflown:
		c.h.m.Overflowed()
		return ErrQueueFull
	case len(c.queue) >= maxQueue:
		c.overflown = true
		c.h.m.Overflowed()
		c.h.log.Warn("lt: connection work queue full; it ends once the queued work is done, and its tab mounts afresh",
			"conn", c.id, "queued", len(c.queue))
		return ErrQueueFull
	}
	c.queue = append(c.queue, j)
	c.h.m.Queued(1)
	return nil
}

// scheduleLocked hands the connection to the runner unless a worker
// already has it. c.mu is held.
func (c *conn) scheduleLocked() {
	if c.claimLocked() {
		c.h.runner.schedule(c)
	}
}

// claimLocked marks the connection as having a worker, or about to, and
// reports whether it was idle, in which case the caller schedules it.
// c.mu is held, which orders the WaitGroup's count before Close's wait.
func (c *conn) claimLocked() bool {
	if c.running {
		return false
	}
	c.running = true
	c.h.wg.Add(1)
	return true
}

// drain runs the connection's jobs until none is left; a runner's worker
// calls it, and settles the connection's count on the Handler's wg.
func (c *conn) drain() {
	for {
		c.mu.Lock()
		if len(c.queue) == 0 {
			c.running = false
			end := c.overflown && !c.closed
			c.mu.Unlock()
			if end {
				c.h.closeConn(c)
			}
			return
		}
		j := c.queue[0]
		// Shift rather than reslice, so that the queue keeps its array:
		// it rarely holds more than one job.
		n := copy(c.queue, c.queue[1:])
		c.queue[n] = job{}
		c.queue = c.queue[:n]
		c.mu.Unlock()
		c.h.m.Queued(-1)
		if j.act != nil {
			c.runServerAction(j.act)
		} else {
			j.f()
		}
	}
}

// do runs f as a job and waits for it, for ctx, or for the connection to
// end (which drops the jobs still queued).
func (c *conn) do(ctx context.Context, f func()) error {
	done := make(chan struct{})
	if err := c.enqueue(func() { defer close(done); f() }); err != nil {
		return err
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.ctx.Done():
		select {
		case <-done: // it ran before the end
			return nil
		default:
			return ErrClosed
		}
	}
}

// invoke runs a state method as a job body and publishes the new render.
// It returns the error the method returned (shown to this tab) and the
// broadcasts the method asked for. The state after an action becomes the
// session's saved state; after a lifecycle method (OnConnect, Sync)
// it does not, since that tab did not act.
func (c *conn) invoke(m reflect.Method, action string, data map[string]any, b *batch) (broadcasts []broadcast, err error) {
	broadcasts, _, _, err = c.invokeUpdate(m, action, data, nil, false, b)
	return broadcasts, err
}

// invokeUpdate is invoke that also returns the sequence number and update
// the method produced (seq 0 when nothing changed) and the error message
// the tab shows; req is the client's request and client says the call is
// that client's action. b, when not nil, is the batch of connections the
// same action runs on.
func (c *conn) invokeUpdate(m reflect.Method, action string, data map[string]any, req *http.Request, client bool, b *batch) (broadcasts []broadcast, pub published, msg string, err error) {
	var t0 time.Time
	if c.h.timed {
		t0 = time.Now()
	}
	out, broadcasts, err := c.call(m, action, data, req, client)
	var t1 time.Time
	if c.h.timed {
		t1 = time.Now()
	}
	switch {
	case err != nil && b != nil:
		msg = b.shownError(c, err, m.Name, action)
	case err != nil:
		msg = c.h.shownError(c.ctx, err, req, "conn", c.id, "method", m.Name, "action", action)
	default:
		c.state = out
	}
	if keepsState(err) {
		c.state = out // field errors: the tab shows what the user entered
	}
	v := c.out.view(msg)
	var r *rendering
	if b != nil {
		r = b.rendering(c.h.tpl(), c.state, v)
	}
	if err == nil && !isLifecycle(m.Name) {
		if r == nil {
			c.saved = c.h.store.save(c.saved, c.key, out)
		} else if js, err := r.stateJSON(out); err == nil && !c.saved.update(js) {
			c.saved = c.h.store.put(c.saved, c.key, js) // c.key is far from what a fan-out touches
		}
	}
	pub = c.publish(v, false, b, r)
	if c.h.timed {
		t2 := time.Now()
		if b == nil {
			c.h.m.Rendered(t2.Sub(t1)) // a batch times its renders itself, once each
		}
		if !isLifecycle(m.Name) {
			outcome := OutcomeOK
			if err != nil {
				outcome = OutcomeError
			}
			c.h.m.Action(m.Name, client, outcome, t2.Sub(t0))
		}
	}
	return broadcasts, pub, msg, err
}

// act is a client action as a job body, whether the tab posted it here or
// another instance forwarded it (req is then rebuilt from what it sent):
// the action, the broadcasts it asked for, and, when it succeeded, Sync on
// the session's other tabs. It returns the update, the error message the
// tab shows and the action's error.
func (c *conn) act(m reflect.Method, action string, data map[string]any, req *http.Request) (published, string, error) {
	bs, pub, msg, err := c.invokeUpdate(m, action, data, req, true, nil)
	if pub.seq > 0 && pub.upd.kind != 'd' {
		c.mu.Lock()
		if !c.connected {
			c.answered = pub.seq
		}
		c.mu.Unlock()
	}
	c.h.fanOut(c, bs)
	if err == nil {
		c.h.syncGroup(c.traceCtx(), c.ident.SessionID, c, action, data)
	}
	return pub, msg, err
}

// published is what publish appended to the log.
type published struct {
	seq uint64
	upd update
}

type broadcast struct {
	action string
	data   map[string]any
}

// baseContext is what every Context of a method call on c holds.
func (c *conn) baseContext() Context {
	return Context{Context: c.ctx, params: c.params, url: c.url, id: c.ident, session: c.session, h: c.h}
}

// call runs method m of c's controller on c's state as a job, with the
// Context of an action (or of a lifecycle method, for action ""), and
// returns the new state and the broadcasts the method asked for. Every
// job's call gets the same Context, c.callCtx: a Context is valid only
// during its call, and its context.Context, the part a method may keep,
// never changes. Afterwards it drops what the Context referred to, so that
// an idle connection does not keep a request or its data alive.
func (c *conn) call(m reflect.Method, action string, data map[string]any, req *http.Request, client bool) (reflect.Value, []broadcast, error) {
	ctx := &c.callCtx
	ctx.action, ctx.data, ctx.req, ctx.client, ctx.bs = action, data, req, client, nil
	ctx.nav = navigation{allowed: navAllowed(m)}
	var span Span
	if c.trace != nil {
		// The method's context carries the span, so that its own spans
		// (a query) are children of it; it is still done when the
		// connection ends. A Context of its own: the reused one's
		// context.Context must never change (a method may keep it).
		var sctx context.Context
		sctx, span = c.h.tr.Start(c.trace, "lt.call", Attr{"livesse.method", m.Name})
		own := *ctx
		own.Context = spanContext{Context: c.ctx, trace: sctx}
		ctx = &own
	}
	out, err := call(m, c.ctrl, c.state, ctx)
	if err == nil && ctx.nav.url != "" {
		out, err = c.followURL(out, ctx) // PushURL, ReplaceURL (navigate.go)
	}
	if span != nil {
		span.End(err)
	}
	bs := ctx.bs
	c.out = ctx.outcome(err)
	ctx = &c.callCtx
	ctx.action, ctx.data, ctx.req, ctx.client, ctx.bs = "", nil, nil, false, nil
	return out, bs, err
}

// spanContext is a traced call's context.Context: the connection's
// cancellation, with the values (the span) of the call's trace first.
type spanContext struct {
	context.Context
	trace context.Context
}

func (s spanContext) Value(key any) any {
	if v := s.trace.Value(key); v != nil {
		return v
	}
	return s.Context.Value(key)
}

// publish renders the current state and, when the page changed, appends
// the update to the log and wakes the attached stream. With full it
// appends a full render whether or not anything changed (a resync). r,
// when not nil, is the state's rendering shared within batch b.
func (c *conn) publish(errMsg view, full bool, b *batch, r *rendering) published {
	var span Span
	if c.trace != nil {
		_, span = c.h.tr.Start(c.trace, "lt.render")
	}
	var tree *livetree.Frag
	var plain []byte
	var err error
	if r != nil {
		tree, plain, err = r.tree, r.plain, r.err
	} else {
		tree, plain, err = c.h.render(c.h.tpl(), c.state.Interface(), errMsg)
	}
	if err != nil {
		c.h.log.Error("lt: render failed", "conn", c.id, "err", err)
		if span != nil {
			span.End(err)
		}
		if !c.h.opts.dev {
			return published{}
		}
		tree, plain = nil, devErrorHTML(err) // the page shows the error (WithDevMode)
	}
	pub, a := c.append(errMsg, full, tree, plain, b)
	if span != nil {
		span.End(nil)
		_, span = c.h.tr.Start(c.trace, "lt.publish", Attr{"livesse.seq", strconv.FormatUint(pub.seq, 10)})
	}
	if a != nil {
		a.s.deliver() // outside c.mu: it may write, and writing reads the log
	}
	if span != nil {
		span.End(nil)
	}
	return pub
}

// append makes the new rendering the connection's page and appends its
// update to the log; it returns the attachment to wake, if any.
func (c *conn) append(errMsg view, full bool, tree *livetree.Frag, plain []byte, b *batch) (published, *attachment) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errMsg = errMsg
	u, changed := c.change(tree, plain, b)
	u, changed = errMsg.carry(c, u, changed) // the events it pushed (PushEvent)
	seq := c.log.Head() + 1
	switch {
	case full:
		u = c.snapshot()
		u.lists = errMsg.lists // after Mount again: the lists start over (list.go)
		c.log.Append(eventRender(c, seq, u, ""))
	case !changed:
		return published{}, nil
	case u.kind == 'd' && len(u.statics) == 0 && u.events == nil && u.url == nil && u.lists == nil:
		// The common update, a diff of values, is logged as the diff
		// alone, which the connections of a fan-out share; next wraps it.
		c.log.Append(sse.Event{Type: loggedDiff, Data: u.body})
	default:
		c.log.Append(sse.Event{Type: "update", Data: c.message(seq, u, "")})
	}
	if u.lists != nil {
		c.listSeq = seq
	}
	// The items are in the log now: the view and the outcome hold no copy.
	c.errMsg.lists, c.errMsg.listHTML, c.out.lists = nil, nil, nil
	return published{seq, u}, c.stream
}

// response is the answer to an action POST: the update the action
// produced, or (nothing changed) just where the connection is; with the
// action's error message, if any.
func (c *conn) response(p published, errMsg string) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p.seq == 0 {
		return c.message(c.log.Head(), update{}, errMsg)
	}
	return c.message(p.seq, p.upd, errMsg)
}

// attachment is a connection's membership in a stream.
type attachment struct {
	c    *conn
	s    *stream
	seq  uint64 // what the stream has been given of this connection
	full bool   // the next read sends a full render
	// first says the tab has seen nothing of the connection but its page:
	// the first render it is sent stands for every update since, and
	// carries their events (PushEvent) so that none is lost.
	first    bool
	resume   bool   // a reconnect, not yet counted (PageMetrics.Resumed)
	replaced string // the connection id the client asked for, when c replaces it
}

// next appends to dst the connection's events the stream has not sent: the
// log after a.seq, or a full render when the client asked for one or the
// log no longer reaches back. The messages of logged diffs are written
// into buf, whose extended version it returns too.
func (a *attachment) next(dst []sse.Event, buf []byte) ([]sse.Event, []byte) {
	c := a.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stream != a {
		return dst, buf // moved to another stream
	}
	head := c.log.Head()
	first := a.first // only the attachment's first read may stand for earlier updates
	a.first = false
	if !a.full {
		if evs, ok := c.log.AppendSince(dst, a.seq); ok {
			if a.resume {
				a.resume = false
				c.h.m.Resumed(true)
			}
			a.seq = head
			for i := len(dst); i < len(evs); i++ {
				if e := &evs[i]; e.Type == loggedDiff {
					start := len(buf)
					buf = c.appendMessage(buf, e.Seq, update{kind: 'd', body: e.Data}, "", "")
					e.Type, e.Data = "update", buf[start:len(buf):len(buf)]
				}
			}
			return evs, buf
		}
	}
	if a.resume {
		a.resume = false
		c.h.m.Resumed(false)
	}
	if a.remountLocked() { // list.go
		a.full, a.seq = false, head
		return dst, buf // the render follows Mount
	}
	a.full, a.seq = false, head
	u := c.snapshot()
	if first {
		u.events = c.loggedEvents()
	}
	ev := eventRender(c, head, u, a.replaced)
	a.replaced = ""
	return append(dst, ev), buf
}

// loggedEvents is the events (PushEvent) of the updates the log keeps, in
// order, as one JSON array; nil when they have none. The first render a
// tab is sent carries them: it replaces those updates, which the tab never
// received (a server action between the page load and the stream, or
// OnConnect when it runs before the render is read). c.mu is held.
func (c *conn) loggedEvents() []byte {
	var all []byte
	evs, _ := c.log.AppendSince(nil, c.log.Head()-uint64(c.log.Len()))
	for _, e := range evs {
		if e.Type != "update" || e.Seq <= c.answered || !bytes.Contains(e.Data, []byte(`"e":`)) {
			continue // diffs logged alone and renders carry no events; the tab dispatched an answer's
		}
		var m struct {
			E json.RawMessage `json:"e"`
		}
		if json.Unmarshal(e.Data, &m) != nil || len(m.E) < 2 || m.E[0] != '[' {
			continue
		}
		inner := bytes.TrimSpace(m.E[1 : len(m.E)-1])
		if len(inner) == 0 {
			continue
		}
		if all == nil {
			all = append(all, '[')
		} else {
			all = append(all, ',')
		}
		all = append(all, inner...)
	}
	if all != nil {
		all = append(all, ']')
	}
	return all
}

// attach makes a, a member of stream s, the connection's stream, ending
// the stream it had before, and schedules OnConnect the first time.
func (c *conn) attach(s *stream, seq uint64, full bool, replaced string) (*attachment, error) {
	a := &attachment{c: c, s: s, seq: seq, full: full, replaced: replaced}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	if old := c.stream; old != nil && old.s != s {
		old.s.cancel()
	}
	c.stream = a
	a.resume = c.connected // it had a stream before: a reconnect
	c.timerGen++
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	first := !c.connected
	a.first = first && full
	c.connected = true
	c.notPendingLocked()
	c.mu.Unlock()
	if first && c.h.ct.onConnect != nil {
		m := *c.h.ct.onConnect
		err := c.enqueue(func() {
			c.mu.Lock()
			c.onConnect = true
			c.mu.Unlock()
			if bs, err := c.invoke(m, "", nil, nil); err == nil {
				c.h.fanOut(c, bs)
			}
		})
		if err != nil {
			return nil, err
		}
	}
	return a, nil
}

// detach ends a's claim on the connection and starts the grace period in
// which a reconnecting client can resume it.
func (c *conn) detach(a *attachment) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stream == a && !c.closed {
		c.stream = nil
		c.expireAfter(c.h.opts.reconnectGrace)
	}
}

// expireAfter ends the connection after d unless a stream attaches first.
// c.mu is held.
func (c *conn) expireAfter(d time.Duration) {
	c.timerGen++
	gen := c.timerGen
	if c.timer != nil {
		c.timer.Stop()
	}
	c.timer = time.AfterFunc(d, func() {
		c.mu.Lock()
		stale := gen != c.timerGen || c.stream != nil
		c.mu.Unlock()
		if !stale {
			c.h.closeConn(c)
		}
	})
}

// close ends the connection for good: its context is cancelled, its stream
// ends, pending work is dropped and OnDisconnect runs after the job in
// progress, if the stream ever opened.
func (c *conn) close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.notPendingLocked()
	if c.timer != nil {
		c.timer.Stop()
	}
	if c.stream != nil {
		c.stream.s.cancel()
	}
	for _, j := range c.queue {
		if j.act != nil {
			j.act.finished(c.h, 1) // dropped
		}
	}
	c.h.m.Queued(-len(c.queue))
	c.h.resyncing.Add(-c.resyncs) // dropped with the rest
	c.resyncs = 0
	clear(c.queue)
	c.queue = c.queue[:0]
	// OnDisconnect pairs with OnConnect: it runs once OnConnect has
	// started (an OnConnect still queued is dropped with the rest), or,
	// without OnConnect, once a stream attached.
	started := c.connected
	if c.h.ct.onConnect != nil {
		started = c.onConnect
	}
	callDisconnect := started && c.h.ct.onDisconnect != nil
	c.cancel()
	if callDisconnect {
		m := *c.h.ct.onDisconnect
		c.h.m.Queued(1)
		c.queue = append(c.queue, job{f: func() {
			defer func() {
				if p := recover(); p != nil {
					c.h.log.Error("lt: OnDisconnect panicked", "conn", c.id, "panic", p)
				}
			}()
			m.Func.Call([]reflect.Value{c.ctrl})
		}})
		c.scheduleLocked()
	}
	c.mu.Unlock()
}
