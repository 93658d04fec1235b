package main

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// PerPage is how many items a page of the list shows.
const PerPage = 20

// Item is one thing in the catalog. Price is in cents.
type Item struct {
	ID     int
	Name   string
	Colour string
	Price  int
}

// Euros is the price as shown.
func (it Item) Euros() string { return fmt.Sprintf("%d.%02d €", it.Price/100, it.Price%100) }

// Store holds the items; an edit changes one for every tab.
type Store struct {
	mu    sync.RWMutex
	items []Item // by id - 1
}

var colours = []string{"Red", "Orange", "Yellow", "Green", "Teal", "Blue", "Indigo", "Violet", "Grey", "Black"}

// NewStore generates n items, the same ones on every call.
func NewStore(n int) *Store {
	adjectives := []string{"Amber", "Brave", "Calm", "Dusty", "Eager", "Fuzzy", "Gentle", "Happy", "Icy", "Jolly",
		"Keen", "Lucky", "Misty", "Noble", "Odd", "Proud", "Quiet", "Rapid", "Sunny", "Tiny"}
	things := []string{"Kettle", "Lamp", "Chair", "Clock", "Vase", "Mug", "Rug", "Stool", "Bowl", "Mirror",
		"Candle", "Basket", "Shelf", "Cushion", "Teapot", "Jug", "Frame", "Tray", "Bench", "Desk"}
	r := rand.New(rand.NewPCG(13, 2026))
	s := &Store{items: make([]Item, n)}
	for i := range s.items {
		c := colours[r.IntN(len(colours))]
		s.items[i] = Item{
			ID:     i + 1,
			Name:   fmt.Sprintf("%s %s %s", adjectives[r.IntN(len(adjectives))], c, things[r.IntN(len(things))]),
			Colour: c,
			Price:  100 + r.IntN(99_900),
		}
	}
	return s
}

// Len is the number of items.
func (s *Store) Len() int { return len(s.items) } // fixed once made

// Get returns the item id, if there is one.
func (s *Store) Get(id int) (Item, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if id < 1 || id > len(s.items) {
		return Item{}, false
	}
	return s.items[id-1], true
}

// ErrBadItem is what Update refuses; its message is for the user.
var ErrBadItem = errors.New("bad item")

// Update changes the name and price of the item it.ID. The name is 1 to
// 60 characters, the price 0 to 1,000,000 cents.
func (s *Store) Update(it Item) error {
	it.Name = strings.TrimSpace(it.Name)
	switch n := utf8.RuneCountInString(it.Name); {
	case n == 0:
		return fmt.Errorf("%w: the name is empty", ErrBadItem)
	case n > 60:
		return fmt.Errorf("%w: the name is longer than 60 characters", ErrBadItem)
	case it.Price < 0 || it.Price > 1_000_000:
		return fmt.Errorf("%w: the price is not between 0 and 10000 €", ErrBadItem)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if it.ID < 1 || it.ID > len(s.items) {
		return fmt.Errorf("%w: no item %d", ErrBadItem, it.ID)
	}
	old := &s.items[it.ID-1]
	old.Name, old.Price = it.Name, it.Price
	return nil
}

// Query is what a list shows: a filter on the names (any case), an order
// and a page, 1 and up. It lives in the URL's query: ?q=red&sort=-price&page=2.
type Query struct {
	Q    string
	Sort string // one of Sorts
	Page int
}

// Sorts are the orders a list can have: by a column, "-" for descending.
var Sorts = []string{"id", "-id", "name", "-name", "price", "-price"}

// ParseQuery reads a list's query from a URL's; anything it does not
// know falls back to the first page, by id.
func ParseQuery(v url.Values) Query {
	q := Query{Q: strings.TrimSpace(v.Get("q")), Sort: v.Get("sort"), Page: 1}
	if len(q.Q) > 100 {
		q.Q = ""
	}
	if !slices.Contains(Sorts, q.Sort) {
		q.Sort = "id"
	}
	if p, err := strconv.Atoi(v.Get("page")); err == nil && p > 1 {
		q.Page = p
	}
	return q
}

// Encode is q as a URL's query, without what is the default.
func (q Query) Encode() string {
	v := url.Values{}
	if q.Q != "" {
		v.Set("q", q.Q)
	}
	if q.Sort != "id" && q.Sort != "" {
		v.Set("sort", q.Sort)
	}
	if q.Page > 1 {
		v.Set("page", strconv.Itoa(q.Page))
	}
	return v.Encode()
}

// List returns the items of q's page, how many match in all and the
// number of pages. A page past the last shows the last.
func (s *Store) List(q Query) (page []Item, total, pages int) {
	s.mu.RLock()
	var found []Item
	low := strings.ToLower(q.Q)
	for _, it := range s.items {
		if low == "" || strings.Contains(strings.ToLower(it.Name), low) {
			found = append(found, it)
		}
	}
	s.mu.RUnlock()
	desc := strings.HasPrefix(q.Sort, "-")
	slices.SortStableFunc(found, func(a, b Item) int {
		var c int
		switch strings.TrimPrefix(q.Sort, "-") {
		case "name":
			c = cmp.Or(strings.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
		case "price":
			c = cmp.Or(cmp.Compare(a.Price, b.Price), cmp.Compare(a.ID, b.ID))
		default:
			c = cmp.Compare(a.ID, b.ID)
		}
		if desc {
			return -c
		}
		return c
	})
	total = len(found)
	pages = max(1, (total+PerPage-1)/PerPage)
	p := min(max(q.Page, 1), pages)
	return found[min((p-1)*PerPage, total):min(p*PerPage, total)], total, pages
}
