package lt_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	chimw "github.com/go-chi/chi/v5/middleware"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
)

// Every log line names the page; those of a request, its request id and
// the connection it is for; those of a connection's work, the connection.
func TestLogLinesNameWhatTheyAreAbout(t *testing.T) {
	is := is.New(t)
	var logs syncBuffer
	h := lt.Must(lt.New(lt.Must(lt.Parse("page", pageHTML)), &ctrl{j: newJournal()}, state{},
		lt.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))))
	r := chi.NewRouter()
	r.Use(chimw.RequestID)
	r.Handle("/page", h)
	srv := httptest.NewServer(r)
	t.Cleanup(func() { _ = h.Close(); srv.Close() })
	tab := lttest.Open(t, srv.URL+"/page")
	is.Equal(tab.Act("no_such_action", nil).Status, http.StatusBadRequest)
	tab.Act("leak", nil)
	refused := logLine(t, &logs, "lt: request refused")
	failed := logLine(t, &logs, "lt: action failed")
	for _, l := range []string{refused, failed} {
		is.True(strings.Contains(l, "page=page"))
		is.True(strings.Contains(l, "request_id="))
		is.True(strings.Contains(l, "conn="+tab.Conn()))
	}
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		is.True(strings.Contains(l, " page=page")) // every line
	}
}

// A stream's end is logged as its request log (net/http's middleware saw
// a taken stream start, not end): status, events, bytes, tabs, duration.
func TestStreamLogSaysWhatWasSent(t *testing.T) {
	is := is.New(t)
	var logs syncBuffer
	f := newFixture(t, lt.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	tab := lttest.Open(t, f.URL+"/page")
	tab.Act("increment", nil)
	tab.WaitFor("n=1")
	tab.Close()
	is.NoErr(f.H.Close()) // the stream has ended, and been logged
	line := logLine(t, &logs, "lt: stream ended")
	for _, want := range []string{"page=page", "path=/page", "status=200", "tabs=1", "conn=", "events=", "bytes=", "duration="} {
		is.True(strings.Contains(line, want))
	}
	is.True(!strings.Contains(line, "events=0 ")) // a heartbeat, the render and the update at least
}
