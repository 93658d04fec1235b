package lt

import (
	"errors"
	"testing"

	"github.com/matryer/is"
)

func TestContextGetters(t *testing.T) {
	ctx := &Context{data: map[string]any{
		"s": "hello", "n": " 42 ", "f": "2.5", "on": "on", "off": "", "many": []string{"7", "8"},
		"jsonNum": float64(3.9), "int": 5, "bool": true, "bad": "x1",
	}}
	for _, tc := range []struct {
		name string
		got  any
		want any
	}{
		{"GetString string", ctx.GetString("s"), "hello"},
		{"GetString first of many", ctx.GetString("many"), "7"},
		{"GetString number", ctx.GetString("int"), "5"},
		{"GetString missing", ctx.GetString("nope"), ""},
		{"GetInt padded", ctx.GetInt("n"), 42},
		{"GetInt JSON number", ctx.GetInt("jsonNum"), 3},
		{"GetInt int", ctx.GetInt("int"), 5},
		{"GetInt not a number", ctx.GetInt("bad"), 0},
		{"GetInt missing", ctx.GetInt("nope"), 0},
		{"GetInt first of many", ctx.GetInt("many"), 7},
		{"GetFloat", ctx.GetFloat("f"), 2.5},
		{"GetFloat int", ctx.GetFloat("int"), 5.0},
		{"GetFloat bad", ctx.GetFloat("bad"), 0.0},
		{"GetBool checkbox", ctx.GetBool("on"), true},
		{"GetBool empty", ctx.GetBool("off"), false},
		{"GetBool bool", ctx.GetBool("bool"), true},
		{"GetBool missing", ctx.GetBool("nope"), false},
		{"Has", ctx.Has("off"), true},
		{"Has missing", ctx.Has("nope"), false},
		{"Get", ctx.Get("int"), 5},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %#v, want %#v", tc.name, tc.got, tc.want)
		}
	}
}

func TestBind(t *testing.T) {
	type form struct {
		Title    string
		Qty      int     `json:"quantity"`
		Price    float64 `json:"price"`
		Done     bool
		Tags     []string
		IDs      []int  `json:"ids"`
		Ignored  string `json:"-"`
		LongName string
		//lint:ignore U1000 Bind must leave an unexported field alone
		private string
	}
	is := is.New(t)
	ctx := &Context{data: map[string]any{
		"title": "Milk", "quantity": "3", "price": "1.25", "done": "on", "tags": []string{"a", "b"},
		"ids": []string{"1", "2"}, "Ignored": "x", "long_name": "snake", "private": "p", "unknown": "u",
	}}
	var f form
	is.NoErr(ctx.Bind(&f))
	is.Equal(f, form{Title: "Milk", Qty: 3, Price: 1.25, Done: true, Tags: []string{"a", "b"}, IDs: []int{1, 2}, LongName: "snake"})

	// A server action's data arrives with Go types, not strings.
	ctx = &Context{data: map[string]any{"quantity": float64(4), "done": true, "title": 12}}
	f = form{}
	is.NoErr(ctx.Bind(&f))
	is.Equal(f.Qty, 4)
	is.True(f.Done)
	is.Equal(f.Title, "12")

	for _, bad := range []map[string]any{
		{"quantity": "three"},
		{"quantity": "1.5"},
		{"price": "cheap"},
		{"done": "maybe"},
		{"ids": []string{"1", "x"}},
	} {
		err := (&Context{data: bad}).Bind(&form{})
		if !errors.Is(err, ErrBadRequest) {
			t.Errorf("Bind(%v) = %v, want ErrBadRequest", bad, err)
		}
	}
	is.True((&Context{}).Bind(form{}) != nil) // not a pointer
}
