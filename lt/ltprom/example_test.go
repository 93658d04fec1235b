package ltprom_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/ltprom"
	"github.com/livesse/livesse/pgnotify"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
)

type State struct{ Count int }

type Counter struct{}

func (c *Counter) Increment(s State, ctx *lt.Context) (State, error) { s.Count++; return s, nil }

// An app with metrics: the page's Handler and the pgnotify Listener report
// to one registry, which /metrics serves.
func Example() {
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := ltprom.New(reg)

	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	secret := []byte(os.Getenv("LIVESSE_SECRET"))
	l, err := pgnotify.New(ctx, pool, pgnotify.WithSecret(secret), pgnotify.WithMetrics(m))
	if err != nil {
		log.Fatal(err)
	}
	if err := m.RegisterListener(l); err != nil {
		log.Fatal(err)
	}

	page := lt.Must(lt.Parse("counter", `<p>{{.Count}}</p><form method="post"><button name="increment">+</button></form>`))
	h := lt.Must(lt.New(page, &Counter{}, State{},
		lt.WithMetrics(m), lt.WithBroadcaster(l), lt.WithSecret(secret)))

	r := chi.NewRouter()
	r.Handle("/", h)
	r.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	log.Fatal(http.ListenAndServe(":8080", r))
}

// What lt reports to a page's metrics, as Prometheus exposes it.
func ExampleMetrics_Page() {
	reg := prometheus.NewRegistry()
	m := ltprom.New(reg)
	p := m.Page("counter", []string{"Increment"}) // lt.New calls this

	// lt's calls, for two clicks on "+" and one server action.
	p.Action("Increment", true, lt.OutcomeOK, 300*time.Microsecond)
	p.Action("Increment", true, lt.OutcomeOK, 500*time.Microsecond)
	p.Action("Increment", false, lt.OutcomeOK, 200*time.Microsecond)
	p.Refused("", lt.RefusedUnknownAction) // a POST naming no action of the page

	out, err := testutil.GatherAndFormat(reg, expfmt.TypeTextPlain,
		"livesse_actions_total", "livesse_refused_requests_total")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(out))
	// Output:
	// # HELP livesse_actions_total Actions run on a connection, by action method, origin (client: a POST; server: a server action) and outcome (ok, error).
	// # TYPE livesse_actions_total counter
	// livesse_actions_total{action="Increment",origin="client",outcome="error",page="counter"} 0
	// livesse_actions_total{action="Increment",origin="client",outcome="ok",page="counter"} 2
	// livesse_actions_total{action="Increment",origin="server",outcome="error",page="counter"} 0
	// livesse_actions_total{action="Increment",origin="server",outcome="ok",page="counter"} 1
	// # HELP livesse_refused_requests_total Requests refused, by reason, and by action when the request named one of the page's (else action="").
	// # TYPE livesse_refused_requests_total counter
	// livesse_refused_requests_total{action="",page="counter",reason="unknown_action"} 1
}
