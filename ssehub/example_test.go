package ssehub_test

import (
	"fmt"

	"github.com/livesse/livesse/ssehub"
)

// A Log is a connection's queue and replay buffer at once: a reader that
// reconnects with the id of the last event it saw (Last-Event-ID) gets
// what it missed, unless the log no longer reaches that far back; then it
// must resynchronise from a snapshot (lt sends a full render).
func ExampleLog() {
	log := &ssehub.Log{MaxEvents: 3}
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
