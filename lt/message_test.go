package lt_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/livesse/livesse/lt"
	"github.com/matryer/is"
)

// A server action crosses as its JSON form, versioned, and comes back
// the same; the sender is the Broadcaster's to say ("i"), never lt's.
func TestMessageJSONRoundTrip(t *testing.T) {
	is := is.New(t)
	m, err := lt.ServerAction("orders", lt.ToUser, "ann", "refresh", map[string]any{"n": 1.0, "html": "<b>"})
	is.NoErr(err)
	b, err := m.MarshalJSON()
	is.NoErr(err)
	is.True(strings.HasPrefix(string(b), `{"lt":1,"p":"orders","k":"user","t":"ann","a":"refresh"`))
	is.True(strings.Contains(string(b), `"<b>"`)) // compact: no HTML escaping
	is.True(!strings.Contains(string(b), `"i":`))
	is.Equal(m.To(), "")
	is.Equal(m.From(), "")
	is.Equal(m.String(), `refresh to user "ann"`)

	withSender := `{"v":2,"i":"web-1",` + string(b[1:]) // a Broadcaster's own keys beside lt's
	var back lt.Message
	is.NoErr(json.Unmarshal([]byte(withSender), &back))
	is.Equal(back.From(), "web-1")
	again, err := back.MarshalJSON()
	is.NoErr(err)
	is.Equal(string(again), string(b))
}

func TestServerActionRefusals(t *testing.T) {
	for _, c := range []struct {
		name                       string
		kind                       lt.Kind
		page, target, action, want string
	}{
		{"a connection", "conn", "p", "c.x", "a", `kind "conn"`},
		{"an unknown kind", "everyone", "p", "", "a", `kind "everyone"`},
		{"all with a target", lt.ToAll, "p", "g", "a", "takes no target"},
		{"a group without one", lt.ToSession, "p", "", "a", "without a target"},
		{"no action", lt.ToAll, "p", "", "", "no action"},
		{"a long page", lt.ToAll, strings.Repeat("p", 129), "", "a", "page of 129 bytes"},
		{"a long target", lt.ToUser, "p", strings.Repeat("u", 513), "a", "target of 513 bytes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := lt.ServerAction(c.page, c.kind, c.target, c.action, nil)
			if !errors.Is(err, lt.ErrBadMessage) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want ErrBadMessage mentioning %q", err, c.want)
			}
		})
	}
}

// What no instance of lt sends is refused on the way in and on the way
// out, with ErrBadMessage: a later version, a malformed close or
// request, the zero Message.
func TestMessageRefusals(t *testing.T) {
	for _, c := range []struct{ js, want string }{
		{`{"lt":2,"k":"all","a":"x"}`, "version 2"},
		{`{"k":"all","a":"x","i":"no spaces allowed"}`, "is not an instance id"},
		{`{"k":"all","a":"x","to":"b.c"}`, "is not an instance id"},
		{`{"k":"all","z":true}`, "a close names a group"},
		{`{"k":"group","t":"g","a":"x","z":true}`, "a close names no action"},
		{`{"k":"conn","t":"a.b","z":true}`, "names the requester and the instance"},
		{`{"k":"all","a":"x","rq":{"m":"POST"}}`, "goes to a connection"},
		{`{"k":"all","a":"x","id":{"u":"` + strings.Repeat("u", 513) + `"}}`, "identity user of 513 bytes"},
		{`{"k":"all","a":"x","d":[1]}`, "cannot unmarshal"},
		{`[]`, "cannot unmarshal"},
	} {
		var m lt.Message
		err := json.Unmarshal([]byte(c.js), &m)
		if !errors.Is(err, lt.ErrBadMessage) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Unmarshal(%.50s) = %v, want ErrBadMessage mentioning %q", c.js, err, c.want)
		}
	}
	_, err := lt.Message{}.MarshalJSON()
	if !errors.Is(err, lt.ErrBadMessage) {
		t.Errorf("the zero Message: %v, want ErrBadMessage", err)
	}
}

// A zero Bus works: instances made from it reach each other.
func TestZeroBus(t *testing.T) {
	is := is.New(t)
	var bus lt.Bus
	a, b := bus.Instance("a"), bus.Instance("b")
	got := make(chan lt.Message, 1)
	defer b.Subscribe(inbox(got))()
	is.NoErr(a.Publish(t.Context(), lt.Must(lt.ServerAction("p", lt.ToAll, "", "tick", nil))))
	m := <-got
	is.Equal(m.From(), "a")
	is.Equal(m.String(), "tick to all")
	is.True(errors.Is(a.Publish(t.Context(), lt.Message{}), lt.ErrBadMessage))
}

// inbox is a Subscriber that hands on what it gets.
type inbox chan lt.Message

func (in inbox) Deliver(m lt.Message) { in <- m }
func (in inbox) Resync()              {}
