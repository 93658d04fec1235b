package lt_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
)

// recorder is an lt.Metrics that counts what it is told.
type recorder struct {
	mu      sync.Mutex
	counts  map[string]int
	pages   map[string][]string
	changed chan struct{}
}

func newRecorder() *recorder {
	return &recorder{counts: map[string]int{}, pages: map[string][]string{}, changed: make(chan struct{}, 1)}
}

func (r *recorder) Page(name string, actions []string) lt.PageMetrics {
	r.mu.Lock()
	r.pages[name] = actions
	r.mu.Unlock()
	return recordPage{r}
}

func (r *recorder) add(key string, n int) {
	r.mu.Lock()
	r.counts[key] += n
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

func (r *recorder) get(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts[key]
}

// waitFor waits until every key has its value.
func (r *recorder) waitFor(t *testing.T, want map[string]int) {
	t.Helper()
	deadline := time.After(lttest.Timeout)
	for {
		ok := true
		for k, v := range want {
			ok = ok && r.get(k) == v
		}
		if ok {
			return
		}
		select {
		case <-r.changed:
		case <-deadline:
			r.mu.Lock()
			defer r.mu.Unlock()
			t.Fatalf("metrics never reached %v; they are %v", want, r.counts)
		}
	}
}

// waitAtLeast waits until the count of key reaches n: a write is
// reported once it returned, which may be after the client read it.
func (r *recorder) waitAtLeast(t *testing.T, key string, n int) {
	t.Helper()
	deadline := time.After(lttest.Timeout)
	for r.get(key) < n {
		select {
		case <-r.changed:
		case <-deadline:
			t.Fatalf("metric %s is %d, never %d", key, r.get(key), n)
		}
	}
}

type recordPage struct{ r *recorder }

func (p recordPage) Connections(d int)   { p.r.add("connections", d) }
func (p recordPage) Streams(d, tabs int) { p.r.add("streams", d); p.r.add("tabs", tabs) }
func (p recordPage) Refused(name, reason string) {
	p.r.add("refused "+name+" "+reason, 1)
}
func (p recordPage) Action(name string, client bool, outcome string, d time.Duration) {
	p.r.add(fmt.Sprintf("action %s client=%v %s", name, client, outcome), 1)
	if d <= 0 {
		p.r.add("action without a duration", 1)
	}
}
func (p recordPage) Rendered(d time.Duration) { p.r.add("rendered", 1) }
func (p recordPage) Sent(events, bytes int) {
	p.r.add("events", events)
	p.r.add("bytes", bytes)
}
func (p recordPage) Heartbeat()            { p.r.add("heartbeats", 1) }
func (p recordPage) Resumed(replayed bool) { p.r.add(fmt.Sprintf("resumed replayed=%v", replayed), 1) }
func (p recordPage) Queued(d int)          { p.r.add("queued", d) }
func (p recordPage) Overflowed()           { p.r.add("overflowed", 1) }
func (p recordPage) FanOut(conns int, d time.Duration) {
	p.r.add(fmt.Sprintf("fan-out to %d", conns), 1)
}

// The Handler tells its Metrics what it does, exactly.
func TestMetricsCountWhatHappens(t *testing.T) {
	is := is.New(t)
	rec := newRecorder()
	f := newFixture(t, lt.WithMetrics(rec))
	rec.mu.Lock()
	is.True(slices.Contains(rec.pages["page"], "Increment")) // the actions, by method name
	is.True(!slices.Contains(rec.pages["page"], "Mount"))
	rec.mu.Unlock()

	a := lttest.Open(t, f.URL+"/page")
	b := lttest.Open(t, f.URL+"/page")
	rec.waitFor(t, map[string]int{"connections": 2, "streams": 2, "tabs": 2, "heartbeats": 2})
	rec.waitAtLeast(t, "events", 4) // a heartbeat and a render each
	is.True(rec.get("bytes") > 0)

	a.Act("increment", nil)
	a.Act("fail", nil)
	r := a.Act("no_such_action", nil)
	is.Equal(r.Status, http.StatusBadRequest)
	is.NoErr(f.H.TriggerAll(context.Background(), "set_msg", map[string]any{"msg": "hi"}))
	a.WaitFor("msg=hi")
	b.WaitFor("msg=hi")
	rec.waitFor(t, map[string]int{
		"action Increment client=true ok": 1,
		"action Fail client=true error":   1,
		"refused  unknown_action":         1,
		"action SetMsg client=false ok":   2,
		"fan-out to 2":                    1,
		"queued":                          0,
		"action without a duration":       0,
		"resumed replayed=true":           0, // first streams are not resumes
		"resumed replayed=false":          0,
		"connections":                     2,
	})
	is.True(rec.get("rendered") >= 4)

	// A tab reconnecting to its connection resumes from the log; one that
	// names a connection that is gone gets a full render.
	conn, seq := a.Conn(), a.Seq()
	a.Close()
	_, ev := a.OpenStreamFor(conn, seq-1) // it missed the last update
	is.Equal(ev.Conn, conn)
	is.Equal(ev.Type, "update")
	rec.waitFor(t, map[string]int{"resumed replayed=true": 1})
	_, ev = a.OpenStreamFor("made-up", 0)
	is.True(ev.Type == "render" && ev.Conn != "made-up")
	rec.waitFor(t, map[string]int{"resumed replayed=false": 1})

	is.NoErr(f.H.Close())
	rec.waitFor(t, map[string]int{"connections": 0, "streams": 0, "tabs": 0, "queued": 0})
}

// A full queue is counted, and so is the fan-out that met it, once its
// accepted jobs ran.
func TestMetricsCountOverflows(t *testing.T) {
	is := is.New(t)
	rec := newRecorder()
	f := newFixture(t, lt.WithMetrics(rec))
	f.J.hold = make(chan struct{})
	tab := lttest.Open(t, f.URL+"/page")
	is.NoErr(f.H.TriggerAll(context.Background(), "hold", nil))
	f.J.waitFor(t, "holding")
	var full int
	for range 1100 {
		if f.H.TriggerAll(context.Background(), "increment", nil) != nil {
			full++
		}
	}
	is.Equal(full, 1100-1024)
	close(f.J.hold)
	// Every fan-out is reported once its jobs ran or were refused.
	rec.waitFor(t, map[string]int{"overflowed": full, "fan-out to 1": 1 + 1100, "queued": 0, "action Increment client=false ok": 1024})
	_ = tab
}

// span is one span a tracer recorded.
type span struct {
	id, parent, name string
	attrs            map[string]string
	err              error
}

// tracer is an lt.Tracer that records spans; its trace context is the
// span id, under the key "span".
type tracer struct {
	mu    sync.Mutex
	spans []*span
	ended chan struct{}
}

type spanKey struct{}

func (tr *tracer) Start(ctx context.Context, name string, attrs ...lt.Attr) (context.Context, lt.Span) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	s := &span{id: fmt.Sprint(len(tr.spans) + 1), name: name, attrs: map[string]string{}}
	if p, ok := ctx.Value(spanKey{}).(string); ok {
		s.parent = p
	}
	for _, a := range attrs {
		s.attrs[a.Key] = a.Value
	}
	tr.spans = append(tr.spans, s)
	return context.WithValue(ctx, spanKey{}, s.id), recordedSpan{tr, s}
}

