package lt

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
)

// Kind says which connections a Message is for.
type Kind string

// The kinds of Message.
const (
	ToGroup Kind = "group" // every connection of a session group
	ToUser  Kind = "user"  // every connection of a user
	ToConn  Kind = "conn"  // one connection: an action POST that reached another instance
	ToAll   Kind = "all"   // every connection of the page (Target is unused)
)

// Message is a server action travelling between instances. Data crosses
// as JSON, so numbers arrive as float64 (Context.GetInt and Bind convert).
type Message struct {
	Instance string         `json:"i"`           // the sending instance
	Page     string         `json:"p"`           // the Handler's name (WithName); "" for every page that has Action
	Kind     Kind           `json:"k"`           // group, user or conn
	Target   string         `json:"t"`           // the group id, user id or connection id
	Action   string         `json:"a"`           // wire name of the action
	Data     map[string]any `json:"d,omitempty"` // the action's data
	// Except is a connection the message must skip (the tab whose action
	// caused a Sync or BroadcastAction).
	Except string `json:"x,omitempty"`
	// Sync runs the controller's Sync method (after a client action in
	// another tab) instead of Action, which then names the action that was
	// run there.
	Sync bool `json:"s,omitempty"`
	// Identity is the requester of a forwarded action (Kind ToConn); the
	// instance that holds the connection checks it owns it.
	Identity *Identity `json:"id,omitempty"`
	// FromBroadcast marks an action sent by BroadcastAction: running it, a
	// connection cannot broadcast again, which would echo forever.
	FromBroadcast bool `json:"b,omitempty"`
	// Close ends the target connections (CloseGroup, CloseUser, or, with
	// Kind ToConn, the connection of a tab that left, whose beacon reached
	// another instance) instead of running an action; Action is empty.
	Close bool `json:"z,omitempty"`
	// To is the one instance the message is for, "" for every instance: a
	// forwarded POST goes to the instance that holds its connection.
	To string `json:"to,omitempty"`
	// Request is the action POST a message of Kind ToConn carries: the
	// instance holding the connection runs it as that client's action,
	// with the same request data (Context.Request, Context.FromClient) as
	// on the instance that received it.
	Request *ForwardedRequest `json:"rq,omitempty"`
	// Trace is the trace context of the work that sent the message (see
	// Tracer), so that the receiving instance's spans continue its trace.
	Trace map[string]string `json:"tc,omitempty"`
}

// ForwardedRequest is what travels of an action POST that reached an
// instance which does not hold its connection. Only authenticated
// instances can send one (a Broadcaster must make sure of that): the
// receiver trusts it as the POST it forwards.
type ForwardedRequest struct {
	Method     string      `json:"m"`
	URL        string      `json:"u"` // the request URI: path and query
	Host       string      `json:"h,omitempty"`
	RemoteAddr string      `json:"ra,omitempty"`
	TLS        bool        `json:"tls,omitempty"` // it came over TLS
	Header     http.Header `json:"hd,omitempty"`
	Form       url.Values  `json:"f,omitempty"` // the form values, files left out
}

// Broadcaster carries Messages between the instances of an app, so that a
// TriggerAction, a Sync or a POST reaches a tab wherever its stream lives.
// Without one, a Handler reaches the connections of its own process only.
// Package pgnotify implements it over Postgres LISTEN/NOTIFY; Bus connects
// instances within one process.
type Broadcaster interface {
	// Instance is this instance's id, unique among the app's instances.
	Instance() string
	// Publish sends m to every other instance, or, when m.To is set, to
	// that instance only, returning an error wrapping ErrNoInstance if no
	// live instance has that id. It must not deliver m back to this
	// instance's own subscribers: the sender applies it locally.
	//
	// Messages carry client actions (Kind ToConn) and identities, so a
	// Broadcaster must deliver only what another instance of the app sent
	// (authenticated), never what anyone who can reach its channel wrote.
	Publish(ctx context.Context, m Message) error
	// Subscribe registers s for the messages of other instances until the
	// returned function is called.
	Subscribe(s Subscriber) (unsubscribe func())
}

// Subscriber receives what a Broadcaster carries. Both methods must return
// quickly; a Handler only queues work in them.
type Subscriber interface {
	// Deliver applies a message from another instance.
	Deliver(m Message)
	// Resync says messages may have been lost (the broadcaster reconnected
	// or fell behind): every local connection must render afresh.
	Resync()
}

// WithBroadcaster connects the Handler to the app's other instances.
func WithBroadcaster(b Broadcaster) Option { return func(o *options) { o.broadcaster = b } }

// WithName names the page among the Handlers sharing a Broadcaster; every
// instance must use the same name for the same page. The default is the
// template's name.
func WithName(name string) Option { return func(o *options) { o.name = name } }

// Bus is an in-memory Broadcaster hub: each Instance behaves like a
// separate process of the app, so multi-instance behaviour can be run and
// tested without a database. Messages are delivered in order, on a
// goroutine per instance, never blocking Publish.
type Bus struct {
	mu        sync.Mutex
	instances map[string]*busInstance
}

// NewBus returns an empty Bus.
func NewBus() *Bus { return &Bus{instances: map[string]*busInstance{}} }

// Instance returns the Broadcaster of the instance with the given id,
// creating it on first use.
func (b *Bus) Instance(id string) Broadcaster {
	b.mu.Lock()
	defer b.mu.Unlock()
	if in, ok := b.instances[id]; ok {
		return in
	}
	in := &busInstance{bus: b, id: id, subs: map[*Subscriber]struct{}{}}
	b.instances[id] = in
	return in
}

type busInstance struct {
	bus *Bus
	id  string

	mu      sync.Mutex
	subs    map[*Subscriber]struct{}
	queue   []Message
	running bool
}

func (in *busInstance) Instance() string { return in.id }

func (in *busInstance) Publish(_ context.Context, m Message) error {
	m.Instance = in.id
	in.bus.mu.Lock()
	peers := make([]*busInstance, 0, len(in.bus.instances))
	for _, p := range in.bus.instances {
		if p != in && (m.To == "" || p.id == m.To) {
			peers = append(peers, p)
		}
	}
	in.bus.mu.Unlock()
	if m.To != "" && len(peers) == 0 {
		return fmt.Errorf("%w: %q", ErrNoInstance, m.To)
	}
	for _, p := range peers {
		p.enqueue(m)
	}
	return nil
}

func (in *busInstance) enqueue(m Message) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.queue = append(in.queue, m)
	if !in.running {
		in.running = true
		go in.drain()
	}
}

func (in *busInstance) drain() {
	for {
		in.mu.Lock()
		if len(in.queue) == 0 {
			in.running = false
			in.mu.Unlock()
			return
		}
		m := in.queue[0]
		in.queue = in.queue[1:]
		subs := make([]Subscriber, 0, len(in.subs))
		for s := range in.subs {
			subs = append(subs, *s)
		}
		in.mu.Unlock()
		for _, s := range subs {
			s.Deliver(m)
		}
	}
}

func (in *busInstance) Subscribe(s Subscriber) func() {
	key := &s
	in.mu.Lock()
	in.subs[key] = struct{}{}
	in.mu.Unlock()
	return func() {
		in.mu.Lock()
		delete(in.subs, key)
		in.mu.Unlock()
	}
}
