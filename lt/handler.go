package lt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/livesse/livesse/internal/livetree"
	"github.com/livesse/livesse/internal/origin"
	"github.com/livesse/livesse/internal/sessioncookie"
	"github.com/livesse/livesse/internal/sse"
	"github.com/livesse/livesse/web"
)

// Handler serves one live page: the HTML on GET, the event stream on GET
// with Accept: text/event-stream, and actions on POST, all at the URL it is
// mounted on. It is an http.Handler; mount it with chi's r.Handle, r.Get /
// r.Post pairs, r.Mount, inside r.Group or r.Route with any middleware that
// does not buffer responses.
//
// A Handler is safe for concurrent use. Close it when the server shuts
// down, so that streams end and OnDisconnect runs.
type Handler struct {
	ct      *controllerType
	proto   reflect.Value
	initial []byte     // JSON of the initial state
	rs      *renderers // the page's; tpl() reads it, or dev.rs in development mode
	dev     *devMode   // WithDevMode's template reloads, or nil
	opts    options
	log     *slog.Logger
	origin  *origin.Checker
	store   *stateStore
	// stateKeys says whether connections in equal states can share a
	// render within a batch (batch.go).
	stateKeys stateKeyMode
	name      string   // the page's name among instances
	patterns  sync.Map // ServeMux patterns warned about (warnMethodPattern)
	// uploadKeys sign and check uploaded files' references, made once.
	uploadOnce sync.Once
	uploadKeys uploadKeys
	unsub      func()         // from the broadcaster
	wg         sync.WaitGroup // running connection jobs
	runner     *runner        // runs them
	cookies    sessioncookie.Signer
	m          PageMetrics // NopPageMetrics without WithMetrics
	timed      bool        // WithMetrics is set: time what it measures
	tr         Tracer      // nil without WithTracer
	written    func(events, bytes int, heartbeat bool)
	resyncing  atomic.Int64 // connections whose resync job has not run
	// plainLocks serializes the JavaScript-free posts of a session's page.
	plainLocks keyLocks

	mu        sync.Mutex
	closed    bool
	watcher   *sse.Watcher // of taken streams' clients, from the first one on (the process's poller, shared)
	noWatcher bool         // NewWatcher failed
	streams   int          // open event streams
	conns     map[string]*conn
	order     []*conn // conns in the order they opened, nil where one closed (conn.pos)
	holes     int     // nils in order
	groups    map[string]*set
	users     map[string]*set
	// pending holds the connections of rendered pages in the order they
	// were made, for WithMaxConnections and maxPending to end the oldest
	// that never got a stream; entries that did are skipped lazily.
	pending    []*conn
	npending   atomic.Int64 // connections with pending set
	maxPending int
}

// New makes the Handler for a page template, a controller prototype and an
// initial state.
//
// The controller must be a pointer to a struct. Its exported methods with
// the signature func(S, *lt.Context) (S, error), where S is the type of
// initialState, are the page's actions, called by wire name ("add_item" and
// "addItem" call AddItem). Mount, OnConnect and Sync with that signature
// and OnDisconnect() are lifecycle methods, never callable as actions. Each
// connection gets its own shallow copy of the prototype, so plain fields are
// per tab and pointer fields (a database pool) are shared.
//
// The state must round-trip through encoding/json: lt copies it that way
// and keeps each session's last state so that reloads and posts
// without JavaScript continue from it.
//
// The template is rendered with the state as dot. Parse it with Parse,
// ParseFiles or ParseFS (or with Funcs added) to use {{ltError}}; it must
// not have been executed yet.
func New(page *template.Template, controller any, initialState any, opts ...Option) (*Handler, error) {
	h, err := newHandler(func() (*renderers, error) { return newRenderers(page) }, controller, initialState, opts...)
	if err == nil && h.opts.dev && len(h.opts.devFiles) > 0 {
		if err = h.startDev(page); err != nil {
			_ = h.Close()
			return nil, err
		}
	}
	return h, err
}

