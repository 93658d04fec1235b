package ltvalidator_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/go-playground/validator/v10"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/ltvalidator"
	"github.com/matryer/is"
)

func TestMessages(t *testing.T) {
	validate := ltvalidator.New()
	for _, tc := range []struct {
		name  string
		value any
		rule  string
		want  string
	}{
		{"required", "", "required", "This field is required"},
		{"email", "ann", "email", "Must be a valid email address"},
		{"url", "x", "url", "Must be a valid URL"},
		{"min string", "ab", "min=3", "Must be at least 3 characters long"},
		{"min string, one", "", "min=1", "Must be at least 1 character long"},
		{"min number", 2, "min=3", "Must be 3 or more"},
		{"min slice", []int{1}, "min=2", "Must have at least 2 items"},
		{"max string", "abcd", "max=3", "Must be at most 3 characters long"},
		{"max number", 4.5, "max=3", "Must be 3 or less"},
		{"len", "abcd", "len=3", "Must be exactly 3 characters long"},
		{"gt number", 3, "gt=3", "Must be greater than 3"},
		{"lt number", 3, "lt=3", "Must be less than 3"},
		{"gt time", time.Now().Add(-time.Hour), "gt", "Must be in the future"},
		{"oneof", "x", "oneof=red green", "Must be one of: red, green"},
		{"alphanum", "a-b", "alphanum", "Must contain only letters and digits"},
		{"numeric", "x", "numeric", "Must be a number"},
		{"uuid", "x", "uuid", "Must be a UUID"},
		{"ip", "x", "ip", "Must be an IP address"},
		{"startswith", "x", "startswith=ab", `Must start with "ab"`},
		{"e164", "123", "e164", "Must be a phone number in international format, such as +14155552671"},
		{"pointer to string", ptr("ab"), "min=3", "Must be at least 3 characters long"},
		{"unknown rule", "x", "isbn", "Is not valid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			is := is.New(t)
			var ves validator.ValidationErrors
			is.True(errors.As(validate.Var(tc.value, tc.rule), &ves))
			is.Equal(ltvalidator.Message(ves[0]), tc.want)
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestErrorsKeys(t *testing.T) {
	type inner struct {
		City string `validate:"required"`
		Zip  string `json:"postcode,omitempty" validate:"required"`
	}
	type form struct {
		FirstName string   `validate:"required"`
		Nick      string   `form:"nick_name" json:"nick" validate:"required,min=3"`
		Skipped   string   `form:"-" validate:"required"`
		Home      inner    `form:"home"`
		Work      *inner   `validate:"required"`
		Tags      []string `form:"tags" validate:"dive,required"`
	}
	is := is.New(t)
	err := ltvalidator.Errors(ltvalidator.New().Struct(form{Tags: []string{"a", ""}}))
	var fe lt.FieldErrors
	is.True(errors.As(err, &fe))
	is.Equal(fe, lt.FieldErrors{
		"FirstName":     "This field is required",
		"Skipped":       "This field is required", // Bind skips it; validator does not
		"nick_name":     "This field is required", // the first rule that failed
		"home.City":     "This field is required",
		"home.postcode": "This field is required",
		"Work":          "This field is required",
		"tags[1]":       "This field is required",
	})

	// A validator of one's own names fields its way: Go names without a
	// tag name function, which lt matches loosely.
	err = ltvalidator.Errors(validator.New().Struct(form{Nick: "abc", Work: &inner{City: "x", Zip: "y"}, FirstName: "Ann"}))
	is.True(errors.As(err, &fe))
	is.Equal(fe, lt.FieldErrors{"Home.City": "This field is required", "Home.Zip": "This field is required", "Skipped": "This field is required"})
}

func TestErrorsPassesOtherErrors(t *testing.T) {
	is := is.New(t)
	is.NoErr(ltvalidator.Errors(nil))
	err := ltvalidator.New().Struct(42) // not a struct: the program's mistake
	var inv *validator.InvalidValidationError
	is.True(errors.As(ltvalidator.Errors(err), &inv))
	other := errors.New("db down")
	is.Equal(ltvalidator.Errors(other), other)

	// Wrapped validation errors are found.
	err = fmt.Errorf("checking: %w", ltvalidator.New().Var("", "required"))
	var fe lt.FieldErrors
	is.True(errors.As(ltvalidator.Errors(err), &fe))
	is.Equal(fe, lt.FieldErrors{"": "This field is required"})
}
