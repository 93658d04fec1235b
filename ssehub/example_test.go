package ssehub_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/livesse/livesse/ssehub"
)

// A Log is a connection's queue and replay buffer at once: a reader that
// reconnects with the id of the last event it saw (Last-Event-ID) gets
// what it missed, unless the log no longer reaches that far back; then it
// must resynchronise from a snapshot (lt sends a full render).
func ExampleLog() {
	log := ssehub.NewLog(3, 0)
	for _, data := range []string{"a", "b", "c", "d", "e"} {
		log.Append(ssehub.Event{Type: "update", Data: []byte(data)})
	}
	fmt.Println("head:", log.Head())

	missed, ok := log.AppendSince(nil, 3) // saw up to id 3
	fmt.Println("resume after 3:", ok)
	for _, e := range missed {
		fmt.Printf("  id %d: %s\n", e.Seq, e.Data)
	}
	_, ok = log.AppendSince(nil, 1) // saw up to id 1: 2 is gone
	fmt.Println("resume after 1:", ok)
	// Output:
	// head: 5
	// resume after 3: true
	//   id 4: d
	//   id 5: e
	// resume after 1: false
}

// A handler opens a stream on its response and sends events; the client
// (here net/http's, reading the body) sees them as they are flushed.
func ExampleOpen() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := ssehub.Open(w)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer s.Close()
		_ = s.Send(ssehub.Event{Seq: 1, Type: "greeting", Data: []byte("hello\nworld")})
	}))
	defer srv.Close()

	resp, err := http.Get(srv.URL)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Header.Get("Content-Type"))
	fmt.Print(string(body))
	// Output:
	// text/event-stream; charset=utf-8
	// id: 1
	// event: greeting
	// data: hello
	// data: world
}
