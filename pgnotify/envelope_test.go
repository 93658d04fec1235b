package pgnotify

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/livesse/livesse/lt"
	"github.com/matryer/is"
)

// testSecret is a secret of the minimum length.
var testSecret = []byte("0123456789abcdef0123456789abcdef")

func TestEnvelopeRoundTrip(t *testing.T) {
	is := is.New(t)
	w := Msg{
		Page: "orders", Kind: "conn", Target: "web-2.abc", Action: "add_item",
		Data: map[string]any{"item": "<b>&</b>", "n": 3.0}, Except: "web-1.x", Sync: true,
		Identity: &lt.Identity{UserID: "ann", SessionID: "user:ann"}, To: "web-2",
		Request: map[string]any{"m": "POST", "u": "/orders?x=1", "f": map[string]any{"item": []any{"a"}}},
	}
	body, err := encode(envelope{V: EnvelopeVersion, Instance: "web-1", Echo: true, Message: w.M(t)})
	is.NoErr(err)
	is.True(strings.Contains(string(body), `"item":"<b>&</b>"`)) // no HTML escaping: compact
	is.True(strings.HasPrefix(string(body), `{"v":2,"i":"web-1","e":true,"lt":1,"p":"orders","k":"conn"`))
	e, err := decode(body)
	is.NoErr(err)
	is.True(e.Echo)
	is.Equal(e.Instance, "web-1")
	is.Equal(e.To, "web-2")
	w.Instance = "web-1"
	is.Equal(View(t, e.Message), w)
}

