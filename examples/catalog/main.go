// Command catalog is a multi-page live app: a list of 3,000 items that
// pages, sorts and filters with its state in the URL's query, and a page
// per item with a form that edits it. Links move the tab without a
// reload: those of the list (a page, a sort, the filter) run the list's
// Params on the same connection (data-lt-patch), those between the list
// and the items load the other page live on the same stream
// (data-lt-navigate); Back and Forward restore each page as it was.
// Without JavaScript every link and form is a plain one.
//
//	go run ./examples/catalog                 # http://localhost:8080/catalog/
//	go run ./examples/catalog -router=mux     # the same routes on http.ServeMux
//
// See docs/multi-page.md.
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
)

//go:embed list.html item.html
var files embed.FS

// App is the catalog's two live pages over one store.
type App struct {
	Store *Store
	List  *lt.Handler // the list, at /catalog/
	Item  *lt.Handler // an item, at /catalog/items/{id}
}

// NewApp makes the pages over store; opts go to both.
func NewApp(store *Store, opts ...lt.Option) (*App, error) {
	list, err := lt.ParseFS(files, "list.html")
	if err != nil {
		return nil, err
	}
	item, err := lt.ParseFS(files, "item.html")
	if err != nil {
		return nil, err
	}
	a := &App{Store: store}
	if a.List, err = lt.New(list, &List{store: store}, ListState{}, append(opts, lt.WithName("catalog-list"))...); err != nil {
		return nil, err
	}
	if a.Item, err = lt.New(item, &ItemPage{store: store}, ItemState{}, append(opts, lt.WithName("catalog-item"))...); err != nil {
		a.List.Close()
		return nil, err
	}
	return a, nil
}

// Close ends both pages' streams and connections.
func (a *App) Close() error {
	return cmp.Or(a.List.Close(), a.Item.Close())
}

// Chi routes the app with chi, under r.Route("/catalog").
func (a *App) Chi() http.Handler {
	r := chi.NewRouter()
	r.Route("/catalog", func(r chi.Router) {
		r.Handle("/", a.List)
		r.Handle("/items/{id}", a.Item)
	})
	r.Get("/", home)
	r.Get("/catalog", home)
	return r
}

// Mux routes the app with net/http.ServeMux's patterns. The pages are
// registered for every method: a pattern for GET alone would not route
// their action POSTs.
func (a *App) Mux() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/catalog/{$}", a.List)
	mux.Handle("/catalog/items/{id}", a.Item)
	mux.HandleFunc("GET /{$}", home)
	mux.HandleFunc("GET /catalog", home)
	return mux
}

// home sends the browser to the list, with a relative Location: under a
// prefix (a proxy, http.StripPrefix) it stays under it. (http.Redirect
// would make it absolute from r.URL.Path, which has lost the prefix.)
func home(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Location", "catalog/")
	w.WriteHeader(http.StatusFound)
}

func main() {
	addr := flag.String("addr", ":"+cmp.Or(os.Getenv("PORT"), "8080"), "listen address (the default port is $PORT, when set)")
	router := flag.String("router", "chi", "the router: chi or mux (net/http.ServeMux)")
	flag.Parse()
	if err := run(*addr, *router); err != nil {
		fmt.Fprintln(os.Stderr, "catalog:", err)
		os.Exit(1)
	}
}

func run(addr, router string) error {
	a, err := NewApp(NewStore(3000))
	if err != nil {
		return err
	}
	var h http.Handler
	switch router {
	case "chi":
		h = middleware.Logger(a.Chi())
	case "mux":
		h = a.Mux()
	default:
		a.Close()
		return fmt.Errorf("-router=%q: chi or mux", router)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		a.Close()
		return err
	}
	fmt.Printf("catalog: serving http://localhost:%d/catalog/\n", ln.Addr().(*net.TCPAddr).Port)
	return lt.Serve(ctx, lt.NewServer(h), ln, a.List, a.Item)
}