// newHandler is New for the page that mk makes renderers for (a template's, or NewFunc's).
func newHandler(mk func() (*renderers, error), controller any, initialState any, opts ...Option) (*Handler, error) {
	if initialState == nil {
		return nil, fmt.Errorf("%w: initial state is nil; pass a value of your state type", ErrBadController)
	}
	st := reflect.TypeOf(initialState)
	ct, err := inspectController(controller, st)
	if err != nil {
		return nil, err
	}
	initial, err := json.Marshal(initialState)
	if err != nil {
		return nil, fmt.Errorf("%w: state %v does not encode as JSON: %v", ErrBadController, st, err)
	}
	if err := json.Unmarshal(initial, reflect.New(st).Interface()); err != nil {
		return nil, fmt.Errorf("%w: state %v does not decode from JSON: %v", ErrBadController, st, err)
	}
	rs, err := mk()
	if err != nil {
		return nil, err
	}
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	if err := o.check(); err != nil {
		return nil, err
	}
	if _, inProcess := o.broadcaster.(*busInstance); o.broadcaster != nil && !inProcess && o.secret == nil {
		return nil, fmt.Errorf("lt: WithBroadcaster needs WithSecret: every instance must sign session cookies with the same secret, or a browser moving between instances loses its session")
	}
	oc, err := origin.New(o.trusted...)
	if err != nil {
		return nil, err
	}
	if o.name == "" {
		o.name = rs.name()
	}
	if b := o.broadcaster; b != nil && !ValidInstance(b.Instance()) {
		return nil, fmt.Errorf("lt: broadcaster instance id %q: use 1 to 32 letters, digits, '_' or '-'", b.Instance())
	}
	h := &Handler{
		ct: ct, proto: reflect.ValueOf(controller), initial: initial, rs: rs, stateKeys: stateKeysFor(st),
		opts: o, log: o.logger, origin: oc, store: newStateStore(o.maxStates), name: o.name, cookies: sessioncookie.NewSigner(o.secret, o.oldSecrets...),
		conns: map[string]*conn{}, groups: map[string]*set{}, users: map[string]*set{},
	}
	h.runner = newRunner(&h.wg)
	h.maxPending = maxPending
	h.log = o.logger.With("page", h.name)
	h.m, h.tr = PageMetrics(NopPageMetrics{}), o.tracer
	if o.metrics != nil {
		h.m, h.timed = o.metrics.Page(h.name, ct.names), true
	}
	h.written = func(events, bytes int, heartbeat bool) {
		if heartbeat {
			h.m.Heartbeat()
		}
		h.m.Sent(events, bytes)
	}
	if o.broadcaster != nil {
		h.unsub = sync.OnceFunc(o.broadcaster.Subscribe(subscriber{h})) // Close may run more than once
	}
	if o.dev {
		h.log.Warn("lt: development mode: internal errors are shown to browsers; never use it in production")
	}
	return h, nil
}

// ValidInstance reports whether id can be a Broadcaster's instance id: 1
// to 32 letters, digits, '_' or '-'. Instance ids prefix connection ids,
// which travel in URLs and HTML attributes.
func ValidInstance(id string) bool {
	if id == "" || len(id) > 32 {
		return false
	}
	for _, r := range id {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// newConnID makes a connection id; with a broadcaster it names the
// instance that holds the connection, so other instances can forward
// actions for it, and the page (idTag).
func (h *Handler) newConnID() string {
	if b := h.opts.broadcaster; b != nil {
		return b.Instance() + "." + idTag(h.name) + sessioncookie.NewID() // navigate.go
	}
	return sessioncookie.NewID()
}

// ownerOf returns the instance named by a connection id, "" if none.
func ownerOf(connID string) string {
	i := strings.LastIndexByte(connID, '.')
	if i < 0 {
		return ""
	}
	return connID[:i]
}

// ServeHTTP routes by method: GET and HEAD render the page (or serve the
// event stream, or the client script), POST runs an action. HEAD of the
// event stream answers its headers alone and opens nothing.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		switch {
		case r.URL.Query().Get("_lt") == "client":
			web.Handler().ServeHTTP(w, r)
		case acceptsEventStream(r) && r.Method == http.MethodHead:
			w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
			w.Header().Set("Cache-Control", "no-cache, no-transform")
			w.WriteHeader(http.StatusOK)
		case acceptsEventStream(r):
			h.serveStream(w, r)
		default:
			h.servePage(w, r)
		}
	case http.MethodPost:
		h.serveAction(w, r)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		http.Error(w, "lt: method not allowed; live pages answer GET and POST", http.StatusMethodNotAllowed)
	}
}

