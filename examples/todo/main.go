// Command todo is TodoMVC's behaviour on a live page: add, mark done or
// not (the button's label follows: Done/Undo), edit in place (Enter
// saves, Escape cancels), delete, mark all, clear the completed ones,
// and show all, the active or the completed items. Every action is a
// button or a form, so the whole page works without JavaScript too; with
// it, the keys of the edit field are data-lt-keydown attributes, and one
// small script of the page's own (todo.js, a hook) puts the caret in the
// edit field when it appears.
//
//	go run ./examples/todo               # http://localhost:8080/
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
	"slices"
	"strings"
	"syscall"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/livesse/livesse/lt"
)

//go:embed todo.html todo.js
var files embed.FS

// Item is one thing to do.
type Item struct {
	ID    int
	Title string
	Done  bool
}

// State is one tab's list; lt also keeps the session's last state, so a
// reload (or a post without JavaScript) continues from it.
type State struct {
	Items   []Item
	NextID  int
	Filter  string // all, active or completed
	Editing int    // the id of the item being edited; 0 for none
}

// Shown is the items the filter lets through.
func (s State) Shown() []Item {
	var shown []Item
	for _, it := range s.Items {
		if s.Filter == "all" || (s.Filter == "active") != it.Done {
			shown = append(shown, it)
		}
	}
	return shown
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

// Completed is the number of items done.
func (s State) Completed() int { return len(s.Items) - s.Left() }

// Todo is the controller: its exported methods are the page's actions.
// The state's slice is cloned before a change: the state an action
// receives may be shared with the session's saved copy.
type Todo struct{}

// Add appends the item typed into the new-todo field; a blank one is
// ignored, as in TodoMVC.
func (t *Todo) Add(s State, ctx *lt.Context) (State, error) {
	title := strings.TrimSpace(ctx.GetString("title"))
	if title == "" {
		return s, nil
	}
	s.NextID++
	s.Items = append(slices.Clone(s.Items), Item{ID: s.NextID, Title: title})
	return s, nil
}

// Toggle marks the item whose id the button carries as done, or not.
func (t *Todo) Toggle(s State, ctx *lt.Context) (State, error) {
	return s.update(ctx.GetInt("toggle"), func(it *Item) { it.Done = !it.Done }), nil
}

// ToggleAll marks every item done, or, when they all are, none.
func (t *Todo) ToggleAll(s State, ctx *lt.Context) (State, error) {
	done := s.Left() > 0
	s.Items = slices.Clone(s.Items)
	for i := range s.Items {
		s.Items[i].Done = done
	}
	return s, nil
}

// Edit shows the edit field of the item whose id the button carries.
func (t *Todo) Edit(s State, ctx *lt.Context) (State, error) {
	s.Editing = ctx.GetInt("edit")
	return s, nil
}

// Save stores the edited title (Enter, or the Save button); an empty one
// deletes the item, as in TodoMVC. A save for an item no longer being
// edited changes nothing.
func (t *Todo) Save(s State, ctx *lt.Context) (State, error) {
	id := ctx.GetInt("id")
	if id == 0 || id != s.Editing {
		return s, nil
	}
	s.Editing = 0
	title := strings.TrimSpace(ctx.GetString("title"))
	if title == "" {
		return s.remove(id), nil
	}
	return s.update(id, func(it *Item) { it.Title = title }), nil
}

// Cancel leaves the edit field without saving (Escape, or the Cancel
// button).
func (t *Todo) Cancel(s State, ctx *lt.Context) (State, error) {
	s.Editing = 0
	return s, nil
}

// Delete removes the item whose id the button carries.
func (t *Todo) Delete(s State, ctx *lt.Context) (State, error) {
	return s.remove(ctx.GetInt("delete")), nil
}

// ClearCompleted removes the items that are done.
func (t *Todo) ClearCompleted(s State, ctx *lt.Context) (State, error) {
	s.Items = slices.DeleteFunc(slices.Clone(s.Items), func(it Item) bool { return it.Done })
	return s, nil
}

// Filter shows all the items, the active or the completed ones.
func (t *Todo) Filter(s State, ctx *lt.Context) (State, error) {
	f := ctx.GetString("filter")
	if f != "all" && f != "active" && f != "completed" {
		return s, lt.UserError("no such filter")
	}
	s.Filter = f
	return s, nil
}

func (s State) update(id int, f func(*Item)) State {
	s.Items = slices.Clone(s.Items)
	for i := range s.Items {
		if s.Items[i].ID == id {
			f(&s.Items[i])
		}
	}
	return s
}

func (s State) remove(id int) State {
	s.Items = slices.DeleteFunc(slices.Clone(s.Items), func(it Item) bool { return it.ID == id })
	if s.Editing == id {
		s.Editing = 0
	}
	return s
}

// newRouter builds the app: the live page and its script on a chi router.
func newRouter() (http.Handler, *lt.Handler, error) {
	page, err := lt.ParseFS(files, "todo.html")
	if err != nil {
		return nil, nil, err
	}
	h, err := lt.New(page, &Todo{}, State{Filter: "all"}, lt.WithName("todo"))
	if err != nil {
		return nil, nil, err
	}
	r := chi.NewRouter()
	r.Use(middleware.Logger, middleware.Recoverer)
	r.Get("/todo.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, files, "todo.js")
	})
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
		fmt.Fprintln(os.Stderr, "todo:", err)
		os.Exit(1)
	}
}

// serve serves r on addr until SIGINT or SIGTERM, then shuts down
// gracefully (lt.Serve ends the live page's streams).
func serve(addr string, r http.Handler, h *lt.Handler) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("todo: serving http://localhost:%d/\n", ln.Addr().(*net.TCPAddr).Port)
	return lt.Serve(ctx, lt.NewServer(r), ln, h)
}