func (tr *tracer) Inject(ctx context.Context, c lt.Carrier) {
	if p, ok := ctx.Value(spanKey{}).(string); ok {
		c.Set("span", p)
	}
}

func (tr *tracer) Extract(ctx context.Context, c lt.Carrier) context.Context {
	if _, ok := ctx.Value(spanKey{}).(string); !ok && c.Get("span") != "" {
		return context.WithValue(ctx, spanKey{}, c.Get("span"))
	}
	return ctx
}

type recordedSpan struct {
	tr *tracer
	s  *span
}

func (r recordedSpan) End(err error) {
	r.tr.mu.Lock()
	r.s.err = err
	r.tr.mu.Unlock()
	select {
	case r.tr.ended <- struct{}{}:
	default:
	}
}

// tree describes the spans as "parent-name > name" lines, by name.
func (tr *tracer) tree() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	byID := map[string]*span{}
	for _, s := range tr.spans {
		byID[s.id] = s
	}
	var out []string
	for _, s := range tr.spans {
		p := "(remote " + s.parent + ")"
		if s.parent == "" {
			p = "(root)"
		} else if ps, ok := byID[s.parent]; ok {
			p = ps.name
		}
		out = append(out, p+" > "+s.name)
	}
	return out
}

func (tr *tracer) waitFor(t *testing.T, want ...string) {
	t.Helper()
	deadline := time.After(lttest.Timeout)
	for {
		tree := tr.tree()
		ok := true
		for _, w := range want {
			ok = ok && slices.Contains(tree, w)
		}
		if ok {
			return
		}
		select {
		case <-tr.ended:
		case <-deadline:
			t.Fatalf("spans %q never included %q", tree, want)
		}
	}
}

// An action POST is a span, a child of the trace its request carries, with
// the call, the render and the publishing as children; the method's own
// context carries the call's span. A server action is a span too, and its
// publishing to the other instances carries the trace there, where the
// delivery continues it.
func TestTracesOfActions(t *testing.T) {
	is := is.New(t)
	tr := &tracer{ended: make(chan struct{}, 1)}
	bus := lt.NewBus()
	a := newInstance(t, bus.Instance("a"), lt.WithTracer(tr))
	b := newInstance(t, bus.Instance("b"), lt.WithTracer(tr))
	tab := lttest.Open(t, a.URL+"/page")
	other := lttest.Open(t, b.URL+"/page")

	req, err := http.NewRequest(http.MethodPost, a.URL+"/page", strings.NewReader(url.Values{"_lt_conn": {tab.Conn()}, "_lt_action": {"traced"}}.Encode()))
	is.NoErr(err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("span", "upstream") // the trace context of the caller
	for _, c := range tab.Jar().Cookies(req.URL) {
		req.AddCookie(c)
	}
	res, err := http.DefaultClient.Do(req)
	is.NoErr(err)
	res.Body.Close()
	is.Equal(res.StatusCode, http.StatusOK)
	tr.waitFor(t, "(remote upstream) > lt.action", "lt.action > lt.call", "lt.action > lt.render", "lt.action > lt.publish")
	tr.mu.Lock()
	var call string
	for _, s := range tr.spans {
		if s.name == "lt.call" {
			call = s.id
		}
	}
	tr.mu.Unlock()
	a.J.waitFor(t, "traced in span "+call) // the method's context holds its span

	is.NoErr(a.H.TriggerAll(context.Background(), "set_msg", map[string]any{"msg": "traced"}))
	other.WaitFor("msg=traced")
	tr.waitFor(t, "(root) > lt.server_action", "lt.server_action > lt.publish", "lt.publish > lt.deliver")
}