func acceptsEventStream(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

// identify finds who r is for: the Authenticator, else an Identity put in
// the context by middleware, else lt's own anonymous session cookie. fresh
// says the session cookie was issued by this very response: the client
// has no state here yet.
func (h *Handler) identify(w http.ResponseWriter, r *http.Request) (id Identity, fresh bool, err error) {
	if h.opts.auth != nil {
		id, err := h.opts.auth.Identify(r)
		if err != nil {
			return Identity{}, false, err
		}
		if id = id.normalized(); id.SessionID != "" {
			return id, false, nil
		}
	} else if id, ok := IdentityFrom(r.Context()); ok && id.normalized().SessionID != "" {
		return id.normalized(), sessioncookie.Issued(r.Context()), nil
	}
	sid, issued := h.cookies.Ensure(w, r, h.opts.cookieName, h.opts.secureCookie)
	return AnonymousIdentity(sid), issued, nil
}

// initialState decodes the state a new connection (or a JavaScript-free
// request) starts from: the session's last state on this page, or the
// handler's initial state.
func (h *Handler) initialState(key string) reflect.Value {
	v := reflect.New(h.ct.state)
	if b, ok := h.store.load(key); ok && json.Unmarshal(b, v.Interface()) == nil {
		return v.Elem()
	}
	_ = json.Unmarshal(h.initial, v.Interface()) // checked in New
	return v.Elem()
}

func stateKey(id Identity, r *http.Request) string { return id.SessionID + "\x00" + r.URL.Path }

// newConn creates and registers a connection for r, runs Mount and renders
// the live region. Work for the connection that arrives after registration
// (a TriggerAction) queues behind Mount, so nothing between the render and
// the stream opening is lost. forPage says it is a rendered page's, whose
// stream opens later (if JavaScript runs), rather than a stream's.
func (h *Handler) newConn(r *http.Request, id Identity, forPage bool) (*conn, page, error) {
	ctx, cancel := context.WithCancel(longLived(r.Context()))
	key := stateKey(id, r)
	rs := h.tpl()
	c := &conn{
		h: h, id: h.newConnID(), ident: id, key: key, params: urlParams(r), url: tabURL(r),
		ctrl: h.ct.newController(h.proto), state: h.initialState(key), ctx: ctx, cancel: cancel,
		enc: livetree.NewEncoder(rs.st),
	}
	c.queue = c.queue0[:0]
	var idJSON bytes.Buffer
	writeJSONString(&idJSON, c.id)
	c.idJSON = idJSON.String()
	c.session = groupSession{h: h, group: id.SessionID}
	c.callCtx = c.baseContext()
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		cancel()
		return nil, page{}, ErrClosed
	}
	if err := h.admitLocked(id); err != nil {
		h.mu.Unlock()
		cancel()
		return nil, page{}, err
	}
	h.conns[c.id] = c
	h.m.Connections(1)
	c.pos = len(h.order)
	h.order = append(h.order, c)
	addTo(h.groups, id.SessionID, c)
	if id.UserID != "" {
		addTo(h.users, id.UserID, c)
	}
	if forPage {
		h.addPendingLocked(c)
	}
	h.mu.Unlock()

	var mountErr error
	var p page
	r, lists := withListSink(r) // what Mount and Params put in lists, the page shows (list.go)
	err := c.do(r.Context(), func() {
		if h.ct.mount != nil {
			ctx := c.newContextFor(r)
			out, err := call(*h.ct.mount, c.ctrl, c.state, ctx)
			if err != nil {
				mountErr = err
				return
			}
			c.state = out
			h.fanOut(c, ctx.bs)
		}
		if mountErr = c.mountParams(r); mountErr != nil { // navigate.go
			return
		}
		v := h.pageView(r, id)
		v.listHTML = lists.html()
		tree, plain, err := h.render(rs, c.state.Interface(), v)
		if err != nil {
			mountErr = err
			return
		}
		c.mu.Lock()
		c.change(tree, plain, nil) // the page shows this as sequence 0
		p = splitPage(c.document())
		c.mu.Unlock()
	})
	if err == nil {
		err = mountErr
	}
	if err != nil {
		h.closeConn(c)
		return nil, page{}, err
	}
	c.mu.Lock()
	if c.stream == nil && !c.closed {
		c.expireAfter(h.opts.connectTimeout)
	}
	c.mu.Unlock()
	return c, p, nil
}

