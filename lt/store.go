package lt

import (
	"container/list"
	"encoding/json"
	"reflect"
	"sync"
)

// stateStore keeps the last state of each session group on each page, as
// JSON, so that a reload or a plain form POST (which has no live
// connection) continues from it. It is bounded: the least recently used
// entries go first.
type stateStore struct {
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
	return &stateStore{max: max, m: map[string]*list.Element{}}
}

func (s *stateStore) save(key string, state reflect.Value) {
	b, err := json.Marshal(state.Interface())
	if err != nil || s.max <= 0 {
		return // New checked the type serialises; a value that no longer does is not kept
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.m[key]; ok {
		e.Value.(*storeEntry).data = b
		s.lru.MoveToFront(e)
		return
	}
	s.m[key] = s.lru.PushFront(&storeEntry{key, b})
	for s.lru.Len() > s.max {
		old := s.lru.Back()
		s.lru.Remove(old)
		delete(s.m, old.Value.(*storeEntry).key)
	}
}

func (s *stateStore) load(key string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[key]
	if !ok {
		return nil, false
	}
	s.lru.MoveToFront(e)
	return e.Value.(*storeEntry).data, true
}
