package periodic

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/livesse/livesse/internal/test/specsnippets/internal/snippettest"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newHandler(t *testing.T, feed *Feed) (*lt.Handler, string) {
	t.Helper()
	page := lt.Must(lt.Parse("page", `<p>data=[{{.Data}}]</p>`))
	h, err := lt.New(page, &Controller{feed: feed}, State{}, lt.WithAuthenticator(snippettest.ByUserCookie))
	if err != nil {
		t.Fatal(err)
	}
	return h, snippettest.Serve(t, h, nil)
}

// The snippet hard-codes a 5 s period. The test runs in a synctest
// bubble, where time is fake and moves on only when every goroutine of the
// bubble waits, so it checks the period to the nanosecond in no real
// time: a tab's stream opens (OnConnect starts the ticker), nothing is
// fetched 1 ns before the period ends, and at 5 s the ticker's
// TriggerAction("refresh") has run Refresh, which fetched the latest data
// and pushed it to the tab's stream. The page and its stream are served
// in memory (a bubble's goroutines must not wait on the network), as
// net/http would serve them, the stream in its handler.
func TestTickerRefreshesAfterTheFirstPeriod(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		is := is.New(t)
		feed := &Feed{}
		page := lt.Must(lt.Parse("page", `<p>data=[{{.Data}}]</p>`))
		h, err := lt.New(page, &Controller{feed: feed}, State{}, lt.WithStreamsInHandler())
		is.NoErr(err)
		defer func() { is.NoErr(h.Close()) }()

		get := httptest.NewRecorder()
		h.ServeHTTP(get, httptest.NewRequest(http.MethodGet, "/", nil))
		is.Equal(get.Code, http.StatusOK)
		m := regexp.MustCompile(`data-lt-conn="([^"]+)"`).FindStringSubmatch(get.Body.String())
		is.True(m != nil) // the page names its connection

		ctx, cancel := context.WithCancel(context.Background())
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/?_lt_conn="+url.QueryEscape(m[1]), nil)
		req.Header.Set("Accept", "text/event-stream")
		for _, c := range get.Result().Cookies() {
			req.AddCookie(c)
		}
		stream := &streamRecorder{header: http.Header{}}
		served := make(chan struct{})
		go func() {
			defer close(served)
			h.ServeHTTP(stream, req)
		}()
		defer func() { cancel(); <-served }()

		synctest.Wait() // the stream is open, OnConnect has run
		is.True(strings.Contains(stream.String(), "event: render"))
		time.Sleep(5*time.Second - time.Nanosecond)
		synctest.Wait()
		is.Equal(feed.Reads(), int64(0)) // not before the period has passed
		is.True(!strings.Contains(stream.String(), "reading #1"))

		time.Sleep(time.Nanosecond)
		synctest.Wait()
		is.Equal(feed.Reads(), int64(1)) // the first tick, at 5 s
		is.True(strings.Contains(stream.String(), "reading #1"))
	})
}

// streamRecorder is the ResponseWriter of a stream served in memory: it
// keeps what was written and flushes as a connection would (http.Flusher).
type streamRecorder struct {
	mu     sync.Mutex
	header http.Header
	buf    bytes.Buffer
}

func (w *streamRecorder) Header() http.Header { return w.header }
func (w *streamRecorder) WriteHeader(int)     {}
func (w *streamRecorder) Flush()              {}

func (w *streamRecorder) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *streamRecorder) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// Refresh as a server action, without waiting for the ticker: the
// TriggerAction("refresh", nil) the ticker sends, for the user's session.
func TestRefreshAsServerAction(t *testing.T) {
	is := is.New(t)
	feed := &Feed{}
	h, u := newHandler(t, feed)
	tab := lttest.Open(t, u, lttest.WithJar(snippettest.UserJar(t, u, "ops")))
	is.NoErr(h.TriggerUser(context.Background(), "ops", "refresh", nil))
	tab.WaitFor("data=[reading #1]")
	is.NoErr(h.TriggerUser(context.Background(), "ops", "refresh", nil))
	tab.WaitFor("data=[reading #2]")
}