// newContextFor makes the Context of Mount for a page GET: its
// context.Context is the request's, so it is not c's reused one.
func (c *conn) newContextFor(r *http.Request) *Context {
	ctx := c.baseContext()
	ctx.Context, ctx.req, ctx.lists = r.Context(), r, listSink(r)
	return &ctx
}

// set is the connections of a session or a user; for the client a
// set stands for (see clientSet), also its open streams, oldest first.
type set struct {
	conns   map[*conn]struct{}
	streams []*stream
}

func addTo(m map[string]*set, k string, c *conn) {
	s := m[k]
	if s == nil {
		s = &set{conns: map[*conn]struct{}{}}
		m[k] = s
	}
	s.conns[c] = struct{}{}
}

// removeFrom takes c out of k's set, and the set out of m once it has no
// connection: its streams are ending then (ending a connection ends its
// stream).
func removeFrom(m map[string]*set, k string, c *conn) {
	if s := m[k]; s != nil {
		delete(s.conns, c)
		if len(s.conns) == 0 {
			delete(m, k)
		}
	}
}

// closeConn unregisters c and ends it for good.
func (h *Handler) closeConn(c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closeConnLocked(c)
}

// closeConnLocked is closeConn with h.mu held. Ending the connection under
// h.mu orders the start of its OnDisconnect job (a wg.Add) before Close's
// wait, whichever goroutine (a grace timer) ends it.
func (h *Handler) closeConnLocked(c *conn) {
	if h.conns[c.id] == c {
		delete(h.conns, c.id)
		h.m.Connections(-1)
		h.order[c.pos] = nil
		if h.holes++; h.holes > len(h.order)/2 {
			h.compactOrder()
		}
		removeFrom(h.groups, c.ident.SessionID, c)
		removeFrom(h.users, c.ident.UserID, c)
	}
	c.close()
}

// compactOrder drops the holes from h.order, keeping the order. h.mu is
// held.
func (h *Handler) compactOrder() {
	n := 0
	for _, c := range h.order {
		if c != nil {
			c.pos, h.order[n] = n, c
			n++
		}
	}
	clear(h.order[n:])
	h.order, h.holes = h.order[:n], 0
}

// lookup finds a connection by id for a request from id. A connection of
// another session is never returned.
func (h *Handler) lookup(connID string, id Identity) (*conn, error) {
	h.mu.Lock()
	c := h.conns[connID]
	h.mu.Unlock()
	switch {
	case c == nil:
		return nil, ErrUnknownConnection
	case c.ident != id:
		return nil, ErrForeignConnection
	}
	return c, nil
}

