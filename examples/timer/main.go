// Command timer runs the TimerController of the server-actions guide,
// unchanged but for the package name: OnConnect stores the Session and
// starts a ticker whose TriggerAction("tick") updates every open tab.
//
//	go run ./examples/timer
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
	"sync"
	"syscall"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/livesse/livesse/lt"
)

//go:embed timer.html
var files embed.FS

type TimerState struct {
	Seconds int
}

type TimerController struct {
	session lt.Session
	mu      sync.Mutex
}

func (c *TimerController) OnConnect(state TimerState, ctx *lt.Context) (TimerState, error) {
	c.mu.Lock()
	c.session = ctx.Session()
	c.mu.Unlock()

	// Start background timer
	go c.runTimer(ctx)

	return state, nil
}

func (c *TimerController) OnDisconnect() {
	c.mu.Lock()
	c.session = nil
	c.mu.Unlock()
}

func (c *TimerController) runTimer(ctx context.Context) {
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()

	for {
		select {
		case <-ctx.Done():
			return // Connection closed
		case <-ticker.C:
			c.mu.Lock()
			session := c.session
			c.mu.Unlock()

			if session != nil {
				session.TriggerAction("tick", nil)
			}
		}
	}
}

func (c *TimerController) Tick(state TimerState, ctx *lt.Context) (TimerState, error) {
	state.Seconds++
	return state, nil
}

func (c *TimerController) Reset(state TimerState, ctx *lt.Context) (TimerState, error) {
	state.Seconds = 0
	return state, nil
}

func newRouter() (http.Handler, *lt.Handler, error) {
	page, err := lt.ParseFS(files, "timer.html")
	if err != nil {
		return nil, nil, err
	}
	h, err := lt.New(page, &TimerController{}, TimerState{})
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
	r, h, err := newRouter()
	if err == nil {
		err = serve(*addr, r, h)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "timer:", err)
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
	fmt.Printf("timer: serving http://localhost:%d/\n", ln.Addr().(*net.TCPAddr).Port)
	return lt.Serve(ctx, lt.NewServer(r), ln, h)
}
