package pgnotify

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/livesse/livesse/lt"
	"github.com/matryer/is"
)

func TestEnvelopeRoundTrip(t *testing.T) {
	is := is.New(t)
	m := lt.Message{
		Instance: "web-1", Page: "orders", Kind: lt.ToConn, Target: "web-2.abc", Action: "add_item",
		Data: map[string]any{"item": "<b>&</b>", "n": 3.0}, Except: "web-1.x", Sync: true,
		Identity: &lt.Identity{UserID: "ann", GroupID: "user:ann"},
	}
	body, err := encode(envelope{V: EnvelopeVersion, Echo: true, Message: m})
	is.NoErr(err)
	is.True(strings.Contains(string(body), `"item":"<b>&</b>"`)) // no HTML escaping: compact
	is.True(strings.HasPrefix(string(body), `{"v":1,"e":true,"i":"web-1","p":"orders","k":"conn"`))
	e, err := decode(body)
	is.NoErr(err)
	is.True(e.Echo)
	is.Equal(e.Message, m)
}

func TestEnvelopeRefused(t *testing.T) {
	for _, c := range []struct{ payload, want string }{
		{`nope`, "invalid character"},
		{`{"v":0,"k":"all","a":"x"}`, "unknown envelope version 0"},
		{`{"v":1,"k":"","a":"x"}`, `unknown kind ""`},
		{`{"v":1,"k":"conn","a":"x"}`, "without a target"},
		{`{"v":1,"k":"all","a":""}`, "no action"},
		{`{"v":1,"k":"all","a":"x","x":"` + strings.Repeat("c", 513) + `"}`, "except is 513 bytes"},
		{`{"v":1,"k":"all","a":"x","id":{"u":"` + strings.Repeat("u", 513) + `"}}`, "identity user is 513 bytes"},
		{`{"v":1,"k":"all","a":"x","id":{"g":"` + strings.Repeat("g", 513) + `"}}`, "identity group is 513 bytes"},
		{`{"v":1,"r":5,"d":{}}`, "a reference carries only"},
		{`{"v":1,"k":"` + strings.Repeat("k", 100) + `","a":"x"}`, `(100 bytes)`},
	} {
		_, err := decode([]byte(c.payload))
		if !errors.Is(err, ErrBadPayload) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("decode(%.60s) = %v, want ErrBadPayload mentioning %q", c.payload, err, c.want)
		}
	}
	_, err := decode([]byte(`{"v":7}`))
	if !errors.Is(err, ErrUnknownVersion) {
		t.Errorf("v 7: %v, want ErrUnknownVersion", err)
	}
}

// decode never panics and never accepts what validate refuses.
func FuzzDecode(f *testing.F) {
	f.Add(`{"v":1,"i":"a","p":"page","k":"group","t":"g","a":"increment","d":{"n":1}}`)
	f.Add(`{"v":1,"r":12}`)
	f.Add(`{"v":1,"k":"conn","t":"a.b","a":"x","id":{"u":"u"}}`)
	f.Fuzz(func(t *testing.T, payload string) {
		e, err := decode([]byte(payload))
		if err == nil {
			if e.validate() != nil {
				t.Fatalf("accepted an invalid envelope: %q", payload)
			}
			if e.Ref == 0 && e.Action == "" {
				t.Fatalf("accepted a message without an action: %q", payload)
			}
		} else if !errors.Is(err, ErrBadPayload) {
			t.Fatalf("error not wrapping ErrBadPayload: %v", err)
		}
	})
}

func TestConfig(t *testing.T) {
	is := is.New(t)
	c, err := newConfig(nil)
	is.NoErr(err)
	is.True(lt.ValidInstance(c.instance)) // a random id lt accepts
	c2, _ := newConfig(nil)
	is.True(c.instance != c2.instance)
	is.Equal(c.channel, DefaultChannel)
	for _, o := range []Option{
		WithInstance("a.b"), WithInstance(strings.Repeat("a", 33)),
		WithChannel("Upper"), WithChannel("1abc"), WithChannel("a-b"), WithChannel(strings.Repeat("c", 64)), WithChannel(""),
		WithPingInterval(0), WithBackoff(0, time.Second), WithBackoff(time.Second, time.Millisecond),
		WithQueueSize(0), WithMaxMessageBytes(100),
	} {
		_, err := newConfig([]Option{o})
		is.True(errors.Is(err, ErrInvalidConfig))
	}
	_, err = newConfig([]Option{WithChannel(strings.Repeat("c", 63)), WithInstance("web_1-A")})
	is.NoErr(err)
}

func TestBackoff(t *testing.T) {
	is := is.New(t)
	b := backoff{min: 100 * time.Millisecond, max: time.Second}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for _, w := range want {
		w *= time.Millisecond
		d := b.next()
		is.True(d >= w/2 && d <= w) // jittered within [w/2, w]
	}
}

func TestSQLBakesChannel(t *testing.T) {
	is := is.New(t)
	sql, err := SQL(WithChannel("orders_live"))
	is.NoErr(err)
	is.True(strings.Contains(sql, "PERFORM lt_send('orders_live', envelope)"))
	is.True(!strings.Contains(sql, "__CHANNEL__"))
}

// A close (CloseGroup, CloseUser) carries no action; it must name a group
// or a user.
func TestEnvelopeClose(t *testing.T) {
	for payload, ok := range map[string]bool{
		`{"v":1,"k":"group","t":"g","z":true}`:         true,
		`{"v":1,"k":"user","t":"u","z":true}`:          true,
		`{"v":1,"k":"all","z":true}`:                   false,
		`{"v":1,"k":"conn","t":"a.b","z":true}`:        false,
		`{"v":1,"k":"group","t":"g","a":"x","z":true}`: false,
	} {
		_, err := decode([]byte(payload))
		if (err == nil) != ok {
			t.Errorf("decode(%s) = %v, want ok=%v", payload, err, ok)
		}
	}
}