func TestEnvelopeRefused(t *testing.T) {
	for _, c := range []struct{ payload, want string }{
		{`nope`, "invalid character"},
		{`{"v":1,"i":"a","k":"all","a":"x"}`, "unknown envelope version 1"},
		{`{"v":2,"k":"all","a":"x"}`, `sender "" is not an instance id`},
		{`{"v":2,"i":"@sql","k":"all","a":"x"}`, `sender "@sql" is not an instance id`},
		{`{"v":2,"i":"a","k":"","a":"x"}`, `unknown kind ""`},
		{`{"v":2,"i":"a","k":"conn","a":"x"}`, "without a target"},
		{`{"v":2,"i":"a","k":"all","a":""}`, "no action"},
		{`{"v":2,"i":"a","k":"all","a":"x","to":"b.c"}`, `recipient "b.c" is not an instance id`},
		{`{"v":2,"i":"a","k":"all","a":"x","rq":{"m":"POST"}}`, "a forwarded request goes to a connection"},
		{`{"v":2,"i":"a","k":"all","a":"x","x":"` + strings.Repeat("c", 513) + `"}`, "except of 513 bytes"},
		{`{"v":2,"i":"a","k":"all","a":"x","id":{"u":"` + strings.Repeat("u", 513) + `"}}`, "identity user of 513 bytes"},
		{`{"v":2,"i":"a","k":"all","a":"x","id":{"g":"` + strings.Repeat("g", 513) + `"}}`, "identity group of 513 bytes"},
		{`{"v":2,"i":"a","r":"` + strings.Repeat("a", 64) + `","d":{}}`, "a reference carries only"},
		{`{"v":2,"i":"a","r":"12"}`, "a reference carries only"},
		{`{"v":2,"i":"a","r":"` + strings.Repeat("A", 64) + `"}`, "a reference carries only"},
		{`{"v":2,"i":"a","bc":"hello"}`, "a beacon carries only"},
		{`{"v":2,"i":"a","bc":"hi","ev":5}`, "a beacon carries only"},
		{`{"v":2,"i":"a","bc":"alive","ev":5,"k":"all","a":"x"}`, "a beacon carries only"},
		{`{"v":2,"i":"a","k":"all","a":"x","ev":5}`, "ev outside a beacon"},
		{`{"v":2,"i":"a","k":"` + strings.Repeat("k", 100) + `","a":"x"}`, `(100 bytes)`},
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

// A message from SQL is a server action (or a reference), nothing else:
// whoever can sign one (the owner of lt_keys) cannot forward a client
// action, pose as a requester or an instance, close streams or Sync.
func TestSQLEnvelope(t *testing.T) {
	is := is.New(t)
	e, err := decodeSQL([]byte(`{"a": "refresh", "d": {"n": 1}, "k": "user", "p": "orders", "t": "42", "v": 2}`))
	is.NoErr(err)
	is.Equal(e.Instance, "@sql")
	is.Equal(View(t, e.Message), Msg{Page: "orders", Kind: lt.ToUser, Target: "42", Action: "refresh", Data: map[string]any{"n": 1.0}})
	is.True(e.Echo)
	e, err = decodeSQL([]byte(`{"v": 2, "r": "` + strings.Repeat("0", 64) + `"}`))
	is.NoErr(err)
	is.Equal(e.Ref, strings.Repeat("0", 64))
	for _, c := range []struct{ body, want string }{
		{`{"v":2,"k":"conn","t":"a.b","a":"add_item"}`, "server actions only"},
		{`{"v":2,"k":"all","a":""}`, "server actions only"},
		{`{"v":2,"k":"group","t":"g","z":true}`, `unknown field "z"`},
		{`{"v":2,"k":"all","a":"x","id":{"u":"ann"}}`, `unknown field "id"`},
		{`{"v":2,"k":"all","a":"x","i":"a"}`, `unknown field "i"`},
		{`{"v":2,"k":"all","a":"x","to":"a"}`, `unknown field "to"`},
		{`{"v":2,"k":"all","a":"x","x":"a.b"}`, `unknown field "x"`},
		{`{"v":2,"k":"all","a":"x","s":true}`, `unknown field "s"`},
		{`{"v":2,"k":"all","a":"x","b":true}`, `unknown field "b"`},
		{`{"v":2,"k":"all","a":"x","e":false}`, `unknown field "e"`},
		{`{"v":2,"k":"all","a":"x","rq":{}}`, `unknown field "rq"`},
		{`{"v":2,"k":"all","a":"x","bc":"hello"}`, `unknown field "bc"`},
		{`{"v":2,"k":"all","a":"x"} {}`, "data after"},
		{`{"v":2,"r":"` + strings.Repeat("0", 64) + `","a":"x"}`, "a reference carries only"},
		{`{"v":1,"k":"all","a":"x"}`, "unknown envelope version 1"},
		{`[]`, "cannot unmarshal"},
	} {
		_, err := decodeSQL([]byte(c.body))
		if !errors.Is(err, ErrBadPayload) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("decodeSQL(%.60s) = %v, want ErrBadPayload mentioning %q", c.body, err, c.want)
		}
	}
}

// decode never panics and never accepts what validate refuses.
func FuzzDecode(f *testing.F) {
	f.Add(`{"v":2,"i":"a","p":"page","k":"group","t":"g","a":"increment","d":{"n":1}}`)
	f.Add(`{"v":2,"i":"a","r":"` + strings.Repeat("0", 64) + `"}`)
	f.Add(`{"v":2,"i":"a","k":"conn","t":"a.b","a":"x","id":{"u":"u"}}`)
	f.Add(`{"v":2,"i":"a","bc":"hello","ev":1000}`)
	f.Fuzz(func(t *testing.T, payload string) {
		for _, dec := range []func([]byte) (envelope, error){decode, decodeSQL} {
			e, err := dec([]byte(payload))
			if err == nil {
				if e.validate(nil) != nil {
					t.Fatalf("accepted an invalid envelope: %q", payload)
				}
				if e.carries() {
					if _, err := e.Message.MarshalJSON(); err != nil {
						t.Fatalf("accepted a message lt refuses (%v): %q", err, payload)
					}
				}
			} else if !errors.Is(err, ErrBadPayload) {
				t.Fatalf("error not wrapping ErrBadPayload: %v", err)
			}
		}
	})
}

func TestConfig(t *testing.T) {
	is := is.New(t)
	c, err := newConfig([]Option{WithSecret(testSecret)}, true)
	is.NoErr(err)
	is.True(lt.ValidInstance(c.instance)) // a random id lt accepts
	c2, _ := newConfig(nil, false)
	is.True(c.instance != c2.instance)
	is.Equal(c.channel, DefaultChannel)
	for _, o := range []Option{
		WithInstance("a.b"), WithInstance(strings.Repeat("a", 33)),
		WithChannel("Upper"), WithChannel("1abc"), WithChannel("a-b"), WithChannel(strings.Repeat("c", 64)), WithChannel(""),
		WithPingInterval(0), WithBackoff(0, time.Second), WithBackoff(time.Second, time.Millisecond),
		WithQueueSize(0), WithMaxMessageBytes(100),
	} {
		_, err := newConfig([]Option{o}, false)
		is.True(errors.Is(err, ErrInvalidConfig))
	}
	_, err = newConfig([]Option{WithChannel(strings.Repeat("c", 63)), WithInstance("web_1-A")}, false)
	is.NoErr(err)
}

// The secret is required, long enough, and each previous one too; the
// error says what to do.
func TestSecretRequired(t *testing.T) {
	is := is.New(t)
	short := []byte(strings.Repeat("s", MinSecretBytes-1))
	for _, c := range []struct {
		opts []Option
		want string
	}{
		{nil, "no secret: pass pgnotify.WithSecret(secret)"},
		{[]Option{WithSecret(nil)}, "no secret"},
		{[]Option{WithSecret(short)}, "the secret is 31 bytes: use at least 32 random bytes"},
		{[]Option{WithSecret(testSecret, short)}, "previous secret 1 is 31 bytes"},
	} {
		_, err := newConfig(c.opts, true)
		if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v, want ErrInvalidConfig mentioning %q", err, c.want)
		}
		_, err = newListener(nil, c.opts)
		is.True(errors.Is(err, ErrInvalidConfig))
	}
	_, err := newListener(nil, []Option{WithSecret(testSecret, testSecret)})
	is.True(errors.Is(err, ErrInvalidConfig)) // the same secret twice
	// WithSecret copies: changing the caller's slice changes nothing.
	s := []byte(strings.Repeat("x", 32))
	o := WithSecret(s)
	s[0] = 'y'
	c, err := newConfig([]Option{o}, true)
	is.NoErr(err)
	is.Equal(c.secrets[0][0], byte('x'))
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

// SQL bakes in the channel, needs no secret and holds none.
func TestSQLBakesChannel(t *testing.T) {
	is := is.New(t)
	sql, err := SQL(WithChannel("orders_live"))
	is.NoErr(err)
	is.True(strings.Contains(sql, "ch      constant text := 'orders_live';"))
	is.True(!strings.Contains(sql, "__CHANNEL__"))
	sql2, err := SQL(WithChannel("orders_live"), WithSecret(testSecret))
	is.NoErr(err)
	is.Equal(sql, sql2)
}

// A close (CloseSession, CloseUser) carries no action; it must name a session
// or a user.
func TestEnvelopeClose(t *testing.T) {
	for payload, ok := range map[string]bool{
		`{"v":2,"i":"a","k":"group","t":"g","z":true}`:                                                 true,
		`{"v":2,"i":"a","k":"user","t":"u","z":true}`:                                                  true,
		`{"v":2,"i":"a","k":"all","z":true}`:                                                           false,
		`{"v":2,"i":"a","k":"conn","t":"a.b","z":true}`:                                                false, // a leave names its requester and instance
		`{"v":2,"i":"a","k":"conn","t":"b.c","z":true,"to":"b","id":{"g":"anon:x"}}`:                   true,
		`{"v":2,"i":"a","k":"conn","t":"b.c","z":true,"id":{"g":"anon:x"}}`:                            false,
		`{"v":2,"i":"a","k":"conn","t":"b.c","z":true,"to":"b"}`:                                       false,
		`{"v":2,"i":"a","k":"conn","t":"b.c","z":true,"to":"b","id":{"g":"anon:x"},"rq":{"m":"POST"}}`: false,
		`{"v":2,"i":"a","k":"group","t":"g","a":"x","z":true}`:                                         false,
	} {
		_, err := decode([]byte(payload))
		if (err == nil) != ok {
			t.Errorf("decode(%s) = %v, want ok=%v", payload, err, ok)
		}
	}
}
