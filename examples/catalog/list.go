package main

import (
	"strconv"
	"strings"

	"github.com/livesse/livesse/lt"
)

// ListState is a tab's list. Query is its URL's; the rest follows from it
// and the store, in Params.
type ListState struct {
	Query Query
	Items []Item
	Total int
	Pages int
}

// Link is the query of this list with another page (0: keep the page).
func (s ListState) Link(page int) string {
	q := s.Query
	if page > 0 {
		q.Page = page
	}
	return "?" + q.Encode()
}

// SortLink is the query of this list sorted by column, the other way
// round when it already is; back to the first page.
func (s ListState) SortLink(column string) string {
	q := s.Query
	q.Page = 1
	if q.Sort == column {
		q.Sort = "-" + column
	} else {
		q.Sort = column
	}
	return "?" + q.Encode()
}

// Arrow marks the column the list is sorted by.
func (s ListState) Arrow(column string) string {
	switch strings.TrimPrefix(s.Query.Sort, "-") {
	case column:
		if strings.HasPrefix(s.Query.Sort, "-") {
			return " ↓"
		}
		return " ↑"
	}
	return ""
}

// Sorted is the aria-sort of column's header.
func (s ListState) Sorted(column string) string {
	switch s.Query.Sort {
	case column:
		return "ascending"
	case "-" + column:
		return "descending"
	}
	return "none"
}

// List is the list page's controller.
type List struct{ store *Store }

// Params reads the list's query from the tab's URL, at mount and whenever
// the URL changes (a page, a sort, a filter, back and forward).
func (l *List) Params(s ListState, ctx *lt.Context) (ListState, error) {
	s.Query = ParseQuery(ctx.URL().Query())
	s.Items, s.Total, s.Pages = l.store.List(s.Query)
	s.Query.Page = min(s.Query.Page, s.Pages)
	return s, nil
}

// Filter runs as the user types in the filter: the URL follows, replaced
// rather than pushed (Back does not step through every letter), and
// Params shows its first page.
func (l *List) Filter(s ListState, ctx *lt.Context) (ListState, error) {
	q := s.Query
	q.Q, q.Page = strings.TrimSpace(ctx.GetString("q")), 1
	return s, ctx.ReplaceURL("?" + q.Encode())
}

// Jump moves the tab to the item whose number was typed: another page,
// so the client loads it (PushURL's URL is another path); without
// JavaScript the form's POST is redirected there.
func (l *List) Jump(s ListState, ctx *lt.Context) (ListState, error) {
	id, err := strconv.Atoi(strings.TrimSpace(ctx.GetString("id")))
	if _, ok := l.store.Get(id); err != nil || !ok {
		return s, lt.FieldErrors{"id": "No such item: the items are numbered 1 to " + strconv.Itoa(l.store.Len())}
	}
	return s, ctx.PushURL("items/" + strconv.Itoa(id))
}

// PrevPage and NextPage are the numbers of the pages around this one.
func (s ListState) PrevPage() int { return s.Query.Page - 1 }
func (s ListState) NextPage() int { return s.Query.Page + 1 }

// PageNumbers are the pages the pager links to around the current one.
func (s ListState) PageNumbers() []int {
	var n []int
	for p := max(1, s.Query.Page-3); p <= min(s.Pages, s.Query.Page+3); p++ {
		n = append(n, p)
	}
	return n
}

// Range says which items the page shows.
func (s ListState) Range() string {
	if s.Total == 0 {
		return "No items match."
	}
	from := (s.Query.Page-1)*PerPage + 1
	return strconv.Itoa(from) + "–" + strconv.Itoa(from+len(s.Items)-1) + " of " + strconv.Itoa(s.Total)
}
