// Package pgnotify carries livesse's messages between the instances of an
// app over PostgreSQL LISTEN/NOTIFY, so that a TriggerAction, a Sync, a
// BroadcastAction or an action POST reaches a tab on whichever instance
// holds its stream. It implements lt.Broadcaster with pgx v5:
//
//	secret := []byte(os.Getenv("LIVESSE_SECRET")) // ≥ 32 random bytes, the same on every instance
//	pool, _ := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
//	_ = pgnotify.Setup(ctx, pool, pgnotify.WithSecret(secret)) // tables, lt_notify, its key; idempotent
//	l, err := pgnotify.New(ctx, pool, pgnotify.WithSecret(secret), pgnotify.WithInstance("web-1"))
//	defer l.Close()
//	h, _ := lt.New(page, &Ctrl{}, State{}, lt.WithBroadcaster(l), lt.WithSecret(secret))
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
// Any role that can connect to the database can LISTEN and NOTIFY on the
// channel, so messages are authenticated with a secret the instances share
// (WithSecret, required): an instance's messages are encrypted and
// authenticated (AES-256-GCM), so that other roles can neither forge nor
// read them; every message carries its time and a unique id, and a
// receiver refuses one outside MessageWindow of its clock or seen before.
// Whatever fails is dropped before it is decoded, counted in Health and
// logged (at most once per 10 s per reason). A message too large for a
// notification (8000 bytes) is stored in the table lt_messages, which only
// its owner may use, and the notification names it by its SHA-256.
//
// SQL pushes through the function lt_notify that Setup creates, for example
// from a statement-level trigger, so that an INSERT updates live pages with
// no Go code on the write path. It runs as its owner, signs its messages
// with a key derived from the secret (stored in lt_keys, readable by the
// owner only), and only the roles granted EXECUTE on it may call it. Its
// messages are server actions, never more: they cannot forward a client's
// action, carry an identity or close streams.
//
// Instances announce themselves with beacons, so that Publish refuses a
// message for an instance that is not live (lt.ErrNoInstance) instead of
// storing it. docs/multi-instance.md has the wire format, the recipes, and
// the security model: who can do what, how to grant a role, how to rotate
// the secret.
package pgnotify
