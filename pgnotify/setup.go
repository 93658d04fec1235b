package pgnotify

import (
	"context"
	_ "embed"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

//go:embed schema.sql
var schemaSQL string

// Execer runs SQL: *pgxpool.Pool, *pgx.Conn and pgx.Tx are Execers.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// SQL returns the statements Setup runs but the key, for apps that apply
// their schema with a migration tool (then call SetupKey at start). Of the
// options only WithChannel matters: it is the channel lt_notify sends on.
// The text holds no secret.
func SQL(opts ...Option) (string, error) {
	c, err := newConfig(opts, false)
	if err != nil {
		return "", err
	}
	// The channel is a plain identifier (checked), so quoting is trivial.
	return strings.ReplaceAll(schemaSQL, "__CHANNEL__", "'"+c.channel+"'"), nil
}

// Setup creates or updates what pgnotify needs in the database: the table
// lt_messages for messages too large for a notification, the table
// lt_keys and the function lt_notify for SQL and triggers, with the
// privileges described in docs/multi-instance.md (nobody but their owner,
// the role Setup runs as, may use them until granted), and then stores the
// signing key, as SetupKey does. It migrates a version-1 installation
// (dropping lt_send). It is idempotent and safe to run from every instance
// at start. Pass the same WithSecret and WithChannel options as to New.
func Setup(ctx context.Context, db Execer, opts ...Option) error {
	if _, err := newConfig(opts, true); err != nil {
		return err
	}
	sql, err := SQL(opts...)
	if err != nil {
		return err
	}
	// Without arguments pgx uses the simple protocol: the statements run
	// in one implicit transaction.
	if _, err := db.Exec(ctx, sql); err != nil {
		return fmt.Errorf("pgnotify: setup: %w", err)
	}
	return SetupKey(ctx, db, opts...)
}

// SetupKey stores in lt_keys the key lt_notify signs with for the channel
// (WithChannel), derived from WithSecret's current secret, if it is not
// there already. Setup calls it; call it yourself when you apply SQL()
// with a migration tool. Every instance that starts with a new current
// secret replaces the key (see docs/multi-instance.md on rotating it).
func SetupKey(ctx context.Context, db Execer, opts ...Option) error {
	c, err := newConfig(opts, true)
	if err != nil {
		return err
	}
	k := deriveSubkeys(c.secrets[0])
	ipad, opad := hmacPads(k.sql)
	_, err = db.Exec(ctx, `INSERT INTO lt_keys (channel, kid, ipad, opad) VALUES ($1, $2, $3, $4)
		ON CONFLICT (channel) DO UPDATE SET kid = excluded.kid, ipad = excluded.ipad, opad = excluded.opad, updated_at = now()
		WHERE lt_keys.kid <> excluded.kid`, c.channel, k.sqlKID, ipad, opad)
	if err != nil {
		return fmt.Errorf("pgnotify: storing the signing key: %w", err)
	}
	return nil
}
