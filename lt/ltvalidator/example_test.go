package ltvalidator_test

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/ltvalidator"
)

type Address struct {
	Zip string `form:"zip" validate:"len=5,numeric"`
}

type SignUp struct {
	Email    string   `form:"email" validate:"required,email"`
	Password string   `form:"password" validate:"min=8"`
	Confirm  string   `form:"confirm" validate:"eqfield=Password"`
	Age      int      `json:"age" validate:"gte=18"`
	Tags     []string `form:"tags" validate:"max=2"`
	Address  Address  `form:"address"`
}

func Example() {
	validate := ltvalidator.New()
	form := SignUp{Email: "ann", Password: "secret", Confirm: "secret!", Age: 16, Tags: []string{"a", "b", "c"}, Address: Address{Zip: "1234"}}

	err := ltvalidator.Errors(validate.Struct(form))
	var fe lt.FieldErrors
	fmt.Println(errors.As(err, &fe))
	for _, field := range slices.Sorted(maps.Keys(fe)) {
		fmt.Printf("%s: %s\n", field, fe[field])
	}
	fmt.Println(ltvalidator.Errors(validate.Struct(SignUp{Email: "ann@example.com", Password: "long enough", Confirm: "long enough", Age: 30, Address: Address{Zip: "12345"}})))
	// Output:
	// true
	// address.zip: Must be exactly 5 characters long
	// age: Must be 18 or more
	// confirm: Must match password
	// email: Must be a valid email address
	// password: Must be at least 8 characters long
	// tags: Must have at most 2 items
	// <nil>
}
