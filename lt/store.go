package lt

import (
	"encoding/json"
	"hash/maphash"
	"reflect"
	"sync"
	"sync/atomic"
)

// storeShards splits the state store so that the connections of a fan-out,
// which each save their state, do not all queue on one lock.
const storeShards = 16

// stateStore keeps the last state of each session on each page, as
// JSON, so that a reload or a plain form POST (which has no live
// connection) continues from it. It is bounded: once it holds its limit, a
// new key takes the place of an entry of its own shard not used since the
// clock hand last passed it (the CLOCK approximation of least recently
// used, which lets a save mark its entry used without reordering a list).
//
// The limit is the store's, not a share per shard: keys never hash evenly,
// and a shard over its share would evict on every save of a fan-out that
// cycles through all the keys (10,000 sessions with the default limit of
// 10,000), each save then a map insert and delete. A shard that holds no
// entry when the store is full takes one anyway, so the store holds at most
// its limit plus storeShards-1.
type stateStore struct {
	seed   maphash.Seed
	max    int64
	n      atomic.Int64 // entries kept, over all shards
	shards [storeShards]storeShard
}

type storeShard struct {
	mu   sync.Mutex
	m    map[string]*storeEntry
	ring []*storeEntry // the shard's entries in clock order
	hand int           // the next entry the clock looks at
}

// storeEntry is one key's saved state. A live connection keeps a pointer
// to its entry, so that saving again touches only the entry.
type storeEntry struct {
	shard *storeShard
	key   string
	data  []byte // under shard.mu, like the fields below
	used  bool   // since the clock hand last passed
	gone  bool   // evicted: saving must go through the map again
}

func newStateStore(max int) *stateStore {
	s := &stateStore{seed: maphash.MakeSeed(), max: int64(max)}
	for i := range s.shards {
		s.shards[i].m = map[string]*storeEntry{}
	}
	return s
}

func (s *stateStore) shard(key string) *storeShard {
	return &s.shards[maphash.String(s.seed, key)%storeShards]
}

// save is put of state's JSON.
func (s *stateStore) save(e *storeEntry, key string, state reflect.Value) *storeEntry {
	b, err := json.Marshal(state.Interface())
	if err != nil {
		return e // New checked the type serialises; a value that no longer does is not kept
	}
	return s.put(e, key, b)
}

// put keeps b, a state's JSON, which the caller no longer modifies, as
// key's. e is the entry put returned for key before, or nil; keep the
// entry it returns for the next put of the same key.
func (s *stateStore) put(e *storeEntry, key string, b []byte) *storeEntry {
	if e.update(b) {
		return e
	}
	if s.max <= 0 {
		return nil
	}
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e, ok := sh.m[key]; ok {
		e.data, e.used = b, true
		return e
	}
	e = &storeEntry{shard: sh, key: key, data: b}
	sh.m[key] = e
	if s.n.Add(1) <= s.max || len(sh.ring) == 0 {
		sh.ring = append(sh.ring, e)
		return e
	}
	// It takes the place of one of the shard's entries.
	s.n.Add(-1)
	for sh.ring[sh.hand].used { // a second chance, once round the clock
		sh.ring[sh.hand].used = false
		sh.hand = (sh.hand + 1) % len(sh.ring)
	}
	old := sh.ring[sh.hand]
	old.gone = true
	delete(sh.m, old.key)
	sh.ring[sh.hand] = e
	sh.hand = (sh.hand + 1) % len(sh.ring)
	return e
}

// update keeps b in e, unless e is nil or was evicted: it then reports
// false, and the caller puts b through the store.
func (e *storeEntry) update(b []byte) bool {
	if e == nil {
		return false
	}
	e.shard.mu.Lock()
	defer e.shard.mu.Unlock()
	if e.gone {
		return false
	}
	e.data, e.used = b, true
	return true
}

func (s *stateStore) load(key string) ([]byte, bool) {
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.m[key]
	if !ok {
		return nil, false
	}
	e.used = true
	return e.data, true
}
