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

// SQL returns the statements Setup runs, for apps that apply their schema
// with a migration tool. Of the options only WithChannel matters: it is the
// channel lt_notify sends on.
func SQL(opts ...Option) (string, error) {
	c, err := newConfig(opts)
	if err != nil {
		return "", err
	}
	// The channel is a plain identifier (checked), so quoting is trivial.
	return strings.ReplaceAll(schemaSQL, "__CHANNEL__", "'"+c.channel+"'"), nil
}

// Setup creates what pgnotify needs in the database, if missing: the table
// lt_messages for messages too large for a notification, and the
// functions lt_send and lt_notify for SQL and triggers. It is idempotent
// and safe to run from every instance at start. Pass the same WithChannel
// option as to New.
func Setup(ctx context.Context, db Execer, opts ...Option) error {
	sql, err := SQL(opts...)
	if err != nil {
		return err
	}
	// Without arguments pgx uses the simple protocol: the statements run
	// in one implicit transaction.
	if _, err := db.Exec(ctx, sql); err != nil {
		return fmt.Errorf("pgnotify: setup: %w", err)
	}
	return nil
}
