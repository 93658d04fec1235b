package lt

import (
	"strconv"
	"testing"

	"github.com/matryer/is"
)

// The store keeps at most about its limit, dropping the least recently
// used first, and a limit of zero keeps nothing.
func TestStateStoreBounds(t *testing.T) {
	is := is.New(t)
	s := newStateStore(160) // 10 per shard
	for i := range 2000 {
		k := strconv.Itoa(i)
		s.put(k, []byte(k))
		if i%5 == 0 { // key "0" stays in use: never the least recent of its shard
			_, ok := s.load("0")
			is.True(ok)
		}
	}
	kept := 0
	for i := range 2000 {
		if b, ok := s.load(strconv.Itoa(i)); ok {
			is.Equal(string(b), strconv.Itoa(i))
			kept++
		}
	}
	is.True(kept <= 160)
	is.True(kept >= 150)           // every shard is full after 2,000 keys
	for i := 1990; i < 2000; i++ { // the most recent of each shard survive
		_, ok := s.load(strconv.Itoa(i))
		is.True(ok)
	}

	none := newStateStore(0)
	none.put("a", []byte("1"))
	_, ok := none.load("a")
	is.True(!ok)
}
