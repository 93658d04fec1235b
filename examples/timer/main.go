// Command timer runs the TimerController of the server-actions guide,
// unchanged but for the package name: OnConnect stores the Session and
// starts a ticker whose TriggerAction("tick") updates every open tab.
//
//	go run ./examples/timer
package main

import (
	"context"
	"embed"
	"net/http"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/livesse/livesse/internal/serve"
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
	r, h, err := newRouter()
	if err != nil {
		serve.Fatal("timer", err)
	}
	serve.Main("timer", r, h)
}
