package pgnotify_test

import (
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/livesse/livesse/internal/test/pgtest"
)

// newRole is pgtest.Role: a role that can merely connect.
func newRole(t *testing.T, db *pgxpool.Pool) (name, password string) { return pgtest.Role(t, db) }

// connectAs is pgtest.ConnectAs.
func connectAs(t *testing.T, db *pgxpool.Pool, role, password string) *pgx.Conn {
	return pgtest.ConnectAs(t, db, role, password)
}

// sqlState is the SQLSTATE of err, or "".
func sqlState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}
