package lt_test

import (
	"net/http/httptest"
	"testing"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
)

type countState struct{ Count int }

type countCtrl struct{}

func (*countCtrl) Increment(s countState, _ *lt.Context) (countState, error) {
	s.Count++
	return s, nil
}

// BenchmarkCounterAction measures a client action end to end over loopback
// HTTP (POST, dispatch, render, diff, the update on the stream) and reports
// the bytes of the update's event data.
func BenchmarkCounterAction(b *testing.B) {
	page := lt.Must(lt.Parse("counter", `<!DOCTYPE html><html><head><title>Counter</title></head><body><main><h1>Counter</h1>`+
		`<output id="count">{{.Count}}</output><form method="post"><button name="increment">+</button></form></main></body></html>`))
	h := lt.Must(lt.New(page, &countCtrl{}, countState{}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.Close()
	tab := lttest.Open(b, srv.URL+"/")
	size := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tab.Act("increment", nil)
		ev := tab.Next()
		size += ev.Size
	}
	b.ReportMetric(float64(size)/float64(b.N), "event-B/op")
}
