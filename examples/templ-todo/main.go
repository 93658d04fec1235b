// Command templ-todo is a todo list written with templ
// (github.com/a-h/templ) instead of html/template: package lt/lttempl makes
// a live page of a function of the state that returns a templ component.
//
//	go run ./examples/templ-todo            # http://localhost:8080/
//	go run ./examples/templ-todo -addr :9000
//
// After editing todo.templ, regenerate todo_templ.go (a test fails while
// it is stale):
//
//	go run github.com/a-h/templ/cmd/templ@v0.3.1118 generate -path examples/templ-todo
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttempl"
)

// Item is one thing to do.
type Item struct {
	ID   int
	Name string
	Done bool
}

// State is one tab's list; lt also keeps the session's last state, so a
// reload (or a post without JavaScript) continues from it.
type State struct {
	Items  []Item
	NextID int
}

// Left is the number of items not done.
func (s State) Left() int {
	n := 0
	for _, it := range s.Items {
		if !it.Done {
			n++
		}
	}
	return n
}

// Todo is the controller: its exported methods are the page's actions.
type Todo struct{}

// Add appends the item named in the form; a blank name is refused with a
// message the page shows.
func (t *Todo) Add(s State, ctx *lt.Context) (State, error) {
	name := strings.TrimSpace(ctx.GetString("name"))
	if name == "" {
		return s, lt.UserError("type what there is to do first")
	}
	s.NextID++
	s.Items = append(slices.Clone(s.Items), Item{ID: s.NextID, Name: name})
	return s, nil
}

// Toggle marks the item whose id the button carries as done, or not.
func (t *Todo) Toggle(s State, ctx *lt.Context) (State, error) {
	id := ctx.GetInt("toggle")
	s.Items = slices.Clone(s.Items)
	for i := range s.Items {
		if s.Items[i].ID == id {
			s.Items[i].Done = !s.Items[i].Done
		}
	}
	return s, nil
}

// Remove deletes the item whose id the button carries.
func (t *Todo) Remove(s State, ctx *lt.Context) (State, error) {
	id := ctx.GetInt("remove")
	s.Items = slices.DeleteFunc(slices.Clone(s.Items), func(it Item) bool { return it.ID == id })
	return s, nil
}

// ClearDone deletes the items that are done.
func (t *Todo) ClearDone(s State, ctx *lt.Context) (State, error) {
	s.Items = slices.DeleteFunc(slices.Clone(s.Items), func(it Item) bool { return it.Done })
	return s, nil
}

// newRouter builds the app: the live templ page mounted on a chi router.
func newRouter() (http.Handler, *lt.Handler, error) {
	h, err := lttempl.New("templ-todo", Page, &Todo{}, State{})
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
		fmt.Fprintln(os.Stderr, "templ-todo:", err)
		os.Exit(1)
	}
}

// serve serves r on addr until SIGINT or SIGTERM, then shuts down
// gracefully: lt.Serve ends the live page's streams and waits for its
// actions.
func serve(addr string, r http.Handler, h *lt.Handler) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("templ-todo: serving http://localhost:%d/\n", ln.Addr().(*net.TCPAddr).Port)
	return lt.Serve(ctx, lt.NewServer(r), ln, h)
}
