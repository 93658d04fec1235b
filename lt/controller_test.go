package lt

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/matryer/is"
)

func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ wire, method string }{
		{"increment", "Increment"},
		{"add_item", "AddItem"},
		{"addItem", "AddItem"},
		{"add-item", "AddItem"},
		{"exportComplete", "ExportComplete"},
		{"ExportComplete", "ExportComplete"},
	} {
		if normalize(tc.wire) != normalize(tc.method) {
			t.Errorf("normalize(%q)=%q, normalize(%q)=%q: want equal", tc.wire, normalize(tc.wire), tc.method, normalize(tc.method))
		}
	}
	if normalize("add_item") == normalize("additems") {
		t.Error("different names normalized equal")
	}
}

type sigState struct{ N int }

type goodCtrl struct{}

func (goodCtrl) Increment(s sigState, _ *Context) (sigState, error)       { s.N++; return s, nil }
func (*goodCtrl) AddItem(s sigState, _ *Context) (sigState, error)        { return s, nil }
func (*goodCtrl) ExportComplete(s sigState, _ *Context) (sigState, error) { return s, nil }
func (*goodCtrl) Mount(s sigState, _ *Context) (sigState, error)          { return s, nil }
func (*goodCtrl) OnConnect(s sigState, _ *Context) (sigState, error)      { return s, nil }
func (*goodCtrl) Sync(s sigState, _ *Context) (sigState, error)           { return s, nil }
func (*goodCtrl) OnDisconnect()                                           {}
func (*goodCtrl) String() string                                          { return "a helper, not an action" }

type noErrCtrl struct{}

func (*noErrCtrl) Increment(s sigState, _ *Context) sigState { return s }

type ptrStateCtrl struct{}

func (*ptrStateCtrl) Increment(s *sigState, _ *Context) (*sigState, error) { return s, nil }

type badMountCtrl struct{}

func (*badMountCtrl) Mount(s sigState) (sigState, error) { return s, nil }

type badDisconnectCtrl struct{}

func (*badDisconnectCtrl) OnDisconnect(_ *Context) {}

type dupCtrl struct{}

func (*dupCtrl) AddItem(s sigState, _ *Context) (sigState, error) { return s, nil }
func (*dupCtrl) Additem(s sigState, _ *Context) (sigState, error) { return s, nil }

func TestInspectControllerSignatureRules(t *testing.T) {
	st := reflect.TypeOf(sigState{})
	for _, tc := range []struct {
		name    string
		ctrl    any
		wantErr string // "" for success
	}{
		{"good", &goodCtrl{}, ""},
		{"not a pointer", goodCtrl{}, "pointer to a struct"},
		{"nil pointer", (*goodCtrl)(nil), "nil"},
		{"nil", nil, "pointer to a struct"},
		{"action without error result", &noErrCtrl{}, "method Increment has type func(lt.sigState, *lt.Context) lt.sigState"},
		{"action on another state type", &ptrStateCtrl{}, "method Increment"},
		{"lifecycle with wrong signature", &badMountCtrl{}, "method Mount"},
		{"OnDisconnect with arguments", &badDisconnectCtrl{}, "OnDisconnect has type"},
		{"two methods, one wire name", &dupCtrl{}, "same wire name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			is := is.New(t)
			ct, err := inspectController(tc.ctrl, st)
			if tc.wantErr == "" {
				is.NoErr(err)
				is.Equal(ct.names, []string{"AddItem", "ExportComplete", "Increment"}) // lifecycle and helpers are not actions
				is.True(ct.mount != nil && ct.onConnect != nil && ct.sync != nil && ct.onDisconnect != nil)
				return
			}
			is.True(err != nil)
			is.True(errors.Is(err, ErrBadController))
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %q does not mention %q", err, tc.wantErr)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	ct, err := inspectController(&goodCtrl{}, reflect.TypeOf(sigState{}))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		wire, method, wantErr string
	}{
		{"increment", "Increment", ""},
		{"Increment", "Increment", ""},
		{"add_item", "AddItem", ""},
		{"addItem", "AddItem", ""},
		{"exportComplete", "ExportComplete", ""},
		{"mount", "", "lifecycle"},
		{"OnConnect", "", "lifecycle"},
		{"on_disconnect", "", "lifecycle"},
		{"sync", "", "lifecycle"},
		{"string", "", "actions: AddItem, ExportComplete, Increment"},
		{"", "", "unknown action"},
		{"delete", "", "unknown action"},
	} {
		m, err := ct.lookup(tc.wire)
		if tc.wantErr == "" {
			if err != nil || m.Name != tc.method {
				t.Errorf("lookup(%q) = %q, %v; want %q", tc.wire, m.Name, err, tc.method)
			}
			continue
		}
		if !errors.Is(err, ErrUnknownAction) || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("lookup(%q) error = %v; want ErrUnknownAction mentioning %q", tc.wire, err, tc.wantErr)
		}
	}
}

func TestCallRecoversPanic(t *testing.T) {
	is := is.New(t)
	ct, err := inspectController(&panicCtrl{}, reflect.TypeOf(sigState{}))
	is.NoErr(err)
	m, err := ct.lookup("boom")
	is.NoErr(err)
	in := reflect.ValueOf(sigState{N: 7})
	out, err := call(m, reflect.ValueOf(&panicCtrl{}), in, &Context{})
	is.True(errors.Is(err, ErrActionPanic))
	is.Equal(out.Interface(), sigState{N: 7}) // the state is left as it was
}

type panicCtrl struct{}

func (*panicCtrl) Boom(s sigState, _ *Context) (sigState, error) {
	s.N = 99
	panic("kaboom")
}
