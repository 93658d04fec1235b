// Command counter is the livesse quickstart: a counter page that stays live
// over Server-Sent Events and works without JavaScript.
//
//	go run ./examples/counter            # http://localhost:8080/
//	go run ./examples/counter -addr :9000
//	go run ./examples/counter -metrics   # and Prometheus metrics at /metrics
//
// With -metrics the page reports to a Prometheus registry (package
// lt/ltprom; docs/metrics.md lists the metrics), served at /metrics with
// the Go runtime's and the process's. A real app serves /metrics to its
// Prometheus only: on an internal listener, or behind auth.
package main

import (
	"cmp"
	"context"
	"embed"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/ltprom"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

//go:embed counter.html
var files embed.FS

// State is one tab's state; lt also keeps the session's last state, so a
// reload (or a post without JavaScript) continues from it.
type State struct {
	Count int
	Step  int
}

// Counter is the controller: its exported methods are the page's actions.
type Counter struct{}

// Increment adds the step typed into the form (1 if none).
func (c *Counter) Increment(s State, ctx *lt.Context) (State, error) {
	s.Step = step(ctx)
	s.Count += s.Step
	return s, nil
}

// Decrement subtracts the step, refusing to go below zero; the error is
// shown by {{ltError}} in the template.
func (c *Counter) Decrement(s State, ctx *lt.Context) (State, error) {
	s.Step = step(ctx)
	if s.Count-s.Step < 0 {
		return s, lt.UserError("the count cannot go below zero")
	}
	s.Count -= s.Step
	return s, nil
}

// Reset sets the count back to zero.
func (c *Counter) Reset(s State, ctx *lt.Context) (State, error) {
	s.Count = 0
	return s, nil
}

func step(ctx *lt.Context) int {
	if n := ctx.GetInt("step"); n > 0 {
		return n
	}
	return 1
}

// newRouter builds the app: the live page mounted on a chi router; with
// metrics, the page reports to a registry of its own, served at /metrics.
func newRouter(metrics bool) (http.Handler, *lt.Handler, error) {
	page, err := lt.ParseFS(files, "counter.html")
	if err != nil {
		return nil, nil, err
	}
	r := chi.NewRouter()
	r.Use(middleware.Logger, middleware.Recoverer)
	opts := []lt.Option{lt.WithName("counter")} // the label page="counter"
	if metrics {
		reg := prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		opts = append(opts, lt.WithMetrics(ltprom.New(reg)))
		r.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	}
	h, err := lt.New(page, &Counter{}, State{Step: 1}, opts...)
	if err != nil {
		return nil, nil, err
	}
	r.Handle("/", h)
	return r, h, nil
}

func main() {
	addr := flag.String("addr", ":"+cmp.Or(os.Getenv("PORT"), "8080"), "listen address (the default port is $PORT, when set)")
	metrics := flag.Bool("metrics", false, "serve Prometheus metrics at /metrics")
	flag.Parse()
	r, h, err := newRouter(*metrics)
	if err == nil {
		err = serve(*addr, r, h)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "counter:", err)
		os.Exit(1)
	}
}

// serve serves r on addr until SIGINT or SIGTERM, then shuts down
// gracefully: lt.Serve ends the live page's streams, which
// http.Server.Shutdown alone does not, and waits for its actions.
func serve(addr string, r http.Handler, h *lt.Handler) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("counter: serving http://localhost:%d/\n", ln.Addr().(*net.TCPAddr).Port)
	return lt.Serve(ctx, lt.NewServer(r), ln, h)
}
