// Command welcome greets a signed-in user shortly after the page loads:
// OnConnect starts a timer, and when it fires the server pushes a
// "serverWelcome" action to the user's tabs. If the connection ends first
// (the tab closed), the timer is cancelled and nothing is sent.
//
//	go run ./examples/welcome            # http://localhost:8080/
//
// Users are identified by a "user" cookie set by the sign-in form with
// whatever name you type: a demo, with no password.
package main

import (
	"cmp"
	"context"
	"embed"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-chi/chi/v5"
	chimw "github.com/go-chi/chi/v5/middleware"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/middleware"
)

//go:embed welcome.html
var files embed.FS

// State is one tab's state.
type State struct {
	Username       string // "" when not signed in
	WelcomeMessage string
}

// Page is the controller. Its fields are set once on the prototype given to
// lt.New; every connection's copy shares them.
type Page struct {
	Delay time.Duration // how long after the stream opens the greeting comes
	Log   *slog.Logger
}

// Mount runs on every page load: the greeting is for this visit, so it
// starts empty even if the session's last state had one.
func (p *Page) Mount(s State, ctx *lt.Context) (State, error) {
	s.Username = ctx.UserID()
	s.WelcomeMessage = ""
	return s, nil
}

// OnConnect runs when the tab's stream opens. It returns at once; the
// greeting is sent later from a goroutine, which keeps the Session (safe to
// use from any goroutine) and the Context only as a context.Context: it is
// done when the connection ends for good.
func (p *Page) OnConnect(s State, ctx *lt.Context) (State, error) {
	if s.Username == "" {
		return s, nil
	}
	go p.welcomeLater(ctx, ctx.Session(), s.Username)
	return s, nil
}

// welcomeLater waits p.Delay, unless the connection ends first. Unlike a
// time.Sleep, the select lets a closed tab cancel the wait, so no goroutine
// outlives its connection.
func (p *Page) welcomeLater(ctx context.Context, session lt.Session, user string) {
	p.Log.Info("welcome scheduled", "user", user, "delay", p.Delay)
	timer := time.NewTimer(p.Delay)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		p.Log.Info("welcome cancelled: the connection ended first", "user", user)
		return
	case <-timer.C:
	}
	err := session.TriggerAction("serverWelcome", map[string]any{
		"message": fmt.Sprintf("Welcome back, %s!", user),
	})
	if err != nil {
		p.Log.Warn("welcome not sent", "user", user, "err", err)
	}
}

// errServerOnly refuses a server action posted by a browser.
var errServerOnly = lt.UserError("this action is sent by the server")

// ServerWelcome shows the greeting. The server triggers it; a browser
// could post it too (every action is callable from the page), so it refuses
// client calls: ctx.FromClient() is false for server actions.
func (p *Page) ServerWelcome(s State, ctx *lt.Context) (State, error) {
	if ctx.FromClient() {
		return s, errServerOnly
	}
	s.WelcomeMessage = ctx.GetString("message")
	return s, nil
}

// Dismiss hides the greeting.
func (p *Page) Dismiss(s State, ctx *lt.Context) (State, error) {
	s.WelcomeMessage = ""
	return s, nil
}

// newRouter builds the app around a controller prototype; options go to
// lt.New.
func newRouter(p *Page, opts ...lt.Option) (http.Handler, *lt.Handler, error) {
	if p.Log == nil {
		p.Log = slog.Default()
	}
	tmpl, err := lt.ParseFS(files, "welcome.html")
	if err != nil {
		return nil, nil, err
	}
	h, err := lt.New(tmpl, p, State{}, append([]lt.Option{lt.WithAuthenticator(lt.AuthenticatorFunc(authenticate))}, opts...)...)
	if err != nil {
		return nil, nil, err
	}
	r := chi.NewRouter()
	r.Use(chimw.Logger, chimw.Recoverer)
	r.Handle("/", h)
	r.Group(func(r chi.Router) {
		r.Use(middleware.CheckOrigin())
		r.Post("/signin", signInTo(home))
		r.Post("/signout", signOutTo(home))
	})
	return r, h, nil
}

func main() {
	addr := flag.String("addr", ":"+cmp.Or(os.Getenv("PORT"), "8080"), "listen address (the default port is $PORT, when set)")
	flag.Parse()
	r, h, err := newRouter(&Page{Delay: 500 * time.Millisecond})
	if err == nil {
		err = serve(*addr, r, h)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "welcome:", err)
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
	fmt.Printf("welcome: serving http://localhost:%d/\n", ln.Addr().(*net.TCPAddr).Port)
	return lt.Serve(ctx, lt.NewServer(r), ln, h)
}
