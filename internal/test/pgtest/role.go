package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Role creates a role as an administrator would for a reporting tool,
// `CREATE ROLE reporter LOGIN PASSWORD '...'`, with nothing granted: it
// can connect (PUBLIC may) and NOTIFY and LISTEN (anyone may). Its name is
// unique, since roles are shared by the databases of the cluster; it is
// dropped, with what it owns, when the test ends.
func Role(t testing.TB, db *pgxpool.Pool) (name, password string) {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	name, password = "reporter_"+hex.EncodeToString(b[:]), hex.EncodeToString(b[:])+"-pw"
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	if _, err := db.Exec(ctx, "CREATE ROLE "+name+" LOGIN PASSWORD '"+password+"'"); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		// After its connections closed (cleanups run last first).
		ctx, cancel := context.WithTimeout(context.Background(), Timeout)
		defer cancel()
		if _, err := db.Exec(ctx, "DROP OWNED BY "+name+"; DROP ROLE "+name); err != nil {
			t.Errorf("pgtest: dropping role %s: %v", name, err)
		}
	})
	return name, password
}

// ConnectAs opens a connection to db's database as role, over TCP with
// its password, and checks that it is that role; it is closed when the
// test ends.
func ConnectAs(t testing.TB, db *pgxpool.Pool, role, password string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	cfg := db.Config().ConnConfig.Copy()
	cfg.User, cfg.Password = role, password
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("pgtest: connecting as %s: %v", role, err)
	}
	t.Cleanup(func() { closeConn(conn) })
	var user string
	if err := conn.QueryRow(ctx, "SELECT current_user").Scan(&user); err != nil || user != role {
		t.Fatalf("pgtest: connected as %q (%v), not %s", user, err, role)
	}
	return conn
}
