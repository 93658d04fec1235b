// Package pgtest gives tests a PostgreSQL database of their own: a fresh
// database per call, dropped when the test ends, so tests are isolated
// (tables, and NOTIFY channels, which are per database) and packages can
// run in parallel against one server.
//
// The server is found like libpq finds it: $DATABASE_URL if set, else the
// PG* variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE) that
// pg_virtualenv exports; scripts/test.sh runs the tests that way. With
// neither DATABASE_URL nor PGHOST set the tests are skipped, except under
// CI=true, where that is a failure.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Timeout bounds creating and dropping a test database.
const Timeout = 30 * time.Second

// maxConns bounds each pool, so that parallel test packages stay well under
// the server's max_connections.
const maxConns = 6

// Available reports why there is no PostgreSQL to test against, or nil.
func Available() error {
	if os.Getenv("DATABASE_URL") == "" && os.Getenv("PGHOST") == "" {
		return fmt.Errorf("no PostgreSQL: neither DATABASE_URL nor PGHOST is set (scripts/test.sh runs the tests under pg_virtualenv, from Debian's postgresql-common)")
	}
	return nil
}

// Require skips the test when there is no PostgreSQL, or fails it under
// CI=true.
func Require(t testing.TB) {
	t.Helper()
	if err := Available(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("pgtest: %v", err)
		}
		t.Skipf("pgtest: skipping: %v", err)
	}
}

// Pool creates a fresh, empty database and returns a pool connected to it.
// When the test ends the pool is closed and the database dropped.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	base := os.Getenv("DATABASE_URL") // "" reads the PG* variables
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("pgtest: connecting to PostgreSQL: %v", err)
	}
	defer closeConn(admin)
	name := newName()
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() { drop(t, base, name) })
	cfg, err := pgxpool.ParseConfig(base)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	cfg.ConnConfig.Database = name
	cfg.MaxConns = maxConns
	return open(t, cfg)
}

// Reopen returns another pool to p's database, as a second instance of an
// app would have. It is closed when the test ends.
func Reopen(t testing.TB, p *pgxpool.Pool) *pgxpool.Pool {
	t.Helper()
	return open(t, p.Config())
}

func open(t testing.TB, cfg *pgxpool.Config) *pgxpool.Pool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	if err := p.Ping(ctx); err != nil {
		p.Close()
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(p.Close) // runs before the database is dropped
	return p
}

// drop removes a test database, disconnecting whatever is still on it.
func drop(t testing.TB, base, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Errorf("pgtest: dropping %s: %v", name, err)
		return
	}
	defer closeConn(admin)
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		t.Errorf("pgtest: dropping %s: %v", name, err)
	}
}

func closeConn(c *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.Close(ctx)
}

// newName makes a database name no other test uses.
func newName() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return "lt_test_" + hex.EncodeToString(b[:])
}
