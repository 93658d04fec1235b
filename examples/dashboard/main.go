// Command dashboard is a live dashboard: every open tab refreshes its
// figures every few seconds, pushed by the server, without any request from
// the browser. It is the "periodic updates" pattern of the server-actions
// guide: OnConnect starts a ticker for the connection, the ticker calls
// Session.TriggerAction("refresh"), and the ticker stops when the
// connection ends (its context is done).
//
//	go run ./examples/dashboard                      # http://localhost:8080/
//	DASHBOARD_PERIOD=500ms go run ./examples/dashboard
package main

import (
	"cmp"
	"context"
	"embed"
	"flag"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/livesse/livesse/lt"
)

//go:embed dashboard.html
var files embed.FS

// Metric is one figure on the dashboard.
type Metric struct {
	ID    string // for the element id
	Name  string
	Value string // formatted
	Unit  string
	Level int // 0..100, drawn as a <meter>
}

// State is one tab's state. It is rebuilt from the Backend on every refresh.
type State struct {
	Metrics   []Metric
	UpdatedAt string // when the figures were read
	Viewers   int64  // tickers running right now, on this instance
	Period    string // how often the page refreshes
}

// Dashboard is the controller. The value given to lt.New is a prototype:
// every connection gets its own shallow copy, so Period is the same for
// all tabs (a test can set it to 50 ms) and the pointer fields are shared.
type Dashboard struct {
	Period  time.Duration // how often each tab's ticker fires
	Backend *Backend      // where the figures come from; shared by all tabs
	Viewers *atomic.Int64 // tickers running; shared by all tabs
}

// Mount fills the page on every page load (the HTML works without
// JavaScript) and when a stream connects.
func (d *Dashboard) Mount(s State, ctx *lt.Context) (State, error) {
	return d.read(s), nil
}

// OnConnect runs once the tab's event stream is open. ctx is done when
// the connection ends for good: the tab closed (or navigated away) and did
// not come back within the reconnect grace (30 s by default), or the server
// shut down.
//
// Each tab runs its own ticker, as in the guide, and TriggerAction reaches
// every tab of the session. A browser with three tabs open therefore gets
// three refreshes per period in each tab; that is harmless here (a refresh
// that changes nothing sends nothing), but for figures that are the same
// for everyone, one ticker in main calling Handler.TriggerAll(ctx, "refresh",
// nil) does the same work once for all viewers.
func (d *Dashboard) OnConnect(s State, ctx *lt.Context) (State, error) {
	go d.refreshEvery(ctx, ctx.Session())
	return s, nil
}

// refreshEvery triggers "refresh" every d.Period until ctx is done. It
// keeps the Session, not the *lt.Context, which is only valid during
// OnConnect (as a context.Context it may be kept, to stop the work).
func (d *Dashboard) refreshEvery(ctx context.Context, session lt.Session) {
	d.Viewers.Add(1)
	defer d.Viewers.Add(-1)
	ticker := time.NewTicker(d.Period)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return // the connection ended: stop ticking
		case <-ticker.C:
			// TriggerAction never blocks on a slow browser; it fails only
			// for an unknown action or a closed handler.
			if err := session.TriggerAction("refresh", nil); err != nil {
				return
			}
		}
	}
}

// Refresh reads the latest figures. The ticker triggers it; the "Refresh
// now" button calls the very same method from the browser.
func (d *Dashboard) Refresh(s State, ctx *lt.Context) (State, error) {
	return d.read(s), nil
}

func (d *Dashboard) read(s State) State {
	now := time.Now()
	s.Metrics = d.Backend.Read(now)
	s.UpdatedAt = now.Format("15:04:05.000")
	s.Viewers = d.Viewers.Load()
	s.Period = d.Period.String()
	return s
}

// Backend stands in for your monitoring system: it computes plausible
// figures from the time of day. A real one would query a database or an
// API, and should be quick, since every tab calls it every period.
type Backend struct{}

// Read returns the figures at time t.
func (b *Backend) Read(t time.Time) []Metric {
	x := float64(t.UnixMilli()) / 1000
	wave := func(period, phase float64) float64 { return (1 + math.Sin(2*math.Pi*x/period+phase)) / 2 }
	rps := 800 + 400*wave(20, 0) + 30*wave(1.3, 1)
	p99 := 40 + 60*wave(31, 2) + 8*wave(0.7, 0)
	cpu := 20 + 70*wave(17, 4) + 5*wave(2.1, 3)
	queue := 5 + 120*wave(43, 1) + 3*wave(0.9, 5)
	return []Metric{
		{ID: "rps", Name: "Requests", Value: fmt.Sprintf("%.0f", rps), Unit: "req/s", Level: level(rps, 1300)},
		{ID: "p99", Name: "Latency p99", Value: fmt.Sprintf("%.1f", p99), Unit: "ms", Level: level(p99, 110)},
		{ID: "cpu", Name: "CPU", Value: fmt.Sprintf("%.0f", cpu), Unit: "%", Level: level(cpu, 100)},
		{ID: "queue", Name: "Queue depth", Value: fmt.Sprintf("%.0f", queue), Unit: "jobs", Level: level(queue, 130)},
	}
}

func level(v, max float64) int { return int(math.Round(math.Min(100, 100*v/max))) }

// newRouter builds the app around a controller prototype; options are
// passed to lt.New (the tests shorten the reconnect grace).
func newRouter(d *Dashboard, opts ...lt.Option) (http.Handler, *lt.Handler, error) {
	if d.Period <= 0 {
		return nil, nil, fmt.Errorf("dashboard: period must be positive, got %v", d.Period)
	}
	if d.Backend == nil {
		d.Backend = &Backend{}
	}
	if d.Viewers == nil {
		d.Viewers = new(atomic.Int64)
	}
	page, err := lt.ParseFS(files, "dashboard.html")
	if err != nil {
		return nil, nil, err
	}
	h, err := lt.New(page, d, State{}, opts...)
	if err != nil {
		return nil, nil, err
	}
	r := chi.NewRouter()
	r.Use(middleware.Logger, middleware.Recoverer)
	r.Handle("/", h)
	return r, h, nil
}

func main() {
	addr := flag.String("addr", ":"+cmp.Or(os.Getenv("PORT"), "8080"), "listen address (the default port is $PORT, when set)")
	flag.Parse()
	period, err := time.ParseDuration(cmp.Or(os.Getenv("DASHBOARD_PERIOD"), "2s"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "dashboard: DASHBOARD_PERIOD:", err)
		os.Exit(2)
	}
	r, h, err := newRouter(&Dashboard{Period: period})
	if err == nil {
		err = serve(*addr, r, h)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "dashboard:", err)
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
	fmt.Printf("dashboard: serving http://localhost:%d/\n", ln.Addr().(*net.TCPAddr).Port)
	return lt.Serve(ctx, lt.NewServer(r), ln, h)
}