// renderDocument renders the page's HTML for a request without a live
// connection.
func (h *Handler) renderDocument(state any, v view) ([]byte, error) {
	rs := h.tpl()
	tree, plain, err := h.render(rs, state, v)
	if err != nil || tree == nil {
		return plain, err
	}
	return []byte(tree.Render(rs.st)), nil
}

// members returns the connections of a session or user, except the one
// with id skip.
func (h *Handler) members(m map[string]*set, key, skip string) []*conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := m[key]
	if s == nil {
		return nil
	}
	out := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		if c.id != skip {
			out = append(out, c)
		}
	}
	return out
}

// TriggerSession runs action with data on every connection of the session,
// on every instance, and pushes each result to its tab; see
// Session.TriggerAction. With no connection open it does nothing: the
// action is for live tabs, and a page rendered later starts from Mount.
// It returns ErrUnknownAction for a name that is not an action, and the
// Broadcaster's error if the other instances could not be told by the
// time ctx is done (this instance's tabs are updated all the same).
func (h *Handler) TriggerSession(ctx context.Context, sessionID, action string, data map[string]any) error {
	return h.trigger(ctx, message{Kind: ToSession, Target: sessionID, Action: action, Data: data})
}

// TriggerUser is TriggerSession for every connection of a logged-in user
// (identified by an Authenticator), whichever sessions they are in.
func (h *Handler) TriggerUser(ctx context.Context, userID, action string, data map[string]any) error {
	return h.trigger(ctx, message{Kind: ToUser, Target: userID, Action: action, Data: data})
}

// CloseSession ends every connection of the session, on every
// instance, for good: for sign-out, so that open tabs stop receiving the
// group's updates. Their streams end; the tabs reconnect as whoever they
// now are. With no connection open it does nothing.
func (h *Handler) CloseSession(ctx context.Context, sessionID string) error {
	return h.closeTargets(ctx, message{Kind: ToSession, Target: sessionID, Close: true})
}

// CloseUser is CloseSession for every connection of a user.
func (h *Handler) CloseUser(ctx context.Context, userID string) error {
	return h.closeTargets(ctx, message{Kind: ToUser, Target: userID, Close: true})
}

func (h *Handler) closeTargets(ctx context.Context, m message) error {
	_ = h.applyLocal(m) // a close cannot fail
	return h.publish(ctx, m)
}

// TriggerAll runs action with data on every connection of the page, on
// every instance: for pages that show the same data to everyone (a
// dashboard).
func (h *Handler) TriggerAll(ctx context.Context, action string, data map[string]any) error {
	return h.trigger(ctx, message{Kind: ToAll, Action: action, Data: data})
}

func (h *Handler) trigger(ctx context.Context, m message) (err error) {
	if _, err := h.ct.lookup(m.Action); err != nil {
		return err
	}
	h.mu.Lock()
	closed := h.closed
	h.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if h.tr != nil {
		var span Span
		ctx, span = h.tr.Start(ctx, "lt.server_action", Attr{"livesse.page", h.name}, Attr{"livesse.action", m.Action})
		defer func() { span.End(err) }()
	}
	return errors.Join(h.applyLocal(m), h.publish(ctx, m))
}

