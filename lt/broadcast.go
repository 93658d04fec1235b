package lt

import (
	"context"
	"fmt"
	"sync"
)

// Kind says which connections a server action sent with ServerAction is
// for.
type Kind string

// The kinds of ServerAction.
const (
	ToSession Kind = "group" // every connection of a session group
	ToUser    Kind = "user"  // every connection of a user
	ToAll     Kind = "all"   // every connection of the page (no target)
	// toConn is one connection: an action POST (or a leave, or a URL
	// change) that reached an instance which does not hold it. Only lt
	// makes these.
	toConn Kind = "conn"
)

// Broadcaster carries Messages between the instances of an app, so that a
// TriggerAction, a Sync or a POST reaches a tab wherever its stream lives.
// Without one, a Handler reaches the connections of its own process only.
// Package pgnotify implements it over Postgres LISTEN/NOTIFY; Bus connects
// instances within one process.
type Broadcaster interface {
	// Instance is this instance's id, unique among the app's instances.
	Instance() string
	// Publish sends m to every other instance, or, when m.To() is set,
	// to that instance only, returning an error wrapping ErrNoInstance if
	// no live instance has that id. It must not deliver m back to this
	// instance's own subscribers: the sender applies it locally.
	//
	// Messages carry client actions and identities, so a
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

// NewBus returns an empty Bus. A zero Bus is ready to use too.
func NewBus() *Bus { return &Bus{} }

// Instance returns the Broadcaster of the instance with the given id,
// creating it on first use.
func (b *Bus) Instance(id string) Broadcaster {
	b.mu.Lock()
	defer b.mu.Unlock()
	if in, ok := b.instances[id]; ok {
		return in
	}
	if b.instances == nil {
		b.instances = map[string]*busInstance{}
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
	m.m.Instance = in.id
	in.bus.mu.Lock()
	peers := make([]*busInstance, 0, len(in.bus.instances))
	for _, p := range in.bus.instances {
		if p != in && (m.To() == "" || p.id == m.To()) {
			peers = append(peers, p)
		}
	}
	in.bus.mu.Unlock()
	if m.To() != "" && len(peers) == 0 {
		return fmt.Errorf("%w: %q", ErrNoInstance, m.To())
	}
	if err := m.m.check(); err != nil {
		return fmt.Errorf("lt: publishing %s: %w", m, err) // as a Broadcaster that encodes it would
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
