package lt

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/matryer/is"
)

// testUUID stands for a UUID type (github.com/google/uuid's and others
// implement encoding.TextUnmarshaler alike).
type testUUID [16]byte

func (u *testUUID) UnmarshalText(b []byte) error {
	if len(b) != 32 {
		return fmt.Errorf("invalid UUID length: %d", len(b))
	}
	_, err := hex.Decode(u[:], b)
	return err
}

type address struct {
	Street string
	City   string `form:"town"`
	Zip    int
}

type Audit struct {
	Note string
}

type profile struct {
	Audit                       // embedded: its fields are the outer struct's
	Name    string              `form:"full_name" json:"name"`
	Email   string              `json:"email"`
	Age     *int                `json:"age"`
	Born    time.Time           `json:"born"`
	Meeting *time.Time          `json:"meeting"`
	IP      netip.Addr          `json:"ip"`
	IPs     []netip.Addr        `json:"ips"`
	ID      testUUID            `json:"id"`
	Home    address             `json:"home"`
	Work    *address            `json:"work"`
	Count   uint8               `json:"count"`
	Skip    string              `form:"-"`
	Secret  string              `json:"_lt_secret"`
	Nested  struct{ Deep bool } `json:"nested"`
	//lint:ignore U1000 Bind must leave an unexported field alone
	unexposed string
}

func TestBindTypes(t *testing.T) {
	age := 42
	meeting := time.Date(2024, 5, 1, 13, 45, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		data map[string]any
		want func(p *profile)
	}{
		{"form tag before json tag", map[string]any{"full_name": "Ann", "name": "ignored"}, func(p *profile) { p.Name = "Ann" }},
		{"json tag", map[string]any{"email": "a@example.com"}, func(p *profile) { p.Email = "a@example.com" }},
		{"pointer", map[string]any{"age": "42"}, func(p *profile) { p.Age = &age }},
		{"blank pointer is nil", map[string]any{"age": " "}, func(p *profile) {}},
		{"date input", map[string]any{"born": "1990-02-03"}, func(p *profile) { p.Born = time.Date(1990, 2, 3, 0, 0, 0, 0, time.UTC) }},
		{"datetime-local input into a pointer", map[string]any{"meeting": "2024-05-01T13:45"}, func(p *profile) { p.Meeting = &meeting }},
		{"RFC 3339", map[string]any{"born": "1990-02-03T04:05:06Z"}, func(p *profile) { p.Born = time.Date(1990, 2, 3, 4, 5, 6, 0, time.UTC) }},
		{"blank time is zero", map[string]any{"born": ""}, func(p *profile) {}},
		{"netip.Addr", map[string]any{"ip": "192.0.2.1"}, func(p *profile) { p.IP = netip.MustParseAddr("192.0.2.1") }},
		{"repeated TextUnmarshalers", map[string]any{"ips": []string{"192.0.2.1", "::1"}}, func(p *profile) {
			p.IPs = []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("::1")}
		}},
		{"a UUID type", map[string]any{"id": "000102030405060708090a0b0c0d0e0f"}, func(p *profile) {
			p.ID = testUUID{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
		}},
		{"nested struct with dots", map[string]any{"home.street": "Main St", "home.town": "Springfield", "Home.Zip": "12345"}, func(p *profile) {
			p.Home = address{Street: "Main St", City: "Springfield", Zip: 12345}
		}},
		{"pointer to a nested struct is allocated", map[string]any{"work.town": "Shelbyville"}, func(p *profile) { p.Work = &address{City: "Shelbyville"} }},
		{"no keys inside: the pointer stays nil", map[string]any{"work": "x"}, func(p *profile) {}},
		{"anonymous struct", map[string]any{"nested.deep": "on"}, func(p *profile) { p.Nested.Deep = true }},
		{"embedded struct's fields", map[string]any{"note": "hi"}, func(p *profile) { p.Note = "hi" }},
		{"reserved keys never bind", map[string]any{"_lt_secret": "x", "_lt_target": "email", "skip": "x", "unexposed": "x"}, func(p *profile) {}},
		{"blank number is zero", map[string]any{"count": ""}, func(p *profile) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			is := is.New(t)
			var got, want profile
			is.NoErr((&Context{data: tc.data}).Bind(&got))
			tc.want(&want)
			is.Equal(got, want)
		})
	}
}

func TestBindFieldErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		data map[string]any
		want FieldErrors
	}{
		{"not a number", map[string]any{"age": "forty"}, FieldErrors{"age": "Must be a whole number"}},
		{"too large", map[string]any{"count": "300"}, FieldErrors{"count": "Must be a smaller number"}},
		{"negative into unsigned", map[string]any{"count": "-1"}, FieldErrors{"count": "Must be a whole number, 0 or more"}},
		{"bad date", map[string]any{"born": "yesterday"}, FieldErrors{"born": "Must be a date and time"}},
		{"bad IP", map[string]any{"ip": "300.1.1.1", "ips": []string{"::1", "x"}}, FieldErrors{"ip": "Must be an IP address", "ips": "Must be an IP address"}},
		{"bad UUID", map[string]any{"id": "nope"}, FieldErrors{"id": "Must be a UUID"}},
		{"nested, keyed as sent", map[string]any{"home.zip": "abc", "work.Zip": "1.5"}, FieldErrors{"home.zip": "Must be a whole number", "work.Zip": "Must be a whole number"}},
		{"bad bool", map[string]any{"nested.deep": "maybe"}, FieldErrors{"nested.deep": "Must be yes or no"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			is := is.New(t)
			p := profile{Email: "kept"}
			err := (&Context{data: mergeData(tc.data, map[string]any{"email": "bound"})}).Bind(&p)
			is.True(errors.Is(err, ErrBadRequest))
			var fe FieldErrors
			is.True(errors.As(err, &fe))
			is.Equal(fe, tc.want)
			is.Equal(p.Email, "bound") // the fields that fit are bound all the same
			_, shown := userMessage(err)
			is.True(shown) // not an internal error
		})
	}
}

func mergeData(a, b map[string]any) map[string]any {
	m := map[string]any{}
	for _, d := range []map[string]any{a, b} {
		for k, v := range d {
			m[k] = v
		}
	}
	return m
}

// Bind never panics, whatever the data: types it cannot set, odd keys.
func TestBindOddInput(t *testing.T) {
	is := is.New(t)
	type odd struct {
		Ch   chan int
		M    map[string]string
		F    func()
		Rec  *odd
		List []struct{ A int }
	}
	var o odd
	err := (&Context{data: map[string]any{"ch": "1", "m": "x", "f": "x", "rec.rec.rec.ch": "1", "list.0.a": "1", "": "x", ".": "x", "..": "x"}}).Bind(&o)
	var fe FieldErrors
	is.True(errors.As(err, &fe))
	is.Equal(fe["ch"], "Cannot be set from this form")
	is.True(errors.As((&Context{data: map[string]any{"list": "x"}}).Bind(&o), &fe))
}