// applyLocal queues m on this instance's connections. The error says on
// how many of them it could not be queued (ErrQueueFull): those end once
// their queued work is done, and their tabs mount afresh.
func (h *Handler) applyLocal(m message) error {
	if m.Close {
		for _, c := range h.targets(m) {
			h.closeConn(c)
		}
		return nil
	}
	var meth reflect.Method
	switch {
	case m.Sync && h.ct.sync == nil:
		return nil
	case m.Sync:
		meth = *h.ct.sync
	default:
		var err error
		if meth, err = h.ct.lookup(m.Action); err != nil {
			h.log.Warn("lt: message for an unknown action dropped", "from", m.Instance, "err", err)
			return err
		}
	}
	cs := h.targets(m)
	n := len(cs)
	// m.Data is shared: Context hands out copies of the map, never the map.
	act := &serverAction{m: meth, action: m.Action, data: m.Data, echo: m.FromBroadcast, b: h.newBatch(n)}
	if h.timed {
		act.start, act.n = time.Now(), n
		act.left.Store(int64(n)) // counted down by each job that runs or is dropped
	}
	idle := cs[:0] // reuses cs: an element is read before its slot is written
	full, queued := 0, 0
	for _, c := range cs {
		start, err := c.enqueueUnscheduled(job{act: act})
		switch {
		case start:
			idle = append(idle, c)
		case err == ErrQueueFull:
			full++
		}
		if err == nil {
			queued++
		}
	}
	if h.timed {
		act.finished(h, n-queued) // those not queued
	}
	h.runner.scheduleAll(idle)
	if full > 0 {
		h.log.Warn("lt: server action not run on connections whose queue is full; they end and their tabs mount afresh",
			"action", m.Action, "connections", full, "of", n)
		return fmt.Errorf("%w: %s not run on %d of %d connections; they end once their queued work is done, and their tabs mount afresh",
			ErrQueueFull, m.Action, full, n)
	}
	return nil
}

// targets returns this instance's connections a message is for.
func (h *Handler) targets(m message) []*conn {
	switch m.Kind {
	case ToAll:
		return h.all(m.Except)
	case ToUser:
		return h.members(h.users, m.Target, m.Except)
	default:
		return h.members(h.groups, m.Target, m.Except)
	}
}

// all returns every connection of this instance except the one with id
// skip, in the order they opened: a fan-out then goes through their
// memory (and their sockets') in the order it was allocated, which the
// caches and the TLB reward, where the map's order jumps at random.
func (h *Handler) all(skip string) []*conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*conn, 0, len(h.conns))
	for _, c := range h.order {
		if c != nil && c.id != skip {
			out = append(out, c)
		}
	}
	return out
}

// publish sends m to the other instances, if there are any, waiting for
// the broadcaster until ctx is done, and at most publishTimeout. The trace
// context of ctx goes with it.
func (h *Handler) publish(ctx context.Context, m message) (err error) {
	if h.opts.broadcaster == nil {
		return nil
	}
	m.Page = h.name
	if h.tr != nil {
		var span Span
		ctx, span = h.tr.Start(ctx, "lt.publish", Attr{"livesse.page", h.name}, Attr{"livesse.action", m.Action})
		defer func() { span.End(err) }()
		m.Trace = map[string]string{}
		h.tr.Inject(ctx, mapCarrier(m.Trace))
	}
	ctx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	if err := h.opts.broadcaster.Publish(ctx, Message{m}); err != nil {
		h.log.Error("lt: publishing to other instances failed", "action", m.Action, "err", err)
		return fmt.Errorf("lt: telling other instances: %w", err)
	}
	return nil
}

// publishTimeout bounds how long a server action waits for the
// broadcaster when its caller's context allows longer (Session.TriggerAction
// has no context of its own).
const publishTimeout = 5 * time.Second

// serverAction is an action that no request waits for (TriggerAction,
// Sync, BroadcastAction, a message from another instance), queued on
// every connection it reaches. An echo (an action another tab broadcast)
// cannot broadcast in turn.
type serverAction struct {
	m      reflect.Method
	action string
	data   map[string]any
	echo   bool
	b      *batch // shared work of the connections it reaches, or nil
	// With metrics: when the fan-out started, and how many of its jobs
	// have not yet run (or been dropped), for PageMetrics.FanOut.
	start time.Time
	left  atomic.Int64
	n     int
}

// finished counts k of a's jobs as done (run, or dropped with their
// connection) and reports the fan-out once none is left.
func (a *serverAction) finished(h *Handler, k int) {
	if k > 0 && !a.start.IsZero() && a.left.Add(-int64(k)) == 0 {
		h.m.FanOut(a.n, time.Since(a.start))
	}
}

