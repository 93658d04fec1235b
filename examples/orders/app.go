package main

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/pgnotify"
)

//go:embed orders.html
var files embed.FS

//go:embed schema.sql
var schemaSQL string

// State is one tab's dashboard.
type State struct {
	Instance     string
	Count        int
	Total        string
	Orders       []Order
	Flash        string // "2 new orders" after a refresh the trigger sent
	Announcement string
}

// Order is a row of the orders table, formatted for the page.
type Order struct {
	ID       int64
	Customer string
	Amount   string
	At       string
}

// app is one instance of the dashboard: its database pool, its Listener
// and the live page.
type app struct {
	db       *pgxpool.Pool
	listener *pgnotify.Listener
	page     *lt.Handler
	router   http.Handler
}

// newApp sets up the schema (idempotent), starts the instance's Listener
// and builds the router. instance "" picks a random id. secrets are the
// shared secret, then the previous ones still accepted.
func newApp(ctx context.Context, db *pgxpool.Pool, instance string, secrets [][]byte, log *slog.Logger) (*app, error) {
	if len(secrets) == 0 {
		return nil, errors.New("orders: no secret")
	}
	secret := pgnotify.WithSecret(secrets[0], secrets[1:]...)
	if err := pgnotify.Setup(ctx, db, secret); err != nil {
		return nil, err
	}
	if _, err := db.Exec(ctx, schemaSQL); err != nil {
		return nil, fmt.Errorf("orders schema: %w", err)
	}
	opts := []pgnotify.Option{secret, pgnotify.WithLogger(log)}
	if instance != "" {
		opts = append(opts, pgnotify.WithInstance(instance))
	}
	l, err := pgnotify.New(ctx, db, opts...)
	if err != nil {
		return nil, err
	}
	a := &app{db: db, listener: l}
	page, err := lt.ParseFS(files, "orders.html")
	if err != nil {
		_ = l.Close()
		return nil, err
	}
	// Every copy of the controller shares a; a.page is set before any
	// connection exists.
	h, err := lt.New(page, &Dashboard{app: a}, State{}, lt.WithBroadcaster(l), lt.WithSecret(secrets[0]),
		lt.WithName("orders"), lt.WithLogger(log))
	if err != nil {
		_ = l.Close()
		return nil, err
	}
	a.page = h
	r := chi.NewRouter()
	r.Use(middleware.Recoverer)
	r.Handle("/", h)
	r.Get("/healthz", a.healthz)
	a.router = r
	return a, nil
}

// healthz answers 200 with the Listener's health when the instance can
// serve live pages, 503 otherwise: a readiness probe.
func (a *app) healthz(w http.ResponseWriter, r *http.Request) {
	h, err := a.listener.Health(r.Context())
	if err == nil {
		err = h.Ready()
	}
	body := struct {
		pgnotify.Health
		Error string `json:"error,omitempty"`
	}{Health: h}
	status := http.StatusOK
	if err != nil {
		status, body.Error = http.StatusServiceUnavailable, err.Error()
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// Close ends the live page's streams, then stops listening.
func (a *app) Close() error {
	return errors.Join(a.page.Close(), a.listener.Close())
}

// Dashboard is the page's controller.
type Dashboard struct{ app *app }

// Mount reads the dashboard from the database, for the first render and
// whenever the tab must resync.
func (d *Dashboard) Mount(s State, ctx *lt.Context) (State, error) {
	s.Instance = d.app.listener.Instance()
	return d.load(ctx, s)
}

// Refresh re-reads the dashboard; the orders table's triggers run it on
// every tab of every instance (data "added": rows just inserted).
func (d *Dashboard) Refresh(s State, ctx *lt.Context) (State, error) {
	s.Flash = ""
	if n := ctx.GetInt("added"); n == 1 {
		s.Flash = "1 new order"
	} else if n > 1 {
		s.Flash = strconv.Itoa(n) + " new orders"
	}
	return d.load(ctx, s)
}

// AddOrder inserts an order from the form. The insert trigger refreshes
// every dashboard; this tab shows the new order in its answer at once.
func (d *Dashboard) AddOrder(s State, ctx *lt.Context) (State, error) {
	customer := strings.TrimSpace(ctx.GetString("customer"))
	if customer == "" || len(customer) > 100 {
		return s, lt.UserError("the customer must be 1 to 100 characters")
	}
	amount, err := strconv.ParseFloat(strings.TrimSpace(ctx.GetString("amount")), 64)
	if err != nil || amount <= 0 || amount >= 1e9 {
		return s, lt.UserError("the amount must be a positive number")
	}
	if _, err := d.app.db.Exec(ctx, "INSERT INTO orders (customer, amount) VALUES ($1, $2)", customer, amount); err != nil {
		return s, fmt.Errorf("saving the order: %w", err)
	}
	s.Flash = ""
	return d.load(ctx, s)
}

// Announce shows a message on every tab of every instance: TriggerAll
// runs show_announcement here and, through Postgres, on the others.
func (d *Dashboard) Announce(s State, ctx *lt.Context) (State, error) {
	text := strings.TrimSpace(ctx.GetString("text"))
	if text == "" || len(text) > 200 {
		return s, lt.UserError("the announcement must be 1 to 200 characters")
	}
	return s, d.app.page.TriggerAll(ctx, "show_announcement", map[string]any{"text": text, "from": d.app.listener.Instance()})
}

// ShowAnnouncement displays an announcement. Announce sends it; a
// browser cannot post it.
func (d *Dashboard) ShowAnnouncement(s State, ctx *lt.Context) (State, error) {
	if ctx.FromClient() {
		return s, lt.UserError("announcements are sent with announce")
	}
	s.Announcement = fmt.Sprintf("%s (from instance %s)", ctx.GetString("text"), ctx.GetString("from"))
	return s, nil
}

// load reads the figures and the latest orders.
func (d *Dashboard) load(ctx context.Context, s State) (State, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := d.app.db.QueryRow(ctx, "SELECT count(*), coalesce(sum(amount), 0)::text FROM orders").Scan(&s.Count, &s.Total); err != nil {
		return s, fmt.Errorf("reading the orders: %w", err)
	}
	rows, err := d.app.db.Query(ctx, `SELECT id, customer, amount::text, to_char(created_at, 'HH24:MI:SS')
		FROM orders ORDER BY id DESC LIMIT 20`)
	if err != nil {
		return s, fmt.Errorf("reading the orders: %w", err)
	}
	defer rows.Close()
	s.Orders = s.Orders[:0:0]
	for rows.Next() {
		var o Order
		if err := rows.Scan(&o.ID, &o.Customer, &o.Amount, &o.At); err != nil {
			return s, fmt.Errorf("reading the orders: %w", err)
		}
		s.Orders = append(s.Orders, o)
	}
	return s, rows.Err()
}
