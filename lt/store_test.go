package lt

import (
	"strconv"
	"testing"

	"github.com/matryer/is"
)

// The store keeps its limit (at most one more per shard that held none
// when it was full), dropping the least recently used first, and a limit
// of zero keeps nothing.
func TestStateStoreBounds(t *testing.T) {
	is := is.New(t)
	s := newStateStore(160)
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
	is.True(kept >= 160)
	is.True(kept < 160+storeShards)
	for i := 1990; i < 2000; i++ { // the most recent keys survive
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

// A store that holds as many keys as its limit keeps them all, however
// unevenly they fall into its shards: a fan-out saving every connection's
// state in turn then writes into the entries it has, rather than evicting
// in the shards that got more than their share (and inserting again on
// the next fan-out).
func TestStateStoreFullCycleEvictsNothing(t *testing.T) {
	is := is.New(t)
	const keys = 10000
	s := newStateStore(keys)
	entries := make([]*storeEntry, keys)
	for round := range 3 {
		for i := range entries {
			e := s.put(entries[i], strconv.Itoa(i), []byte(strconv.Itoa(round)))
			is.True(entries[i] == nil || e == entries[i]) // saved in place
			entries[i] = e
		}
	}
	for i, e := range entries {
		is.True(!e.gone)
		b, ok := s.load(strconv.Itoa(i))
		is.True(ok)
		is.Equal(string(b), "2")
	}
	is.Equal(s.n.Load(), int64(keys))
}
