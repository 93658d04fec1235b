package pgnotify

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/livesse/livesse/lt"
)

// Listener is one instance's end of the channel: an lt.Broadcaster that
// publishes through the pool and receives on a dedicated LISTEN
// connection. Create it with New, pass it to lt.WithBroadcaster, and Close
// it when the app stops (after the lt Handlers). It is safe for concurrent
// use.
type Listener struct {
	pool *pgxpool.Pool
	cfg  config
	log  *slog.Logger

	keys     *keyring
	replay   *replayGuard
	peers    peers
	refusals refusalLog
	fetchRow func(ctx context.Context, digest []byte, take bool) (string, error) // reads lt_messages

	inbox   chan string    // notifications read, waiting for delivery
	resync  chan struct{}  // a resync is due (capacity 1)
	answer  chan struct{}  // a hello from another instance wants an answer (capacity 1)
	rehello chan struct{}  // a hello is due, after a reconnect (capacity 1)
	outbox  chan *outgoing // Publish's notifications, waiting for their batch
	stopped chan struct{}  // closed when the batcher has stopped
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	once    sync.Once
	closed  atomic.Bool

	mu   sync.Mutex
	subs map[*lt.Subscriber]struct{}

	stats stats
}

// New connects the Listener: it opens the LISTEN connection (failing if it
// cannot, so that a misconfigured app stops at start), starts reading, and
// announces the instance to the others.
// The pool is used for publishing and for fetching large messages; it must
// outlive the Listener. WithSecret is required; run Setup (with the same
// options) before sending messages over 8000 bytes.
func New(ctx context.Context, pool *pgxpool.Pool, opts ...Option) (*Listener, error) {
	if pool == nil {
		return nil, fmt.Errorf("%w: nil pool", ErrInvalidConfig)
	}
	l, err := newListener(pool, opts)
	if err != nil {
		return nil, err
	}
	conn, err := l.connect(ctx)
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	l.wg.Add(4)
	go func() { defer l.wg.Done(); l.batches(runCtx) }()
	go func() { defer l.wg.Done(); l.listen(runCtx, conn) }()
	go func() { defer l.wg.Done(); l.deliver(runCtx) }()
	go func() { defer l.wg.Done(); l.beacons(runCtx) }()
	return l, nil
}

// newListener makes a Listener that is not connected yet.
func newListener(pool *pgxpool.Pool, opts []Option) (*Listener, error) {
	cfg, err := newConfig(opts, true)
	if err != nil {
		return nil, err
	}
	keys, err := newKeyring(cfg.secrets)
	if err != nil {
		return nil, err
	}
	l := &Listener{
		pool:    pool,
		cfg:     cfg,
		log:     cfg.logger.With("instance", cfg.instance, "channel", cfg.channel),
		keys:    keys,
		replay:  newReplayGuard(cfg.now(), maxReplayIDs),
		inbox:   make(chan string, cfg.queueSize),
		resync:  make(chan struct{}, 1),
		answer:  make(chan struct{}, 1),
		rehello: make(chan struct{}, 1),
		outbox:  make(chan *outgoing, maxBatch),
		stopped: make(chan struct{}),
		subs:    map[*lt.Subscriber]struct{}{},
	}
	l.peers.init()
	l.fetchRow = l.fetchFromTable
	return l, nil
}

// Instance returns this instance's id (WithInstance, or a random one).
func (l *Listener) Instance() string { return l.cfg.instance }

// Channel returns the NOTIFY channel the Listener uses.
func (l *Listener) Channel() string { return l.cfg.channel }

// Subscribe registers s for the messages of other instances (and the
// messages sent with PublishTx or from SQL) until the returned function is
// called. lt.New calls it.
func (l *Listener) Subscribe(s lt.Subscriber) (unsubscribe func()) {
	key := &s
	l.mu.Lock()
	l.subs[key] = struct{}{}
	l.mu.Unlock()
	return func() {
		l.mu.Lock()
		delete(l.subs, key)
		l.mu.Unlock()
	}
}

// subscribers returns a snapshot of the current subscribers.
func (l *Listener) subscribers() []lt.Subscriber {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]lt.Subscriber, 0, len(l.subs))
	for s := range l.subs {
		out = append(out, *s)
	}
	return out
}

// Close tells the other instances this one is leaving (a beacon through
// the pool, given at most a second), so that they refuse messages for it
// at once; then it stops listening, closes the LISTEN connection and waits
// for the Listener's goroutines. Messages not yet delivered are dropped.
// It does not close the pool. Calling it again does nothing.
func (l *Listener) Close() error {
	l.once.Do(func() {
		l.closed.Store(true)
		l.sayBye()
		l.cancel()
		l.wg.Wait()
	})
	return nil
}
