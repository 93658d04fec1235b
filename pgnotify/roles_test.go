package pgnotify_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// newRole creates a role as an administrator would for a reporting tool,
// `CREATE ROLE reporter LOGIN PASSWORD '...'`, with nothing granted: it
// can connect (PUBLIC may) and NOTIFY and LISTEN (anyone may). Its name is
// unique, since roles are shared by the databases of the cluster; it is
// dropped when the test ends.
func newRole(t *testing.T, db *pgxpool.Pool) (name, password string) {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name, password = "reporter_"+hex.EncodeToString(b[:]), hex.EncodeToString(b[:])+"-pw"
	ctx := waitCtx(t)
	if _, err := db.Exec(ctx, "CREATE ROLE "+name+" LOGIN PASSWORD '"+password+"'"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// After its connections closed (cleanups run last first).
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if _, err := db.Exec(ctx, "DROP OWNED BY "+name+"; DROP ROLE "+name); err != nil {
			t.Errorf("dropping role %s: %v", name, err)
		}
	})
	return name, password
}

// connectAs opens a connection to db's database as the role, over TCP
// with its password, closed when the test ends.
func connectAs(t *testing.T, db *pgxpool.Pool, role, password string) *pgx.Conn {
	t.Helper()
	cfg := db.Config().ConnConfig.Copy()
	cfg.User, cfg.Password = role, password
	conn, err := pgx.ConnectConfig(waitCtx(t), cfg)
	if err != nil {
		t.Fatalf("connecting as %s: %v", role, err)
	}
	t.Cleanup(func() { closeConn(conn) })
	var user string
	if err := conn.QueryRow(waitCtx(t), "SELECT current_user").Scan(&user); err != nil || user != role {
		t.Fatalf("connected as %q (%v), not %s", user, err, role)
	}
	return conn
}

func closeConn(c *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_ = c.Close(ctx)
}

// sqlState is the SQLSTATE of err, or "".
func sqlState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}
