package pgnotify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// connectTimeout bounds one attempt to open the LISTEN connection.
const connectTimeout = 10 * time.Second

// minPingTimeout is the least time a ping gets before the connection is
// deemed lost (a ping gets the ping interval if that is longer).
const minPingTimeout = 5 * time.Second

// connect opens the LISTEN connection: a connection taken out of the pool
// for good (Hijack), or one of its own with WithListenConfig.
func (l *Listener) connect(ctx context.Context) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	var conn *pgx.Conn
	if lc := l.cfg.listenConfig; lc != nil {
		c, err := pgx.ConnectConfig(ctx, lc.Copy())
		if err != nil {
			return nil, fmt.Errorf("pgnotify: opening the listen connection: %w", err)
		}
		conn = c
	} else {
		pc, err := l.pool.Acquire(ctx)
		if err != nil {
			return nil, fmt.Errorf("pgnotify: taking the listen connection from the pool: %w", err)
		}
		conn = pc.Hijack()
	}
	// The application name finds the connection in pg_stat_activity.
	if _, err := conn.Exec(ctx, "SELECT set_config('application_name', $1, false)", "livesse listen "+l.cfg.instance); err != nil {
		closeConn(conn)
		return nil, fmt.Errorf("pgnotify: setting up the listen connection: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{l.cfg.channel}.Sanitize()); err != nil {
		closeConn(conn)
		return nil, fmt.Errorf("pgnotify: LISTEN %s: %w", l.cfg.channel, err)
	}
	l.stats.connected.Store(true)
	l.stats.lastPing.Store(time.Now().UnixNano())
	return conn, nil
}

// closeConn closes a connection, bounded in time.
func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = conn.Close(ctx)
}

// listen reads notifications until ctx ends, reconnecting whenever the
// connection is lost. After every reconnect the subscribers resync.
func (l *Listener) listen(ctx context.Context, conn *pgx.Conn) {
	for {
		err := l.read(ctx, conn)
		l.stats.connected.Store(false)
		closeConn(conn)
		if ctx.Err() != nil {
			return
		}
		l.log.Warn("pgnotify: listen connection lost; reconnecting", "err", err)
		if conn = l.reconnect(ctx); conn == nil {
			return
		}
		l.stats.reconnects.Add(1)
		l.log.Info("pgnotify: listen connection back; resyncing every page")
		l.requestResync()
		l.requestHello() // the others' beacons sent meanwhile were lost

	}
}

// read hands each notification to the delivering goroutine, never
// waiting for it, and pings the connection when it has been silent for
// the ping interval. It returns when the connection fails.
func (l *Listener) read(ctx context.Context, conn *pgx.Conn) error {
	for {
		wctx, cancel := context.WithTimeout(ctx, l.cfg.pingInterval)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if n != nil {
			l.handoff(n.Payload)
		}
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, context.DeadlineExceeded) && !conn.IsClosed():
			// Silent for a while: a wait that timed out leaves the
			// connection usable, and a ping tells whether it is alive.
			pctx, cancel := context.WithTimeout(ctx, max(l.cfg.pingInterval, minPingTimeout))
			err = conn.Ping(pctx)
			cancel()
			if err != nil {
				return fmt.Errorf("pgnotify: ping: %w", err)
			}
			l.stats.lastPing.Store(time.Now().UnixNano())
			if h := l.cfg.hooks.pinged; h != nil {
				h()
			}
		default:
			return fmt.Errorf("pgnotify: waiting for notifications: %w", err)
		}
	}
}

// handoff queues a payload for delivery. When the queue is full it drops
// it and asks for a resync instead of blocking: a listener that stops
// reading holds back PostgreSQL's notification queue for everyone.
func (l *Listener) handoff(payload string) {
	l.stats.received.Add(1)
	select {
	case l.inbox <- payload:
	default:
		l.stats.dropped.Add(1)
		l.requestResync()
	}
	if h := l.cfg.hooks.received; h != nil {
		h()
	}
}

// requestResync marks a resync as due; the delivering goroutine runs it.
func (l *Listener) requestResync() {
	select {
	case l.resync <- struct{}{}:
	default: // one is due already
	}
}

// reconnect opens a new LISTEN connection, retrying with jittered
// exponential backoff until it succeeds (or ctx ends: nil).
func (l *Listener) reconnect(ctx context.Context) *pgx.Conn {
	if h := l.cfg.hooks.beforeReconnect; h != nil {
		h(ctx)
	}
	b := backoff{min: l.cfg.backoffMin, max: l.cfg.backoffMax}
	for {
		t := time.NewTimer(b.next())
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		conn, err := l.connect(ctx)
		if err == nil {
			return conn
		}
		if ctx.Err() != nil {
			return nil
		}
		l.log.Warn("pgnotify: reconnect failed", "err", err, "attempt", b.attempt)
	}
}
