package main

import (
	"net/url"
	"testing"

	"github.com/matryer/is"
)

// The store is the same 3,000 items on every run.
func TestStoreIsFixed(t *testing.T) {
	is := is.New(t)
	a, b := NewStore(3000), NewStore(3000)
	is.Equal(a.Len(), 3000)
	is.Equal(a.items, b.items)
}

// A list's query comes from the URL, anything unknown falling back to
// the first page by id, and goes back into links without the defaults.
func TestQuery(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Query
		enc  string
	}{
		{"", Query{Sort: "id", Page: 1}, ""},
		{"q=+red+&sort=-price&page=3", Query{Q: "red", Sort: "-price", Page: 3}, "page=3&q=red&sort=-price"},
		{"sort=evil&page=-2", Query{Sort: "id", Page: 1}, ""},
		{"page=x&sort=name", Query{Sort: "name", Page: 1}, "sort=name"},
	} {
		v, err := url.ParseQuery(c.in)
		is.New(t).NoErr(err)
		q := ParseQuery(v)
		is.New(t).Equal(q, c.want)
		is.New(t).Equal(q.Encode(), c.enc)
	}
}

// List filters (any case), sorts each way with the id breaking ties, and
// pages; a page past the last shows the last.
func TestList(t *testing.T) {
	is := is.New(t)
	s := NewStore(3000)
	items, total, pages := s.List(Query{Sort: "id", Page: 1})
	is.Equal(total, 3000)
	is.Equal(pages, 150)
	is.Equal(len(items), PerPage)
	is.Equal(items[0].ID, 1)

	items, total, pages = s.List(Query{Q: "RED", Sort: "-price", Page: 999})
	is.True(total > PerPage && total < 3000)
	is.Equal(pages, (total+PerPage-1)/PerPage)
	is.Equal(len(items), total-(pages-1)*PerPage) // the last page
	all, _, _ := s.List(Query{Q: "red", Sort: "-price", Page: 1})
	for i := 1; i < len(all); i++ {
		is.True(all[i-1].Price >= all[i].Price)
	}
	none, total, pages := s.List(Query{Q: "no such thing", Sort: "id", Page: 2})
	is.Equal(len(none)+total, 0)
	is.Equal(pages, 1)
}

// Update checks what it is given and changes the item for every reader.
func TestUpdate(t *testing.T) {
	is := is.New(t)
	s := NewStore(10)
	is.NoErr(s.Update(Item{ID: 3, Name: "  Blue Teapot ", Price: 1250}))
	it, ok := s.Get(3)
	is.True(ok)
	is.Equal(it.Name, "Blue Teapot")
	is.Equal(it.Euros(), "12.50 €")
	for _, bad := range []Item{{ID: 3, Name: " "}, {ID: 3, Name: "x", Price: -1}, {ID: 11, Name: "x"}} {
		is.True(s.Update(bad) != nil)
	}
}
