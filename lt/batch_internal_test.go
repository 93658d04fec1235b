package lt

import (
	"reflect"
	"testing"
	"time"

	"github.com/matryer/is"
)

type marshals struct{ V int }

func (marshals) MarshalJSON() ([]byte, error) { return []byte("0"), nil }

// Only types whose equal keys guarantee equal renders may share one.
func TestStateKeyModes(t *testing.T) {
	type inner struct{ A, B string }
	type node struct {
		Name string
		Kids []*node
	}
	cases := []struct {
		name string
		v    any
		want stateKeyMode
	}{
		{"comparable", struct {
			N int
			S string
			P *int
		}{}, keyValue},
		{"comparable with unexported field", struct{ n int }{}, keyValue},
		{"comparable with time", struct{ T time.Time }{}, keyValue},
		{"interface field", struct{ X any }{}, keyNone},
		{"slices and maps of plain data", struct {
			L []inner
			M map[string][]int
			B []byte
		}{}, keyJSON},
		{"recursive", node{}, keyJSON},
		{"unexported field beside a slice", struct {
			L []int
			n int
		}{}, keyNone},
		{"field JSON omits", struct {
			L []int
			X int `json:"-"`
		}{}, keyNone},
		{"names that collide in JSON", struct {
			L []int
			A int
			B int `json:"a"`
		}{}, keyNone},
		{"embedded struct", struct {
			inner
			L []int
		}{}, keyNone},
		{"custom marshaler", struct {
			L []int
			M marshals
		}{}, keyNone},
		{"time beside a slice", struct {
			L []int
			T time.Time
		}{}, keyNone},
		{"map with int keys", struct{ M map[int]string }{}, keyNone},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			is.New(t).Equal(stateKeysFor(reflect.TypeOf(c.v)), c.want)
		})
	}
}
