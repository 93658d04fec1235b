// Command orders is a live orders dashboard shared by several instances
// of one app through Postgres LISTEN/NOTIFY (package pgnotify): every tab,
// whichever instance serves it, shows the orders table as it is, because
// the table's statement-level triggers notify every instance.
//
//	export DATABASE_URL=postgres://user:pass@localhost:5432/shop
//	export LIVESSE_SECRET=$(openssl rand -hex 32) # the same for every instance
//	go run ./examples/orders -addr :8081 -instance a &
//	go run ./examples/orders -addr :8082 -instance b &
//	psql "$DATABASE_URL" -c "INSERT INTO orders (customer, amount) VALUES ('Ada', 12.50)"
//
// Both dashboards update at once. An announcement typed on one instance's
// page reaches the tabs of the other. GET /healthz is a readiness probe.
// The example creates its tables and functions itself (idempotently).
//
// LIVESSE_SECRET (at least 32 bytes, the same on every instance)
// authenticates what the instances send each other through PostgreSQL and
// signs the session cookies: without it, any database role that can
// connect could drive every page. While rotating it, put the secrets still
// accepted in LIVESSE_PREVIOUS_SECRETS, comma-separated (see
// docs/multi-instance.md). Any role with INSERT, UPDATE or DELETE on orders
// refreshes the dashboards through the triggers, which run as the table's
// owner; only roles granted EXECUTE on lt_notify can push anything else.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/livesse/livesse/lt"
)

func main() {
	addr := flag.String("addr", ":8080", "listen address")
	instance := flag.String("instance", "", "this instance's id, unique among the instances (default random)")
	flag.Parse()
	if err := needDatabase(os.Environ()); err != nil {
		fmt.Fprintln(os.Stderr, "orders:", err)
		os.Exit(2)
	}
	secrets, err := secretsFrom(os.Environ())
	if err != nil {
		fmt.Fprintln(os.Stderr, "orders:", err)
		os.Exit(2)
	}
	if err := run(*addr, *instance, secrets); err != nil {
		fmt.Fprintln(os.Stderr, "orders:", err)
		os.Exit(1)
	}
}

// minSecret is the least length of the secret, in bytes.
const minSecret = 32

// secretsFrom reads the shared secret from LIVESSE_SECRET, and the
// previous ones still accepted while it is rotated from
// LIVESSE_PREVIOUS_SECRETS (comma-separated). They are used as they are:
// 64 hex digits from openssl rand -hex 32 are 64 bytes of secret.
func secretsFrom(env []string) ([][]byte, error) {
	var current, previous string
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		switch name {
		case "LIVESSE_SECRET":
			current = value
		case "LIVESSE_PREVIOUS_SECRETS":
			previous = value
		}
	}
	if len(current) < minSecret {
		what := "is not set"
		if current != "" {
			what = fmt.Sprintf("is %d bytes, under %d", len(current), minSecret)
		}
		return nil, fmt.Errorf(`needs a secret shared by every instance, and LIVESSE_SECRET %s.
Make one and give the same to every instance, for example
    export LIVESSE_SECRET=$(openssl rand -hex 32)
It authenticates the messages the instances send each other through
PostgreSQL (without it any database role that can connect could drive
every page) and signs the session cookies`, what)
	}
	secrets := [][]byte{[]byte(current)}
	for _, p := range strings.Split(previous, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if len(p) < minSecret {
			return nil, fmt.Errorf("a secret in LIVESSE_PREVIOUS_SECRETS is %d bytes, under %d", len(p), minSecret)
		}
		secrets = append(secrets, []byte(p))
	}
	return secrets, nil
}

// needDatabase says what is missing when the environment names no
// database: DATABASE_URL, or the variables libpq and pgx read.
func needDatabase(env []string) error {
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		switch name {
		case "DATABASE_URL", "PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE":
			if value != "" {
				return nil
			}
		}
	}
	return errors.New(`needs a PostgreSQL database (14 or later), and none is configured.
Set DATABASE_URL, for example
    DATABASE_URL=postgres://user:password@localhost:5432/shop go run ./examples/orders -addr :8081
or the variables libpq uses (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE).
The connection must not go through a transaction-pooling PgBouncer (LISTEN needs a session).
The example creates its tables itself`)
}

func run(addr, instance string, secrets [][]byte) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		return err
	}
	defer pool.Close()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	a, err := newApp(sctx, pool, instance, secrets, slog.Default())
	cancel()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		_ = a.Close()
		return err
	}
	fmt.Printf("orders: instance %s serving http://localhost:%d/\n", a.listener.Instance(), ln.Addr().(*net.TCPAddr).Port)
	// Until SIGINT or SIGTERM; then lt.Serve ends the page's streams, which
	// http.Server.Shutdown alone does not, and waits for its actions.
	err = lt.Serve(ctx, lt.NewServer(a.router), ln, a.page)
	_ = a.Close()
	return err
}
