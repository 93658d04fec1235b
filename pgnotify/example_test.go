package pgnotify_test

import (
	"context"
	"html/template"
	"log"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/pgnotify"
)

type Dashboard struct{ db *pgxpool.Pool }

type DashboardState struct{ Total int }

func (d *Dashboard) Refresh(s DashboardState, ctx *lt.Context) (DashboardState, error) {
	err := d.db.QueryRow(ctx, "SELECT count(*) FROM orders").Scan(&s.Total)
	return s, err
}

// One instance of a multi-instance app: the Listener joins it to the
// others, and SQL can refresh every instance's pages with
// SELECT lt_notify('refresh', 'all').
func ExampleNew() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	// At least 32 random bytes, the same on every instance.
	secret := []byte(os.Getenv("LIVESSE_SECRET"))
	if err := pgnotify.Setup(ctx, pool, pgnotify.WithSecret(secret)); err != nil {
		log.Fatal(err)
	}
	l, err := pgnotify.New(ctx, pool, pgnotify.WithSecret(secret), pgnotify.WithInstance(os.Getenv("HOSTNAME")))
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	page := template.Must(lt.Parse("dashboard", `<p>{{.Total}} orders</p>`))
	h, err := lt.New(page, &Dashboard{db: pool}, DashboardState{}, lt.WithBroadcaster(l), lt.WithSecret(secret))
	if err != nil {
		log.Fatal(err)
	}
	defer h.Close()
	// ... serve h; from any instance:
	_ = h.TriggerAll(context.Background(), "refresh", nil)
}
