// Command orders is a live orders dashboard shared by several instances
// of one app through Postgres LISTEN/NOTIFY (package pgnotify): every tab,
// whichever instance serves it, shows the orders table as it is, because
// the table's statement-level triggers notify every instance.
//
//	export DATABASE_URL=postgres://user:pass@localhost:5432/shop
//	go run ./examples/orders -addr :8081 &
//	go run ./examples/orders -addr :8082 &
//	psql "$DATABASE_URL" -c "INSERT INTO orders (customer, amount) VALUES ('Ada', 12.50)"
//
// Both dashboards update at once. An announcement typed on one instance's
// page reaches the tabs of the other. GET /healthz is a readiness probe.
// The example creates its tables and functions itself (idempotently).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/livesse/livesse/internal/serve"
)

func main() {
	addr := flag.String("addr", ":8080", "listen address")
	instance := flag.String("instance", "", "this instance's id, unique among the instances (default random)")
	flag.Parse()
	if err := needDatabase(os.Environ()); err != nil {
		fmt.Fprintln(os.Stderr, "orders:", err)
		os.Exit(2)
	}
	if err := run(*addr, *instance); err != nil {
		serve.Fatal("orders", err)
	}
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
The example creates its tables itself.`)
}

func run(addr, instance string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		return err
	}
	defer pool.Close()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	a, err := newApp(sctx, pool, instance, slog.Default())
	cancel()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		_ = a.Close()
		return err
	}
	srv := &http.Server{Handler: a.router, ReadHeaderTimeout: 10 * time.Second}
	srv.RegisterOnShutdown(func() { _ = a.page.Close() }) // streams end, so Shutdown can finish
	fmt.Printf("orders: instance %s serving %s\n", a.listener.Instance(), serve.URL(ln.Addr()))
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	err = srv.Serve(ln)
	_ = a.Close()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
