// Package corpus holds the templ components of lttempl's oracle: every
// construct templ has that changes a page's shape (conditionals, loops,
// switches, nested components, children, attributes and spreads, scripts,
// styles, raw text) fed with hostile values.
package corpus

import "github.com/a-h/templ"

// Item is one element of a loop.
type Item struct {
	ID   int
	Name string
	Done bool
	Tags []string
}

// State feeds the components.
type State struct {
	N      int
	S      string
	U      string
	C      string
	Flag   bool
	Mode   string
	Items  []Item
	Groups [][]Item
	Ptr    *Item
	Attrs  templ.Attributes
	Raw    string // trusted HTML, rendered with templ.Raw
}

// Pages are the corpus's page components by name.
func Pages() map[string]func(State) templ.Component {
	return map[string]func(State) templ.Component{
		"document":   Document,
		"fragment":   Fragment,
		"conditions": Conditions,
		"lists":      Lists,
		"nested":     Nested,
		"attributes": Attributes,
		"scripts":    Scripts,
		"raw":        RawPage,
	}
}
