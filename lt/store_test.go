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
		s.put(nil, k, []byte(k))
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
	none.put(nil, "a", []byte("1"))
	_, ok := none.load("a")
	is.True(!ok)
}

// A connection saves through the entry it was given; once the clock has
// evicted that entry, the next save makes a fresh one rather than writing
// into the dropped entry, where no load would find it.
func TestStateStoreSavesThroughEvictedEntry(t *testing.T) {
	is := is.New(t)
	s := newStateStore(storeShards) // one entry per shard
	e := s.put(nil, "a", []byte("1"))
	is.Equal(s.put(e, "a", []byte("2")), e) // the fast path keeps the entry
	for i := 0; !e.gone; i++ {
		is.True(i < 10000) // some key shares a's shard and evicts it
		s.put(nil, strconv.Itoa(i), nil)
	}
	_, ok := s.load("a")
	is.True(!ok)
	e2 := s.put(e, "a", []byte("3"))
	is.True(e2 != e)
	b, ok := s.load("a")
	is.True(ok)
	is.Equal(string(b), "3")
}
