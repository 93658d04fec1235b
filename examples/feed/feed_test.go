package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind. Run with
// serveEnv set, the test binary is instead the server whose memory
// measureScroll measures (serveChild).
func TestMain(m *testing.M) {
	if os.Getenv(serveEnv) != "" {
		serveChild()
		return
	}
	goleak.VerifyTestMain(m)
}

// serveEnv makes the test binary serve the feed (serveChild).
const serveEnv = "FEED_TEST_SERVE"

// serveChild serves the feed on a loopback port and prints its URL, and
// answers /debug/heap with its live heap after a collection, until its
// standard input closes: the server apart from the test's clients, so
// that its memory is its own.
func serveChild() {
	router, h, err := newRouter()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	mux.Handle("/", router)
	mux.HandleFunc("/debug/heap", func(w http.ResponseWriter, _ *http.Request) {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		fmt.Fprint(w, m.HeapAlloc)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("http://" + ln.Addr().String())
	go func() { _ = http.Serve(ln, mux) }()
	_, _ = io.Copy(io.Discard, os.Stdin)
	h.Close()
}

// serveFeedApart starts serveChild in a process of its own, returning its
// URL and a function that reads its live heap.
func serveFeedApart(t testing.TB) (string, func() uint64) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), serveEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("the feed server did not start: %v", err)
	}
	u := strings.TrimSpace(line)
	return u, func() uint64 {
		resp, err := http.Get(u + "/debug/heap")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		n, err := strconv.ParseUint(string(b), 10, 64)
		if err != nil {
			t.Fatalf("the feed server's heap: %q: %v", b, err)
		}
		return n
	}
}

// The rows are the same on every run, computed from their numbers.
func TestRowsAreFixed(t *testing.T) {
	is := is.New(t)
	is.Equal(RowAt(1), Row{ID: 1, Author: RowAt(1).Author, Text: RowAt(1).Text})
	is.Equal(RowAt(123456), RowAt(123456))
	authors := map[string]bool{}
	for id := 1; id <= 1000; id++ {
		authors[RowAt(id).Author] = true
	}
	is.True(len(authors) > 10) // spread
}

func serveFeed(t testing.TB) string {
	t.Helper()
	router, h, err := newRouter()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(router)
	t.Cleanup(func() {
		h.Close()
		srv.Close()
	})
	return srv.URL
}

// Without JavaScript each page is a plain page, and More a plain link to
// the next one.
func TestPagesWithoutJavaScript(t *testing.T) {
	is := is.New(t)
	u := serveFeed(t)
	for _, c := range []struct {
		path     string
		from, to int
		next     string
	}{
		{"/", 1, 20, `<a id="more" href="?from=21">More</a>`},
		{"/?from=41", 41, 60, `<a id="more" href="?from=61">More</a>`},
		{"/?from=bad", 1, 20, `<a id="more" href="?from=21">More</a>`},
		{fmt.Sprintf("/?from=%d", Rows-9), Rows - 9, Rows, `<p id="end">The end.</p>`},
	} {
		resp, err := http.Get(u + c.path)
		is.NoErr(err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		page := string(body)
		is.True(strings.Contains(page, fmt.Sprintf(`<li id="row-%d">`, c.from)))
		is.True(strings.Contains(page, fmt.Sprintf(`<li id="row-%d">`, c.to)))
		is.True(!strings.Contains(page, fmt.Sprintf(`<li id="row-%d">`, c.from-1)))
		is.True(!strings.Contains(page, fmt.Sprintf(`<li id="row-%d">`, c.to+1)))
		is.True(strings.Contains(page, c.next)) // c.path
	}
}

// scroll has each tab load pages more pages (one More each), reading
// each update on its stream as the client does.
func scroll(tabs []*lttest.Tab, pages int) {
	for range pages {
		for _, tab := range tabs {
			tab.Act("more", nil)
			tab.Next()
		}
	}
}

// measureScroll opens n tabs and scrolls each to each of the page counts
// in turn, returning the server's live heap per tab at each (the server
// in a process of its own: the lttest tabs keep their rows, as browsers
// do).
func measureScroll(t testing.TB, n int, at []int) []float64 {
	u, heap := serveFeedApart(t)
	base := heap()
	tabs := make([]*lttest.Tab, n)
	for i := range tabs {
		tabs[i] = lttest.Open(t, u+"/")
	}
	var out []float64
	done := 1 // the first page came with the page
	for _, p := range at {
		scroll(tabs, max(p-done, 0))
		done = p
		out = append(out, float64(int64(heap())-int64(base))/float64(n))
	}
	return out
}

// The server's memory per connection does not grow with the pages the
// tab has scrolled through: the rows are sent and forgotten. What a
// connection holds is its state (the next row), its page's tree and its
// replay log, which keeps the last 64 updates up to 64 KiB, full after
// about 30 pages; from there on it stays. A feed that kept its rows on
// the server would hold 1,000 rows (about 60 KiB) more per tab at 100
// pages than at 50.
func TestMemoryPerTabStaysFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("scrolls 20 tabs through 100 pages")
	}
	h := measureScroll(t, 20, []int{10, 50, 100})
	t.Logf("heap per tab: %.1f KiB after 10 pages, %.1f KiB after 50, %.1f KiB after 100", h[0]/1024, h[1]/1024, h[2]/1024)
	if grew := h[2] - h[1]; grew > 16<<10 {
		t.Errorf("the heap per tab grew by %.1f KiB from 50 to 100 pages", grew/1024)
	}
}

// BenchmarkScrollMemory reports the heap per tab (server and lttest tab)
// when the tabs have loaded 1, 10, 50, 100 and 200 pages of 20 rows, over
// lt's wire:
//
//	go test ./examples/feed/ -run '^$' -bench ScrollMemory -benchtime 1x
func BenchmarkScrollMemory(b *testing.B) {
	at := []int{1, 10, 50, 100, 200}
	for range b.N {
		for i, h := range measureScroll(b, 100, at) {
			b.ReportMetric(h, fmt.Sprintf("B/tab@%dpages", at[i]))
		}
	}
}
