package pgnotify_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livesse/livesse/lt/lttest"
	"github.com/livesse/livesse/pgnotify"
	"github.com/matryer/is"
)

// Anything that can connect can NOTIFY on the channel: what is not
// authentic is refused before it is decoded; what is authentic but not a
// valid message, or too old, is refused after. All are counted and logged
// (once per reason), never applied, and the listener carries on.
func TestMalformedPayloadsRefused(t *testing.T) {
	is := is.New(t)
	db := newDB(t)
	var logs syncBuffer
	a := newInstance(t, db, "a", pgnotify.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	z := newListener(t, db, "z") // seals what the test sends, with the secret
	tab := lttest.Open(t, a.URL+"/page")
	ctx := waitCtx(t)

	unauthenticated := []string{
		`not json`,
		``,
		`[1, 2]`,
		`"a string"`,
		`{"v": 1, "k": "all", "a": "set_msg", "d": {"msg": "v1"}}`,
		`{"v": 2, "i": "z", "k": "all", "a": "set_msg", "d": {"msg": "v2 in the clear"}}`,
		`{"v": 1, "r": 1}`,
		`2i`,
		`2s00000000`,
		`2x0000000000`,
		`2i` + strings.Repeat("A", 7000),
		strings.Repeat("é", 3999), // 7998 bytes, not ASCII
	}
	for _, p := range unauthenticated {
		_, err := db.Exec(ctx, `SELECT pg_notify('livesse', $1)`, p)
		is.NoErr(err)
	}
	// The raw NOTIFY statement, as psql would send it.
	_, err := db.Exec(ctx, `NOTIFY livesse, '{"v":1,"k":"all","a":"set_msg","d":{"msg":"bad"},"s":"yes"}'`)
	is.NoErr(err)

	now := time.Now()
	malformed := []string{
		`not json`,
		`{"v": 1, "i": "z", "k": "all", "a": "set_msg"}`,                     // an old version, sealed
		`{"v": 3, "i": "z", "k": "all", "a": "set_msg"}`,                     // unknown version
		`{"i": "z", "k": "all", "a": "set_msg", "d": {"msg": "no version"}}`, // no version
		`{"v": 2, "i": "z", "k": "everyone", "a": "set_msg"}`,                // unknown kind
		`{"v": 2, "i": "z", "k": "group", "a": "set_msg"}`,                   // no target
		`{"v": 2, "i": "z", "k": "all"}`,                                     // no action
		`{"v": 2, "i": "z", "k": "all", "a": "set_msg", "d": [1]}`,           // data not an object
		`{"v": 2, "i": "z", "k": "all", "a": "set_msg"} trailing`,            // trailing garbage
		`{"v": 2, "i": "z", "k": "all", "a": "` + strings.Repeat("x", 3000) + `"}`,
		`{"v": 2, "i": "z", "k": "all", "a": "set_msg", "p": "` + strings.Repeat("p", 200) + `"}`,
		`{"v": 2, "i": "z", "k": "user", "a": "set_msg", "t": "` + strings.Repeat("u", 600) + `"}`,
		`{"v": 2, "i": "not an id", "k": "all", "a": "set_msg"}`,
		`{"v": 2, "i": "@sql", "e": true, "k": "all", "a": "set_msg"}`,
		`{"v": 2, "i": "z", "r": "` + strings.Repeat("0", 64) + `", "k": "all", "a": "set_msg"}`, // a reference with a message
	}
	stale := []string{
		z.Seal(`{"v": 2, "i": "z", "k": "all", "a": "set_msg", "d": {"msg": "old"}}`, now.Add(-pgnotify.MessageWindow-time.Second)),
		z.Seal(`{"v": 2, "i": "z", "k": "all", "a": "set_msg", "d": {"msg": "future"}}`, now.Add(pgnotify.MessageWindow+time.Minute)),
	}
	for _, body := range malformed {
		_, err := db.Exec(ctx, `SELECT pg_notify('livesse', $1)`, z.Seal(body, now))
		is.NoErr(err)
	}
	for _, p := range stale {
		_, err := db.Exec(ctx, `SELECT pg_notify('livesse', $1)`, p)
		is.NoErr(err)
	}
	_, err = db.Exec(ctx, `SELECT lt_notify('set_msg', 'all', '', '{"msg": "good"}')`)
	is.NoErr(err)

	// The first update the tab sees is the good message: no bad one was
	// applied.
	ev := tab.Next()
	is.Equal(ev.Seq, uint64(1))
	is.True(strings.Contains(ev.HTML, "msg=good"))
	is.True(strings.Contains(ev.HTML, "n=0"))

	h := health(t, a.L)
	is.Equal(h.Unauthenticated, int64(len(unauthenticated)+1))
	is.Equal(h.Malformed, int64(len(malformed)))
	is.Equal(h.Stale, int64(len(stale)))
	is.Equal(h.Delivered, int64(1))
	is.Equal(h.Dropped+h.Replayed, int64(0))
	is.True(h.Connected)
	// One line per reason (at most one every 10 s), payload clipped.
	is.Equal(strings.Count(logs.String(), "notification refused"), 3)
	for _, want := range []string{"reason=unauthenticated", "reason=malformed", "reason=stale", "not a version-2 payload", "invalid character"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log does not mention %q:\n%s", want, logs.String())
		}
	}
	is.True(len(logs.String()) < 2000)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
