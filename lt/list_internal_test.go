package lt

import (
	"html/template"
	"strings"
	"testing"

	"github.com/matryer/is"
)

// The items Mount and Params put in lists show in the page as the client
// would have them after the same operations from an empty list.
func TestListCallHTML(t *testing.T) {
	is := is.New(t)
	item := func(op byte, list, key string, pos int) listOp {
		return listOp{op: op, list: list, key: key, pos: pos, html: "<li id=\"" + key + "\">" + string(op) + "</li>"}
	}
	lc := &listCall{ops: []listOp{
		item('a', "f", "a", 0),
		item('a', "f", "b", 0),
		item('p', "f", "z", 0),
		item('i', "f", "m", 1),
		item('i', "f", "end", 99),
		item('a', "f", "a", 0), // there already: replaced in place
		item('u', "f", "b", 0),
		item('u', "f", "gone", 0), // not there: nothing
		{op: 'd', list: "f", key: "m"},
		{op: 'd', list: "f", key: "nothing"},
		item('a', "g", "x", 0),
		{op: 'x', list: "g"},
		item('a', "g", "y", 0),
	}}
	is.Equal(lc.html(), map[string]template.HTML{
		"f": `<li id="z">p</li><li id="a">a</li><li id="b">u</li><li id="end">i</li>`,
		"g": `<li id="y">a</li>`,
	})
	is.Equal(string(lc.json()[:34]), `[["a","f","<li id=\"a\">a</li>"],[`)
	var none *listCall
	is.Equal(none.html(), nil)
	is.Equal(none.json(), nil)
	is.Equal(none.concat(lc), lc)
}

func TestItemID(t *testing.T) {
	for _, c := range []struct{ html, id, err string }{
		{`<li id="row-1">x</li>`, "row-1", ""},
		{"\n  <!-- a <comment> --><tr class='a b' data-x=\"1>2\" ID=r&#43;2>", "r+2", ""},
		{`<li data-id="1" id=plain>`, "plain", ""},
		{`<br/><li id="late">`, "", "no id"},
		{`just text`, "", "no element"},
		{`<li class="x">`, "", "no id"},
		{`<li id="">`, "", "1 to 128 bytes"},
		{`<li id="unclosed>`, "", "not closed"},
		{`<!-- never closed`, "", "no element"},
	} {
		id, err := itemID(c.html)
		switch {
		case c.err == "" && (err != nil || id != c.id):
			t.Errorf("itemID(%q) = %q, %v; want %q", c.html, id, err, c.id)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("itemID(%q) = %q, %v; want an error saying %q", c.html, id, err, c.err)
		}
	}
}
