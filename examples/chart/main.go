// Command chart is a live line chart that a script of the page's own
// draws: the chart's element belongs to the script, not to livesse. It
// sits inside a data-lt-ignore subtree, which the client never touches,
// and a hook (data-lt-hook="chart", defined in chart.js) draws it. Every
// second a ticker in main runs the server action "tick" on every open tab
// (Handler.TriggerAll); the action shows the new sample in the page's
// live text and pushes it to the tab as a "sample" event
// (ctx.PushEvent), which reaches the hook's onEvent. The ticker stops
// when the server shuts down.
//
// The page is served with a strict Content-Security-Policy: scripts and
// styles only from the page's own origin, as files (no inline script or
// style, no eval). Without JavaScript the page shows the chart the server
// drew when it rendered the page.
//
//	go run ./examples/chart              # http://localhost:8080/
package main

import (
	"cmp"
	"context"
	"embed"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/livesse/livesse/lt"
)

//go:embed chart.html chart.js chart.css
var files embed.FS

// The chart's size: Keep samples, Step apart on a Width by Height
// canvas; values go from 0 to 100. chart.js draws with the same figures.
const (
	Keep   = 60
	Step   = 10
	Width  = (Keep - 1) * Step
	Height = 200
)

// Sample is one reading: its number and its value, in [0, 100] to a
// tenth.
type Sample struct {
	N int     `json:"n"`
	V float64 `json:"v"`
}

// Feed stands in for what the chart shows (a sensor, a metric): it makes
// a sample on each Next and keeps the last Keep.
type Feed struct {
	mu     sync.Mutex
	rnd    *rand.Rand
	recent []Sample
}

// NewFeed returns a feed whose samples are the same on every run.
func NewFeed() *Feed { return &Feed{rnd: rand.New(rand.NewPCG(7, 11))} }

// Next makes the next sample.
func (f *Feed) Next() Sample {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 1
	if len(f.recent) > 0 {
		n = f.recent[len(f.recent)-1].N + 1
	}
	v := 50 + 35*math.Sin(float64(n)/6) + 16*(f.rnd.Float64()-0.5)
	s := Sample{N: n, V: math.Round(min(100, max(0, v))*10) / 10}
	f.recent = append(f.recent, s)
	if len(f.recent) > Keep {
		f.recent = append([]Sample(nil), f.recent[len(f.recent)-Keep:]...)
	}
	return s
}

// Recent returns the last samples, at most Keep, oldest first.
func (f *Feed) Recent() []Sample {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Sample(nil), f.recent...)
}

// Points is an SVG polyline's points for samples: the first at x=0, each
// Step further, the value 100 at the top. chart.js computes the same
// string.
func Points(samples []Sample) string {
	p := make([]string, len(samples))
	for i, s := range samples {
		p[i] = strconv.Itoa(i*Step) + "," + strconv.FormatFloat(Height-s.V*Height/100, 'f', -1, 64)
	}
	return strings.Join(p, " ")
}

// State is one tab's state: the latest sample, shown as text, and the
// samples the chart starts from when the page loads.
type State struct {
	Latest  Sample
	History []Sample
}

// HistoryJSON is the history for the chart's data-samples attribute.
func (s State) HistoryJSON() (string, error) {
	b, err := json.Marshal(s.History)
	return string(b), err
}

// Points is the history drawn by the server, for the page as loaded (and
// without JavaScript).
func (s State) Points() string { return Points(s.History) }

// Chart is the controller; its copies share the feed.
type Chart struct {
	feed *Feed
}

// Mount starts the page from the feed's recent samples.
func (c *Chart) Mount(s State, ctx *lt.Context) (State, error) {
	s.History = c.feed.Recent()
	if len(s.History) > 0 {
		s.Latest = s.History[len(s.History)-1]
	}
	return s, nil
}

// Tick is the server action the ticker runs on every tab: it shows the
// sample and pushes it to the tab's chart. Browsers cannot call it.
func (c *Chart) Tick(s State, ctx *lt.Context) (State, error) {
	if ctx.FromClient() {
		return s, lt.UserError("tick is sent by the server")
	}
	s.Latest = Sample{N: ctx.GetInt("n"), V: ctx.GetFloat("v")}
	return s, ctx.PushEvent("sample", s.Latest)
}

// History pushes the recent samples after since to the tab that asks: the
// chart's hook asks when its line has a gap (samples pushed while the tab
// had no stream are not replayed). It changes nothing on the page.
func (c *Chart) History(s State, ctx *lt.Context) (State, error) {
	var after []Sample
	for _, r := range c.feed.Recent() {
		if r.N > ctx.GetInt("since") {
			after = append(after, r)
		}
	}
	return s, ctx.PushEvent("history", after)
}

// App is the chart's page, its files and its feed.
type App struct {
	Router http.Handler
	Live   *lt.Handler
	Feed   *Feed
	log    *slog.Logger
}

// CSP is the page's Content-Security-Policy: everything from the page's
// own origin only, no inline script or style, no eval.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// newApp builds the app: the live page and its script and style, all
// served under CSP.
func newApp() (*App, error) {
	page, err := lt.ParseFS(files, "chart.html")
	if err != nil {
		return nil, err
	}
	feed := NewFeed()
	h, err := lt.New(page, &Chart{feed: feed}, State{}, lt.WithName("chart"))
	if err != nil {
		return nil, err
	}
	r := chi.NewRouter()
	r.Use(middleware.Logger, middleware.Recoverer, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Security-Policy", CSP)
			next.ServeHTTP(w, r)
		})
	})
	for _, f := range []string{"chart.js", "chart.css"} {
		r.Get("/"+f, func(w http.ResponseWriter, r *http.Request) { http.ServeFileFS(w, r, files, f) })
	}
	r.Handle("/", h)
	return &App{Router: r, Live: h, Feed: feed, log: slog.Default()}, nil
}

// Tick sends the feed's next sample to every open tab each period, until
// ctx is done.
func (a *App) Tick(ctx context.Context, period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s := a.Feed.Next()
			// TriggerAll never waits for a slow browser; it fails for an
			// unknown action or a closed handler.
			if err := a.Live.TriggerAll(ctx, "tick", map[string]any{"n": s.N, "v": s.V}); err != nil && ctx.Err() == nil {
				a.log.Warn("chart: tick", "err", err)
			}
		}
	}
}

// Run serves the app on ln and ticks every period until ctx is done,
// then stops the ticker and shuts the server down (lt.Serve ends the
// live page's streams); it returns once both are over.
func (a *App) Run(ctx context.Context, ln net.Listener, period time.Duration) error {
	tickCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { a.Tick(tickCtx, period) })
	defer wg.Wait()
	defer stop()
	return lt.Serve(ctx, lt.NewServer(a.Router), ln, a.Live)
}

func main() {
	addr := flag.String("addr", ":"+cmp.Or(os.Getenv("PORT"), "8080"), "listen address (the default port is $PORT, when set)")
	flag.Parse()
	if err := run(*addr); err != nil {
		fmt.Fprintln(os.Stderr, "chart:", err)
		os.Exit(1)
	}
}

// run serves the app on addr until SIGINT or SIGTERM.
func run(addr string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := newApp()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("chart: serving http://localhost:%d/\n", ln.Addr().(*net.TCPAddr).Port)
	return a.Run(ctx, ln, time.Second)
}
