package lt_test

import (
	"context"
	"fmt"

	"github.com/livesse/livesse/lt"
)

// The Message an app publishes from a database transaction (pgnotify's
// PublishTx) is what TriggerAll would send; a Broadcaster carries its
// JSON form and the receiving instance decodes and checks it.
func ExampleServerAction() {
	m, err := lt.ServerAction("orders", lt.ToAll, "", "refresh", map[string]any{"added": 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m)
	b, _ := m.MarshalJSON()
	fmt.Println(string(b))

	var got lt.Message
	fmt.Println(got.UnmarshalJSON([]byte(`{"lt":2,"k":"all","a":"refresh"}`)))
	// Output:
	// refresh to all
	// {"lt":1,"p":"orders","k":"all","t":"","a":"refresh","d":{"added":2}}
	// lt: bad message: version 2, this instance reads 1: upgrade it
}

// A Bus connects instances within one process, as pgnotify does across
// processes: what one publishes, the others' Subscribers get.
func ExampleBus() {
	var bus lt.Bus
	web1, web2 := bus.Instance("web-1"), bus.Instance("web-2")
	got := make(chan lt.Message, 1)
	defer web2.Subscribe(inbox(got))()

	m, _ := lt.ServerAction("", lt.ToSession, "user:ann", "notify", nil)
	_ = web1.Publish(context.Background(), m)
	r := <-got
	fmt.Println(r, "from", r.From())
	// Output:
	// notify to session "user:ann" from web-1
}
