package lt

import (
	"container/list"
	"encoding/json"
	"hash/maphash"
	"reflect"
	"sync"
)

// storeShards splits the state store so that the connections of a fan-out,
// which each save their state, do not all queue on one lock.
const storeShards = 16

// stateStore keeps the last state of each session group on each page, as
// JSON, so that a reload or a plain form POST (which has no live
// connection) continues from it. It is bounded: each shard holds its share
// of the limit and drops its least recently used entries first.
type stateStore struct {
	seed   maphash.Seed
	shards [storeShards]storeShard
}

type storeShard struct {
	mu  sync.Mutex
	max int
	m   map[string]*list.Element
	lru list.List // of *storeEntry, most recent first
}

type storeEntry struct {
	key  string
	data []byte
}

func newStateStore(max int) *stateStore {
	s := &stateStore{seed: maphash.MakeSeed()}
	for i := range s.shards {
		s.shards[i].max = (max + storeShards - 1) / storeShards
		s.shards[i].m = map[string]*list.Element{}
	}
	return s
}

func (s *stateStore) shard(key string) *storeShard {
	return &s.shards[maphash.String(s.seed, key)%storeShards]
}

func (s *stateStore) save(key string, state reflect.Value) {
	b, err := json.Marshal(state.Interface())
	if err != nil {
		return // New checked the type serialises; a value that no longer does is not kept
	}
	s.put(key, b)
}

// put keeps b, a state's JSON, which the caller no longer modifies.
func (s *stateStore) put(key string, b []byte) {
	sh := s.shard(key)
	if sh.max <= 0 {
		return
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e, ok := sh.m[key]; ok {
		e.Value.(*storeEntry).data = b
		sh.lru.MoveToFront(e)
		return
	}
	sh.m[key] = sh.lru.PushFront(&storeEntry{key, b})
	for sh.lru.Len() > sh.max {
		old := sh.lru.Back()
		sh.lru.Remove(old)
		delete(sh.m, old.Value.(*storeEntry).key)
	}
}

func (s *stateStore) load(key string) ([]byte, bool) {
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.m[key]
	if !ok {
		return nil, false
	}
	sh.lru.MoveToFront(e)
	return e.Value.(*storeEntry).data, true
}
