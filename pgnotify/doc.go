// Package pgnotify carries livesse's messages between the instances of an
// app over PostgreSQL LISTEN/NOTIFY, so that a TriggerAction, a Sync, a
// BroadcastAction or an action POST reaches a tab on whichever instance
// holds its stream. It implements lt.Broadcaster with pgx v5:
//
//	pool, _ := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
//	_ = pgnotify.Setup(ctx, pool) // the table and SQL functions; idempotent
//	l, err := pgnotify.New(ctx, pool, pgnotify.WithInstance("web-1"))
//	defer l.Close()
//	h, _ := lt.New(page, &Ctrl{}, State{}, lt.WithBroadcaster(l))
//
// Each Listener holds one dedicated connection for LISTEN (taken out of the
// pool, or opened with WithListenConfig), reads it without ever blocking,
// pings it every few seconds, and reconnects with jittered exponential
// backoff. PostgreSQL does not keep notifications for a listener that is
// away, so after a reconnect (or when its hand-off queue overflows) the
// Listener tells every subscriber to resync: lt then mounts and renders
// every tab afresh.
//
// The LISTEN connection must reach PostgreSQL directly or through a
// session-pooling proxy: LISTEN does not work through a transaction-pooling
// PgBouncer, nor on a standby.
//
// Messages travel as a versioned JSON envelope (see EnvelopeVersion). One
// that does not fit in a notification (8000 bytes) is stored in the table
// lt_messages and the notification carries its id. SQL can send messages
// too, with the function lt_notify that Setup creates, for example from a
// statement-level trigger, so that an INSERT updates live pages with no Go
// code on the write path; docs/multi-instance.md has the recipe.
//
// Anything that can connect to the database can NOTIFY on the channel, so
// every notification is validated: malformed JSON, an unknown version,
// over-long fields, an unknown kind or a reference to a missing row is
// logged, counted in Health and never applied.
package pgnotify
