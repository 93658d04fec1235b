package pgnotify_test

import (
	"bytes"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/livesse/livesse/lt/lttest"
	"github.com/livesse/livesse/pgnotify"
	"github.com/matryer/is"
)

// Anything that can connect can NOTIFY on the channel: bad payloads are
// logged and counted, never applied, and the listener carries on.
func TestMalformedPayloadsRefused(t *testing.T) {
	is := is.New(t)
	db := newDB(t)
	var logs syncBuffer
	a := newInstance(t, db, "a", pgnotify.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	tab := lttest.Open(t, a.URL+"/page")
	ctx := waitCtx(t)

	var badRow int64
	is.NoErr(db.QueryRow(ctx, `INSERT INTO lt_messages (payload) VALUES ('{"v": 1, "k": "all"}') RETURNING id`).Scan(&badRow))
	bad := []string{
		`not json`,
		``,
		`[1, 2]`,
		`"a string"`,
		`{"v": 2, "k": "all", "a": "set_msg", "d": {"msg": "v2"}}`,         // unknown version
		`{"k": "all", "a": "set_msg", "d": {"msg": "no version"}}`,         // no version
		`{"v": "1", "k": "all", "a": "set_msg"}`,                           // version of the wrong type
		`{"v": 1, "k": "everyone", "a": "set_msg"}`,                        // unknown kind
		`{"v": 1, "k": "group", "a": "set_msg"}`,                           // no target
		`{"v": 1, "k": "all"}`,                                             // no action
		`{"v": 1, "k": "all", "a": "set_msg", "d": [1]}`,                   // data not an object
		`{"v": 1, "k": "all", "a": "set_msg", "d": {"msg": "x"}} trailing`, // trailing garbage
		`{"v": 1, "k": "all", "a": "` + strings.Repeat("x", 7000) + `"}`,   // huge action
		`{"v": 1, "k": "all", "a": "set_msg", "p": "` + strings.Repeat("p", 200) + `"}`,
		`{"v": 1, "k": "user", "a": "set_msg", "t": "` + strings.Repeat("u", 600) + `"}`,
		`{"v": 1, "i": "` + strings.Repeat("i", 100) + `", "k": "all", "a": "set_msg"}`,
		`{"v": 1, "r": 987654321}`,                             // a missing row
		`{"v": 1, "r": -3}`,                                    // not a row id
		`{"v": 1, "r": 1, "k": "all", "a": "set_msg"}`,         // a reference with a message
		`{"v": 1, "r": ` + strconv.FormatInt(badRow, 10) + `}`, // a row that is no message
	}
	for _, p := range bad {
		_, err := db.Exec(ctx, `SELECT pg_notify('livesse', $1)`, p)
		is.NoErr(err)
	}
	// The raw NOTIFY statement, as psql would send it.
	_, err := db.Exec(ctx, `NOTIFY livesse, '{"v":1,"k":"all","a":"set_msg","d":{"msg":"bad"},"s":"yes"}'`)
	is.NoErr(err)
	_, err = db.Exec(ctx, `SELECT lt_notify('set_msg', 'all', '', '{"msg": "good"}')`)
	is.NoErr(err)

	// The first update the tab sees is the good message: no bad one was
	// applied.
	ev := tab.Next()
	is.Equal(ev.Seq, uint64(1))
	is.True(strings.Contains(ev.HTML, "msg=good"))
	is.True(strings.Contains(ev.HTML, "n=0"))

	h := health(t, a.L)
	is.Equal(h.Malformed, int64(len(bad)+1))
	is.Equal(h.Delivered, int64(1))
	is.Equal(h.Dropped, int64(0))
	is.True(h.Connected)
	is.Equal(strings.Count(logs.String(), "notification refused"), len(bad)+1)
	for _, want := range []string{"unknown envelope version", "unknown kind", "referenced message not found", "is 7000 bytes, over 128"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log does not mention %q:\n%s", want, logs.String())
		}
	}
	is.True(len(logs.String()) < 20000) // payloads are clipped in the log
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
