// Command feed is an endless feed over 1,000,000 rows with a live list
// (ctx.List, docs/lists.md): each page of 20 rows is rendered once and sent
// to the tab, which keeps it; the server keeps only where the tab is (the
// next row to load), however far the user scrolls. The next page loads as
// the list's last row comes into view (data-lt-viewport-bottom). Without
// JavaScript the "More" link under the list shows the next page.
//
//	go run ./examples/feed             # http://localhost:8080/
//
// The rows are generated from their numbers, the same on every run: there
// is no database, and no row is stored.
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
	"strconv"
	"syscall"

	"github.com/go-chi/chi/v5"
	"github.com/livesse/livesse/lt"
)

//go:embed feed.html
var files embed.FS

const (
	// Rows is how many rows the feed has.
	Rows = 1_000_000
	// PageSize is how many rows one page adds.
	PageSize = 20
)

// Row is one row of the feed.
type Row struct {
	ID     int
	Author string
	Text   string
}

var (
	authors = []string{"Ada", "Brian", "Claude", "Dennis", "Edsger", "Frances", "Grace", "Hedy", "Ivan", "Joan",
		"Ken", "Leslie", "Margaret", "Niklaus", "Ole", "Radia", "Seymour", "Tony", "Ursula", "Whitfield"}
	words = []string{"shipped", "reviewed", "fixed", "profiled", "deployed", "measured", "rewrote", "tested",
		"the parser", "a cache", "the build", "an index", "the scheduler", "a benchmark", "the docs", "a flaky test",
		"today", "again", "at last", "by hand", "in Go", "twice", "quietly", "for fun"}
)

// RowAt returns row id (1 to Rows), computed from id alone.
func RowAt(id int) Row {
	h := mix(uint64(id))
	return Row{
		ID:     id,
		Author: authors[h%uint64(len(authors))],
		Text:   words[(h>>8)%8] + " " + words[8+(h>>16)%8] + " " + words[16+(h>>24)%8],
	}
}

// mix is SplitMix64's finaliser: a fixed, well-spread hash of n.
func mix(n uint64) uint64 {
	n += 0x9e3779b97f4a7c15
	n = (n ^ n>>30) * 0xbf58476d1ce4e5b9
	n = (n ^ n>>27) * 0x94d049bb133111eb
	return n ^ n>>31
}

// State is where one tab is in the feed: not the rows it shows.
type State struct {
	Next int // the first row not loaded yet; Rows+1 at the end
}

// More tells whether rows are left to load.
func (s State) More() bool { return s.Next <= Rows }

// Total is the feed's size, for the page.
func (State) Total() int { return Rows }

// Feed is the controller.
type Feed struct{}

// Params shows the page of the URL's from (1 by default): the first page
// of a tab, and each page of a browser without JavaScript, whose "More"
// link leads to the next one.
func (*Feed) Params(s State, ctx *lt.Context) (State, error) {
	from, err := strconv.Atoi(ctx.URL().Query().Get("from"))
	if err != nil || from < 1 {
		from = 1
	}
	s.Next = min(from, Rows+1)
	feed := ctx.List("feed", "row")
	if err := feed.Reset(); err != nil {
		return s, err
	}
	return load(s, feed)
}

// More adds the next page: the client sends it when the list's last row
// comes into view.
func (*Feed) More(s State, ctx *lt.Context) (State, error) {
	return load(s, ctx.List("feed", "row"))
}

// load appends the page of rows from s.Next to the tab's list.
func load(s State, feed lt.List) (State, error) {
	end := min(s.Next+PageSize, Rows+1)
	for id := s.Next; id < end; id++ {
		if err := feed.Append(RowAt(id)); err != nil {
			return s, err
		}
	}
	s.Next = end
	return s, nil
}

// newRouter builds the app.
func newRouter() (http.Handler, *lt.Handler, error) {
	page, err := lt.ParseFS(files, "feed.html")
	if err != nil {
		return nil, nil, err
	}
	h, err := lt.New(page, &Feed{}, State{}, lt.WithName("feed"))
	if err != nil {
		return nil, nil, err
	}
	r := chi.NewRouter()
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
		fmt.Fprintln(os.Stderr, "feed:", err)
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
	fmt.Printf("feed: serving http://localhost:%d/\n", ln.Addr().(*net.TCPAddr).Port)
	return lt.Serve(ctx, lt.NewServer(r), ln, h)
}
