// Command search is search as you type over 10,000 items: the query is
// sent 200 ms after the user stops typing, the form shows a "searching"
// indicator while an answer is pending, and the arrow keys, Enter and
// Escape move through the results, all with data-lt-* attributes (see
// search.html) and no JavaScript of the page's own. Without JavaScript the
// same form is a plain form: Enter posts the query, each result is a
// button that picks it.
//
//	go run ./examples/search             # http://localhost:8080/
//
// The items are generated from a fixed seed, so every run (and every test)
// has the same 10,000.
package main

import (
	"cmp"
	"context"
	"embed"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/livesse/livesse/lt"
)

//go:embed search.html
var files embed.FS

// Shown is how many results the page lists at most.
const Shown = 10

// Item is one thing to find.
type Item struct {
	ID   int
	Name string
}

// Catalog is the items, read-only once made: every tab's controller
// shares it through a pointer.
type Catalog struct {
	items []Item
	lower []string // the names in lower case, for matching
}

// NewCatalog generates n items, the same ones on every call.
func NewCatalog(n int) *Catalog {
	adjectives := []string{"Amber", "Brave", "Calm", "Dusty", "Eager", "Fuzzy", "Gentle", "Happy", "Icy", "Jolly",
		"Keen", "Lucky", "Misty", "Noble", "Odd", "Proud", "Quiet", "Rapid", "Sunny", "Tiny"}
	colours := []string{"Red", "Orange", "Yellow", "Green", "Teal", "Blue", "Indigo", "Violet", "Grey", "Black"}
	animals := []string{"Otter", "Badger", "Falcon", "Heron", "Lynx", "Marten", "Newt", "Owl", "Puffin", "Quail",
		"Raven", "Salmon", "Tapir", "Vole", "Walrus", "Yak", "Zebra", "Bison", "Crane", "Dingo"}
	r := rand.New(rand.NewPCG(2024, 12))
	c := &Catalog{}
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("%s %s %s %04d", adjectives[r.IntN(len(adjectives))], colours[r.IntN(len(colours))], animals[r.IntN(len(animals))], i)
		c.items = append(c.items, Item{ID: i, Name: name})
		c.lower = append(c.lower, strings.ToLower(name))
	}
	return c
}

// Len is the number of items.
func (c *Catalog) Len() int { return len(c.items) }

// Find returns the first max items whose names contain query (ignoring
// case and the spaces around it) and how many match in all. An empty
// query matches nothing.
func (c *Catalog) Find(query string, max int) ([]Item, int) {
	q := strings.ToLower(strings.TrimSpace(query))
	if q == "" {
		return nil, 0
	}
	var found []Item
	total := 0
	for i, name := range c.lower {
		if strings.Contains(name, q) {
			total++
			if len(found) < max {
				found = append(found, c.items[i])
			}
		}
	}
	return found, total
}

// Get returns the item id, if there is one.
func (c *Catalog) Get(id int) (Item, bool) {
	if id < 1 || id > len(c.items) {
		return Item{}, false
	}
	return c.items[id-1], true
}

// State is one tab's search. lt keeps the session's last state too, so a
// reload, or a plain form post without JavaScript, shows the same search.
type State struct {
	Query   string
	Results []Item
	Total   int
	Sel     int // the highlighted result: its position + 1; 0 for none
	Picked  string
	Size    int // the catalog's
}

// Selected tells whether the result at position i is highlighted.
func (s State) Selected(i int) bool { return s.Sel == i+1 }

// Active is the id of the highlighted result's element, for the input's
// aria-activedescendant; "" for none.
func (s State) Active() string {
	if s.Sel < 1 || s.Sel > len(s.Results) {
		return ""
	}
	return fmt.Sprintf("r-%d", s.Results[s.Sel-1].ID)
}

// Search is the controller; its copies share the catalog.
type Search struct {
	catalog *Catalog
}

// Mount shows the catalog's size.
func (p *Search) Mount(s State, ctx *lt.Context) (State, error) {
	s.Size = p.catalog.Len()
	return s, nil
}

// Search runs as the user types (data-lt-input, debounced) and for the
// form's Search button (without JavaScript, Enter).
func (p *Search) Search(s State, ctx *lt.Context) (State, error) {
	return p.query(s, ctx), nil
}

// Down highlights the next result (ArrowDown).
func (p *Search) Down(s State, ctx *lt.Context) (State, error) {
	s = p.query(s, ctx)
	if s.Sel < len(s.Results) {
		s.Sel++
	}
	return s, nil
}

// Up highlights the previous result, or none above the first (ArrowUp).
func (p *Search) Up(s State, ctx *lt.Context) (State, error) {
	s = p.query(s, ctx)
	if s.Sel > 0 {
		s.Sel--
	}
	return s, nil
}

// Dismiss drops the highlight (Escape).
func (p *Search) Dismiss(s State, ctx *lt.Context) (State, error) {
	s = p.query(s, ctx)
	s.Sel = 0
	return s, nil
}

// Choose picks the highlighted result, or the first one when none is
// (Enter).
func (p *Search) Choose(s State, ctx *lt.Context) (State, error) {
	s = p.query(s, ctx)
	if len(s.Results) == 0 {
		return s, nil
	}
	s.Picked = s.Results[max(s.Sel, 1)-1].Name
	return s, nil
}

// Pick picks the result whose button was clicked.
func (p *Search) Pick(s State, ctx *lt.Context) (State, error) {
	s = p.query(s, ctx)
	it, ok := p.catalog.Get(ctx.GetInt("pick"))
	if !ok {
		return s, lt.UserError("no such item")
	}
	s.Picked = it.Name
	return s, nil
}

// query brings the results up to the form's query: every action carries
// the form, so a key pressed before the debounced search was sent works
// on what the user sees typed. A new query drops the highlight.
func (p *Search) query(s State, ctx *lt.Context) State {
	s.Size = p.catalog.Len()
	q := ctx.GetString("q")
	if !ctx.Has("q") || q == s.Query {
		return s
	}
	s.Query = q
	s.Results, s.Total = p.catalog.Find(q, Shown)
	s.Sel = 0
	return s
}

// newRouter builds the app around catalog.
func newRouter(catalog *Catalog) (http.Handler, *lt.Handler, error) {
	page, err := lt.ParseFS(files, "search.html")
	if err != nil {
		return nil, nil, err
	}
	h, err := lt.New(page, &Search{catalog: catalog}, State{}, lt.WithName("search"))
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
	r, h, err := newRouter(NewCatalog(10_000))
	if err == nil {
		err = serve(*addr, r, h)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "search:", err)
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
	fmt.Printf("search: serving http://localhost:%d/\n", ln.Addr().(*net.TCPAddr).Port)
	return lt.Serve(ctx, lt.NewServer(r), ln, h)
}