// runServerAction is a's job body on c.
func (c *conn) runServerAction(a *serverAction) {
	defer a.finished(c.h, 1)
	bs, _ := c.invoke(a.m, a.action, a.data, a.b)
	if a.echo && len(bs) > 0 {
		c.h.log.Debug("lt: an action run by BroadcastAction broadcast again; not sent", "conn", c.id, "action", a.action)
		return
	}
	c.h.fanOut(c, bs)
}

// fanOut runs the actions a method of from broadcast on the other
// connections of its session.
func (h *Handler) fanOut(from *conn, bs []broadcast) {
	if len(bs) > 0 { // the group id sits in a part of the conn a fan-out does not otherwise touch
		h.fanOutGroup(from.traceCtx(), from.ident.SessionID, from, bs)
	}
}

func (h *Handler) fanOutGroup(ctx context.Context, group string, skip *conn, bs []broadcast) {
	for _, b := range bs {
		h.spread(ctx, message{Kind: ToSession, Target: group, Action: b.action, Data: b.data, Except: connID(skip), FromBroadcast: true})
	}
}

// syncGroup runs Sync on the connections of group except skip, after a
// client action.
func (h *Handler) syncGroup(ctx context.Context, group string, skip *conn, action string, data map[string]any) {
	if h.ct.sync != nil {
		h.spread(ctx, message{Kind: ToSession, Target: group, Action: action, Data: data, Sync: true, Except: connID(skip)})
	}
}

// spread applies m here and on the other instances, logging (not
// returning) a failure to publish: it follows an action that succeeded.
// ctx holds the trace of the action that caused it.
func (h *Handler) spread(ctx context.Context, m message) {
	_ = h.applyLocal(m) // logged
	_ = h.publish(context.WithoutCancel(ctx), m)
}

func connID(c *conn) string {
	if c == nil {
		return ""
	}
	return c.id
}

// Shutdown is Close with a deadline: it ends every stream at once (clients
// reconnect, to another instance or to this one's successor, and resume or
// get a full render) and waits for the actions still running until ctx is
// done, returning ctx.Err() if they did not finish.
func (h *Handler) Shutdown(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		_ = h.Close()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close ends every connection (their streams end and OnDisconnect runs),
// refuses new ones, and waits for the connections' running work to finish.
// Streams never end by themselves and http.Server.Shutdown does not end
// them: register Close with http.Server.RegisterOnShutdown (which starts
// it without waiting for it), and call it, or Shutdown, after the
// server's Shutdown returns, before the program exits. It may be called
// more than once; every call returns when the work has finished.
func (h *Handler) Close() error {
	if h.dev != nil {
		h.dev.stop()
	}
	if h.unsub != nil {
		h.unsub()
	}
	h.mu.Lock()
	h.closed = true
	for _, c := range h.conns {
		h.closeConnLocked(c)
	}
	w := h.watcher
	h.mu.Unlock()
	h.wg.Wait()
	if w != nil {
		_ = w.Close() // after the streams, which stop their watches; the last Handler's stops the poller
	}
	return nil
}

// watch has the client of a taken stream watched, so that its closing
// ends the stream at once, and returns what stops the watch. h.mu is
// held.
func (h *Handler) watch(st *sse.Stream, gone func()) (stop func()) {
	if h.watcher == nil && !h.noWatcher {
		w, err := sse.NewWatcher()
		if err != nil {
			h.log.Warn("lt: cannot watch streams for closed clients; heartbeats will notice them", "err", err)
			h.noWatcher = true
			return func() {}
		}
		h.watcher = w
	}
	if h.watcher == nil {
		return func() {}
	}
	stop, err := h.watcher.Watch(st, gone)
	if err != nil {
		h.log.Warn("lt: cannot watch a stream for its client closing; its heartbeats will notice", "err", err)
	}
	return stop
}
