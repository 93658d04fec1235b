package lt_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
)

// BenchmarkActionRoundTrip compares a live action's round trip (the POST
// of a click, dispatch, the action, render, diff, and the answer carrying
// the update, as the acting tab gets it) with an HTTP echo of the same
// form on the same machine and client: alternating, it reports the median
// of each and their ratio (DESIGN.md's target: at most 1.1):
//
//	go test ./lt -run '^$' -bench ActionRoundTrip -benchtime 2000x -count 5
func BenchmarkActionRoundTrip(b *testing.B) {
	page := lt.Must(lt.Parse("counter", `<!DOCTYPE html><html><head><title>Counter</title></head><body><main><h1>Counter</h1>`+
		`<output id="count">{{.Count}}</output><form method="post"><button name="increment">+</button></form></main></body></html>`))
	h := lt.Must(lt.New(page, &countCtrl{}, countState{}, lt.WithLogger(slog.New(slog.DiscardHandler))))
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.Close()
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"c":`+`"`+r.PostForm.Get("_lt_conn")+`","s":1}`)
	}))
	defer echo.Close()
	tab := lttest.Open(b, srv.URL+"/")
	client := &http.Client{Jar: tab.Jar()}
	form := url.Values{"_lt_conn": {tab.Conn()}, "_lt_action": {"increment"}}.Encode()
	post := func(u string) time.Duration {
		t0 := time.Now()
		req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("%s: %s", u, resp.Status)
		}
		return time.Since(t0)
	}
	var live, plain []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			live, plain = append(live, post(srv.URL+"/")), append(plain, post(echo.URL+"/"))
		} else {
			plain, live = append(plain, post(echo.URL+"/")), append(live, post(srv.URL+"/"))
		}
	}
	b.StopTimer()
	median := func(ds []time.Duration) float64 {
		return float64(slices.Sorted(slices.Values(ds))[len(ds)/2].Nanoseconds())
	}
	b.ReportMetric(median(live), "action-ns")
	b.ReportMetric(median(plain), "echo-ns")
	b.ReportMetric(median(live)/median(plain), "ratio")
}
