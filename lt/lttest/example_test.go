package lttest_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
)

type counterState struct{ Count int }

type counter struct{}

func (*counter) Increment(s counterState, _ *lt.Context) (counterState, error) {
	s.Count++
	return s, nil
}

// A test of a live counter, as a browser tab sees it: the page loads and
// its stream opens (Open), an action posts and its answer applies (Act),
// and a server action's update arrives on the stream (WaitFor). In a test
// function, pass its *testing.T; this example, which has none, passes a
// stand-in.
func ExampleOpen() {
	t := &exampleT{}
	defer t.cleanup()

	page := lt.Must(lt.Parse("counter", `<p>count={{.Count}}</p>`))
	h := lt.Must(lt.New(page, &counter{}, counterState{}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.Close()

	tab := lttest.Open(t, srv.URL+"/")
	fmt.Println(tab.HTML())

	r := tab.Act("increment", nil)
	fmt.Println(r.Status, tab.HTML())

	if err := h.TriggerAll(context.Background(), "increment", nil); err != nil {
		fmt.Println(err)
		return
	}
	ev := tab.WaitFor("count=2")
	fmt.Println(ev.Type, tab.HTML())
	// Output:
	// <p>count=0</p>
	// 200 <p>count=1</p>
	// update <p>count=2</p>
}

// exampleT stands in for a test's *testing.T outside a test: a failure
// panics, and cleanups run when cleanup is called. (testing.TB has
// unexported methods, so it is embedded.)
type exampleT struct {
	testing.TB
	cleanups []func()
}

func (t *exampleT) Helper()                         {}
func (t *exampleT) Cleanup(f func())                { t.cleanups = append(t.cleanups, f) }
func (t *exampleT) Fatalf(format string, a ...any)  { panic(fmt.Sprintf(format, a...)) }
func (t *exampleT) Logf(format string, args ...any) {}

func (t *exampleT) cleanup() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}
