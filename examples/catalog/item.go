package main

import (
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/livesse/livesse/lt"
)

// ItemState is a tab's item page: the item of its URL's {id}.
type ItemState struct {
	Item  Item
	Prev  int // the ids before and after, 0 for none
	Next  int
	Saved bool
	Euros string // the price field's value, as typed
}

// ItemPage is the item page's controller.
type ItemPage struct{ store *Store }

// notFound is the answer to an item that does not exist: a 404 page.
type notFound struct{}

func (notFound) Error() string   { return "no such item" }
func (notFound) StatusCode() int { return 404 }

// Params shows the item of the URL's {id}: at mount, and when a link
// moves the tab to another item (data-lt-patch), with no remount.
func (p *ItemPage) Params(s ItemState, ctx *lt.Context) (ItemState, error) {
	id, err := strconv.Atoi(ctx.URLParam("id"))
	it, ok := p.store.Get(id)
	if err != nil || !ok {
		return s, notFound{}
	}
	s.Item, s.Saved = it, false
	s.Euros = strconv.FormatFloat(float64(it.Price)/100, 'f', 2, 64)
	s.Prev, s.Next = id-1, id+1
	if s.Next > p.store.Len() {
		s.Next = 0
	}
	return s, nil
}

// Save changes the item's name and price, from the form.
func (p *ItemPage) Save(s ItemState, ctx *lt.Context) (ItemState, error) {
	s.Saved = false
	it := s.Item
	it.Name = ctx.GetString("name")
	s.Euros = strings.TrimSpace(ctx.GetString("price"))
	euros, err := strconv.ParseFloat(strings.TrimSuffix(s.Euros, "€"), 64)
	if err != nil || math.IsNaN(euros) || math.IsInf(euros, 0) {
		return s, lt.FieldErrors{"price": "A price in euros, like 12.50"}
	}
	it.Price = int(math.Round(euros * 100))
	if err := p.store.Update(it); err != nil {
		if errors.Is(err, ErrBadItem) {
			return s, lt.UserError(strings.TrimPrefix(err.Error(), ErrBadItem.Error()+": "))
		}
		return s, err
	}
	s.Item, _ = p.store.Get(it.ID)
	s.Saved = true
	return s, nil
}
