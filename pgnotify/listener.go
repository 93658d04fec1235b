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

	inbox  chan string   // notifications read, waiting for delivery
	resync chan struct{} // a resync is due (capacity 1)
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
	closed atomic.Bool

	mu   sync.Mutex
	subs map[*lt.Subscriber]struct{}

	stats stats
}

// New connects the Listener: it opens the LISTEN connection (failing if it
// cannot, so that a misconfigured app stops at start) and starts reading.
// The pool is used for publishing and for fetching large messages; it must
// outlive the Listener. Run Setup once before sending messages over 8000
// bytes.
func New(ctx context.Context, pool *pgxpool.Pool, opts ...Option) (*Listener, error) {
	if pool == nil {
		return nil, fmt.Errorf("%w: nil pool", ErrInvalidConfig)
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	l := &Listener{
		pool:   pool,
		cfg:    cfg,
		log:    cfg.logger.With("instance", cfg.instance, "channel", cfg.channel),
		inbox:  make(chan string, cfg.queueSize),
		resync: make(chan struct{}, 1),
		subs:   map[*lt.Subscriber]struct{}{},
	}
	conn, err := l.connect(ctx)
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	l.wg.Add(2)
	go func() { defer l.wg.Done(); l.listen(runCtx, conn) }()
	go func() { defer l.wg.Done(); l.deliver(runCtx) }()
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

// Close stops listening, closes the LISTEN connection and waits for the
// Listener's goroutines. Messages not yet delivered are dropped. It does
// not close the pool. Calling it again does nothing.
func (l *Listener) Close() error {
	l.once.Do(func() {
		l.closed.Store(true)
		l.cancel()
		l.wg.Wait()
	})
	return nil
}
