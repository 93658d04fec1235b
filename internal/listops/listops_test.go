package listops_test

import (
	"testing"

	"github.com/livesse/livesse/internal/listops"
	"github.com/matryer/is"
)

func TestApply(t *testing.T) {
	is := is.New(t)
	a, b, c := listops.Item{Key: "a", HTML: "A"}, listops.Item{Key: "b", HTML: "B"}, listops.Item{Key: "c", HTML: "C"}
	var items []listops.Item
	items = listops.Apply(items, 'a', a, 0)
	items = listops.Apply(items, 'p', b, 0)
	is.Equal(items, []listops.Item{b, a})
	items = listops.Apply(items, 'i', c, 1)
	is.Equal(items, []listops.Item{b, c, a})
	items = listops.Apply(items, 'i', listops.Item{Key: "z"}, 9) // past the end: appended
	is.Equal(items[3].Key, "z")
	items = listops.Apply(items, 'd', listops.Item{Key: "z"}, 0)
	items = listops.Apply(items, 'a', listops.Item{Key: "c", HTML: "C2"}, 0) // its key: in place
	is.Equal(items, []listops.Item{b, {Key: "c", HTML: "C2"}, a})
	items = listops.Apply(items, 'u', listops.Item{Key: "q", HTML: "Q"}, 0) // no such item: nothing
	is.Equal(len(items), 3)
	items = listops.Apply(items, 'd', listops.Item{Key: "missing"}, 0)
	is.Equal(len(items), 3)
	is.Equal(listops.Apply(items, 'x', listops.Item{}, 0), []listops.Item(nil))
}
