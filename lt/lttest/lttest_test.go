package lttest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
)

type state struct {
	N      int
	Synced int
	Text   string
}

type ctrl struct{}

func (*ctrl) Increment(s state, _ *lt.Context) (state, error) { s.N++; return s, nil }

// Sync counts the actions of the session's other tabs.
func (*ctrl) Sync(s state, _ *lt.Context) (state, error) { s.Synced++; return s, nil }

// Grow sets Text to "size" bytes of a repeated letter, "fill" (x without
// it).
func (*ctrl) Grow(s state, ctx *lt.Context) (state, error) {
	fill := ctx.GetString("fill")
	if fill == "" {
		fill = "x"
	}
	s.Text = strings.Repeat(fill, ctx.GetInt("size"))
	return s, nil
}

const page = `<!DOCTYPE html><html><head><title>t</title></head><body><p id="n">n={{.N}} synced={{.Synced}}</p><pre>{{.Text}}</pre></body></html>`

// serve serves a page whose Text starts at size bytes, and returns its
// Handler and URL.
func serve(t *testing.T, size int) (*lt.Handler, string) {
	t.Helper()
	h, err := lt.New(lt.Must(lt.Parse("page", page)), &ctrl{}, state{Text: strings.Repeat("a", size)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		_ = h.Close()
		srv.Close()
	})
	return h, srv.URL + "/"
}

// Events of any size reach the tab whole: a stream's first render of a
// page, an update that a server action pushes and a POST's answer, each
// from a few bytes to past r3labs/sse's 64 KiB default and to 1 MB.
func TestEventsOfAnySize(t *testing.T) {
	for _, size := range []int{10, 64 << 10, 100 << 10, 1 << 20} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			is := is.New(t)
			h, u := serve(t, size)
			tab := lttest.Open(t, u) // the stream's render carries the page
			is.Equal(strings.Count(tab.HTML(), "a"), size)

			// A server action's update, on the stream.
			is.NoErr(h.TriggerAll(context.Background(), "grow", map[string]any{"size": size, "fill": "b"}))
			ev := tab.WaitFor(strings.Repeat("b", size))
			is.True(ev.Size > size)
			is.Equal(ev.Type, "update")

			// A POST's answer, and the update's echo on the stream, which
			// the tab already applied.
			r := tab.Act("grow", url.Values{"size": {strconv.Itoa(size)}, "fill": {"c"}})
			is.Equal(r.Status, http.StatusOK)
			is.True(r.Size > size)
			is.True(strings.Contains(tab.HTML(), strings.Repeat("c", size)))
			is.True(!strings.Contains(tab.HTML(), "b"))
		})
	}
}

// A 1 MB page makes the whole round trip: loaded, connected, changed by an
// action of the tab (in one value), pushed to a second tab of the session,
// and resumed after the tab's stream drops.
func TestMegabytePageRoundTrip(t *testing.T) {
	is := is.New(t)
	const size = 1 << 20
	h, u := serve(t, size)
	tab := lttest.Get(t, u)
	is.Equal(len(tab.Page()) > size, true)
	is.Equal(strings.Count(tab.HTML(), "a"), size)
	tab.Connect()
	other := lttest.Open(t, u, lttest.WithJar(tab.Jar())) // same session

	r := tab.Act("increment", nil)
	is.Equal(r.Status, http.StatusOK)
	is.True(r.Size < 1024) // a diff of one value, not the page
	is.True(strings.Contains(tab.HTML(), "n=1"))
	is.Equal(strings.Count(tab.HTML(), "a"), size)

	is.NoErr(h.TriggerAll(context.Background(), "grow", map[string]any{"size": size, "fill": "z"}))
	other.WaitFor(strings.Repeat("z", size))
	tab.WaitFor(strings.Repeat("z", size))

	seq := tab.Seq()
	tab.Close()
	is.NoErr(h.TriggerAll(context.Background(), "increment", nil)) // missed while away
	tab.Connect()                                                  // resumes after seq
	ev := tab.WaitFor("n=2")
	is.True(ev.Seq > seq)
	is.Equal(strings.Count(tab.HTML(), "z"), size)
}

// What a tab offers a test, case by case.
func TestTab(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, is *is.I, h *lt.Handler, u string)
	}{
		{"Open connects and shows the page", func(t *testing.T, is *is.I, _ *lt.Handler, u string) {
			tab := lttest.Open(t, u)
			is.True(tab.Conn() != "")
			is.True(strings.Contains(tab.HTML(), "n=0"))
		}},
		{"Act applies its answer", func(t *testing.T, is *is.I, _ *lt.Handler, u string) {
			tab := lttest.Open(t, u)
			r := tab.Act("increment", nil)
			is.Equal(r.Status, http.StatusOK)
			is.True(r.Changed)
			is.True(strings.Contains(r.HTML, "n=1"))
			is.Equal(tab.Seq(), r.Seq)
		}},
		{"a refusal is returned, not a failure", func(t *testing.T, is *is.I, _ *lt.Handler, u string) {
			tab := lttest.Open(t, u)
			r := tab.Act("no_such_action", nil)
			is.Equal(r.Status, http.StatusBadRequest)
			is.True(strings.Contains(tab.HTML(), "n=0"))
		}},
		{"WithJar shares the session", func(t *testing.T, is *is.I, _ *lt.Handler, u string) {
			first := lttest.Open(t, u)
			second := lttest.Open(t, u, lttest.WithJar(first.Jar()))
			first.Act("increment", nil)
			second.WaitFor("synced=1") // Sync reaches the session's other tab
		}},
		{"OpenStream starts with a render", func(t *testing.T, is *is.I, h *lt.Handler, u string) {
			tab := lttest.OpenStream(t, u)
			is.True(tab.Conn() != "")
			is.NoErr(h.TriggerAll(context.Background(), "increment", nil))
			tab.WaitFor("n=1")
		}},
		{"OpenStreamFor another session's connection gets none of it", func(t *testing.T, is *is.I, _ *lt.Handler, u string) {
			victim := lttest.Open(t, u)
			attacker := lttest.Get(t, u)
			_, ev := attacker.OpenStreamFor(victim.Conn(), 0)
			is.True(ev.Conn != victim.Conn())
		}},
		{"WaitClosed sees the server end the stream", func(t *testing.T, is *is.I, h *lt.Handler, u string) {
			tab := lttest.Open(t, u)
			is.NoErr(h.Close())
			tab.WaitClosed()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, u := serve(t, 1)
			tc.run(t, is.New(t), h, u)
		})
	}
}
