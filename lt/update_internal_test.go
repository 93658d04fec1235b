package lt

import (
	"bytes"
	"testing"

	"github.com/livesse/livesse/internal/sse"
	"github.com/matryer/is"
)

// A diff kept in the log as the diff alone reaches the client as the very
// message the connection would have logged, whatever the id and sequence
// number, and next writes several of them without one overwriting another.
func TestLoggedDiffIsTheUpdateMessage(t *testing.T) {
	is := is.New(t)
	for _, id := range []string{"abc", `we"ird\id`, "inst-1.x7Yq"} {
		var idJSON bytes.Buffer
		writeJSONString(&idJSON, id)
		c := &conn{id: id, idJSON: idJSON.String()}
		a := &attachment{c: c}
		c.stream = a
		diffs := []string{`{"0":"1"}`, `{"2":{"0":"x"}}`, `{}`}
		for _, d := range diffs {
			c.log.Append(sse.Event{Type: loggedDiff, Data: []byte(d)})
		}
		evs, _ := a.next(nil, make([]byte, 0, 8)) // a small buffer, so that next must grow it
		is.Equal(len(evs), len(diffs))
		for i, e := range evs {
			is.Equal(e.Type, "update")
			want := c.message(e.Seq, update{kind: 'd', body: []byte(diffs[i])}, "")
			is.Equal(string(e.Data), string(want))
		}
	}
}
