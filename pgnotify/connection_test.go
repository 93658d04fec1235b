package pgnotify_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/pgnotify"
	"github.com/matryer/is"
)

// A wait that times out leaves the connection usable: the listener pings
// it and goes on receiving, without reconnecting.
func TestPingsKeepTheConnection(t *testing.T) {
	is := is.New(t)
	db := newDB(t)
	pings := make(chan struct{}, 100)
	a := newListener(t, db, "a")
	b := newListener(t, db, "b", pgnotify.WithPingInterval(5*time.Millisecond), pgnotify.WithPingHook(func() {
		select {
		case pings <- struct{}{}:
		default:
		}
	}))
	rec := newRecorder(t, b)
	before := health(t, b).LastPing
	for range 5 {
		select {
		case <-pings:
		case <-time.After(wait):
			t.Fatal("no ping")
		}
	}
	is.NoErr(a.Publish(waitCtx(t), msgAll("after_pings", nil)))
	is.Equal(rec.next(t).Action, "after_pings")
	h := health(t, b)
	is.True(h.LastPing.After(before))
	is.Equal(h.Reconnects, int64(0))
	is.Equal(h.Delivered, int64(1))
	// Ready's "silent for three intervals" rule is tested on its own
	// (TestReady): with a 5 ms interval it would depend on scheduling.
}

func TestReady(t *testing.T) {
	now := time.Now()
	good := pgnotify.Health{Connected: true, LastPing: now, PingInterval: time.Hour, QueueUsage: 0.1}
	for _, tc := range []struct {
		name   string
		edit   func(*pgnotify.Health)
		reason string // "" when ready
	}{
		{"ready", func(*pgnotify.Health) {}, ""},
		{"down", func(h *pgnotify.Health) { h.Connected = false }, "listen connection down"},
		{"silent", func(h *pgnotify.Health) { h.LastPing = now.Add(-4 * time.Hour) }, "silent for"},
		{"queue filling", func(h *pgnotify.Health) { h.QueueUsage = 0.6 }, "60% full"},
		{"queue unknown", func(h *pgnotify.Health) { h.QueueUsage = -1 }, "usage unknown"},
	} {
		h := good
		tc.edit(&h)
		err := h.Ready()
		switch {
		case tc.reason == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.reason != "" && (err == nil || !strings.Contains(err.Error(), tc.reason)):
			t.Errorf("%s: Ready() = %v, want it to mention %q", tc.name, err, tc.reason)
		}
	}
}

// WithListenConfig opens the listen connection with its own settings, as
// when the pool goes through a transaction pooler.
func TestListenConfig(t *testing.T) {
	is := is.New(t)
	db := newDB(t)
	a := newListener(t, db, "a")
	c := newListener(t, db, "c", pgnotify.WithListenConfig(db.Config().ConnConfig))
	rec := newRecorder(t, c)
	var n int
	is.NoErr(db.QueryRow(waitCtx(t), `SELECT count(*) FROM pg_stat_activity WHERE application_name = 'livesse listen c'`).Scan(&n))
	is.Equal(n, 1)
	is.NoErr(a.Publish(waitCtx(t), msgAll("hello", nil)))
	is.Equal(rec.next(t).Action, "hello")
}

// Without a database New fails, and says what it could not do.
func TestNewWithoutDatabase(t *testing.T) {
	is := is.New(t)
	cfg, err := pgxpool.ParseConfig("postgres://nobody@127.0.0.1:1/none?connect_timeout=5")
	is.NoErr(err)
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	is.NoErr(err)
	defer pool.Close()
	key := pgnotify.WithSecret([]byte(strings.Repeat("k", 32)))
	_, err = pgnotify.New(context.Background(), pool, key)
	is.True(err != nil)
	is.True(strings.Contains(err.Error(), "listen connection"))

	_, err = pgnotify.New(context.Background(), nil, key)
	is.True(errors.Is(err, pgnotify.ErrInvalidConfig))
	_, err = pgnotify.New(context.Background(), pool, key, pgnotify.WithInstance("not valid"))
	is.True(errors.Is(err, pgnotify.ErrInvalidConfig))
	// Without a secret, or with a short one, it fails before connecting,
	// and says what to do.
	_, err = pgnotify.New(context.Background(), pool)
	is.True(errors.Is(err, pgnotify.ErrInvalidConfig))
	is.True(strings.Contains(err.Error(), "WithSecret"))
	_, err = pgnotify.New(context.Background(), pool, pgnotify.WithSecret([]byte("short")))
	is.True(errors.Is(err, pgnotify.ErrInvalidConfig))
	is.True(strings.Contains(err.Error(), "at least 32"))
}

// Publish refuses, with an error, what the receivers would drop.
func TestPublishRefusesWhatReceiversDrop(t *testing.T) {
	is := is.New(t)
	db := newDB(t)
	a := newListener(t, db, "a", pgnotify.WithMaxMessageBytes(10000))
	ctx := waitCtx(t)
	_, err := lt.ServerAction("page", lt.ToUser, strings.Repeat("u", 600), "x", nil)
	is.True(errors.Is(err, lt.ErrBadMessage))
	_, err = lt.ServerAction("page", "nobody", "", "x", nil)
	is.True(errors.Is(err, lt.ErrBadMessage))
	err = a.Publish(ctx, lt.Message{}) // carries nothing
	is.True(errors.Is(err, lt.ErrBadMessage))
	err = a.Publish(ctx, msgAll("x", map[string]any{"big": strings.Repeat("b", 10000)}))
	is.True(errors.Is(err, pgnotify.ErrTooLarge))
	err = a.Publish(ctx, msgAll("x", map[string]any{"f": func() {}}))
	is.True(err != nil)
}
