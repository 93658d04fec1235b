package lt

import (
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"

	"github.com/matryer/is"
)

type orderCtrl struct{}

type orderState struct{ N int }

func (*orderCtrl) Bump(s orderState, _ *Context) (orderState, error) { s.N++; return s, nil }

// A fan-out reaches every live connection, in the order they opened, as
// connections close anywhere in that order: the slice kept for it holds
// the live ones, each at the position it records, and sheds its holes.
func TestAllKeepsOpeningOrder(t *testing.T) {
	is := is.New(t)
	h, err := New(Must(Parse("p", `<!DOCTYPE html><html><head><title>t</title></head><body>{{.N}}</body></html>`)), &orderCtrl{}, orderState{})
	is.NoErr(err)
	defer h.Close()
	var live []*conn
	for i := range 12 {
		c, _, err := h.newConn(httptest.NewRequest("GET", "/", nil), AnonymousIdentity("s"+strconv.Itoa(i)), true)
		is.NoErr(err)
		live = append(live, c)
	}
	for _, i := range []int{11, 0, 5, 5, 3, 2, 1} { // the last, the first, middles; the seventh compacts
		h.closeConn(live[i])
		live = slices.Delete(live, i, i+1)
		is.Equal(h.all(""), live)
		for pos, c := range h.order {
			is.True(c == nil || c.pos == pos)
		}
	}
	is.True(len(h.order) < 12)            // the holes were compacted away
	is.Equal(h.all(live[0].id), live[1:]) // skip leaves the rest in order
}
