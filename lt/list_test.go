package lt_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
)

type liveListState struct{ N, Next int }

type liveListItem struct {
	ID   int
	Text string
}

// liveListCtrl counts Mounts in a counter every connection's copy shares.
type liveListCtrl struct{ mounts *atomic.Int32 }

// Mount shows items 1 to 3; Params puts item 0 before them.
func (c *liveListCtrl) Mount(s liveListState, ctx *lt.Context) (liveListState, error) {
	c.mounts.Add(1)
	feed := ctx.List("feed", "item")
	for i := 1; i <= 3; i++ {
		if err := feed.Append(liveListItem{i, "mounted"}); err != nil {
			return s, err
		}
	}
	s.Next = 4
	return s, nil
}

func (*liveListCtrl) Params(s liveListState, ctx *lt.Context) (liveListState, error) {
	return s, ctx.List("feed", "item").Prepend(liveListItem{0, "param"})
}

func (*liveListCtrl) Add(s liveListState, ctx *lt.Context) (liveListState, error) {
	s.Next++
	return s, ctx.List("feed", "item").Append(liveListItem{s.Next - 1, ctx.GetString("text")})
}

func (*liveListCtrl) Top(s liveListState, ctx *lt.Context) (liveListState, error) {
	return s, ctx.List("feed", "item").Prepend(liveListItem{ctx.GetInt("id"), "top"})
}

func (*liveListCtrl) Put(s liveListState, ctx *lt.Context) (liveListState, error) {
	return s, ctx.List("feed", "item").Insert(ctx.GetInt("pos"), liveListItem{ctx.GetInt("id"), "put"})
}

func (*liveListCtrl) Edit(s liveListState, ctx *lt.Context) (liveListState, error) {
	return s, ctx.List("feed", "item").Update(liveListItem{ctx.GetInt("id"), ctx.GetString("text")})
}

func (*liveListCtrl) Drop(s liveListState, ctx *lt.Context) (liveListState, error) {
	return s, ctx.List("feed", "item").Delete(ctx.GetString("key"))
}

func (*liveListCtrl) Clear(s liveListState, ctx *lt.Context) (liveListState, error) {
	return s, ctx.List("feed", "item").Reset()
}

func (*liveListCtrl) Bump(s liveListState, ctx *lt.Context) (liveListState, error) {
	s.N++
	return s, nil
}

// Many adds n items in one call, stopping at the first error.
func (*liveListCtrl) Many(s liveListState, ctx *lt.Context) (liveListState, error) {
	feed := ctx.List("feed", "item")
	for i := range ctx.GetInt("n") {
		if err := feed.Append(liveListItem{1000 + i, ctx.GetString("text")}); err != nil {
			return s, fmt.Errorf("item %d: %w", i, err)
		}
	}
	return s, nil
}

// Bad tries what a List refuses, and says how many it refused.
func (*liveListCtrl) Bad(s liveListState, ctx *lt.Context) (liveListState, error) {
	refused := 0
	for _, err := range []error{
		ctx.List("feed", "nokey").Append(liveListItem{1, "x"}),
		ctx.List("feed", "missing").Append(liveListItem{1, "x"}),
		ctx.List("feed", "item").Insert(-1, liveListItem{1, "x"}),
		ctx.List("", "item").Append(liveListItem{1, "x"}),
		ctx.List("feed", "item").Delete(""),
		ctx.List(strings.Repeat("f", 129), "item").Reset(),
	} {
		if err != nil {
			refused++
		}
	}
	s.N = refused
	return s, nil
}

const liveListHTML = `{{define "item"}}<li id="i{{.ID}}" class="c">{{.Text}}</li>{{end}}` +
	`{{define "nokey"}}<li>{{.Text}}</li>{{end}}` +
	`<!DOCTYPE html><html><head><title>l</title></head><body><p id="n">n={{.N}}</p>` +
	`<ul id="feed" data-lt-list>{{ltList "feed"}}</ul></body></html>`

func newListServer(t *testing.T) (string, *liveListCtrl, *lt.Handler) {
	t.Helper()
	ctrl := &liveListCtrl{mounts: new(atomic.Int32)}
	h, err := lt.New(lt.Must(lt.Parse("list", liveListHTML)), ctrl, liveListState{})
	if err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	r.Handle("/list", h)
	srv := httptest.NewServer(r)
	t.Cleanup(func() {
		srv.Close()
		h.Close()
	})
	return srv.URL + "/list", ctrl, h
}

// liveListOps is the "L" field of an update's JSON, "" when it has none.
func liveListOps(t *testing.T, raw []byte) string {
	t.Helper()
	var m struct{ L json.RawMessage }
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("update is not JSON: %v: %s", err, raw)
	}
	return string(m.L)
}

func TestListShowsMountAndParamsItemsInThePage(t *testing.T) {
	is := is.New(t)
	u, ctrl, h := newListServer(t)
	tab := lttest.Get(t, u)
	is.True(strings.Contains(tab.HTML(), `<ul id="feed" data-lt-list><li id="i0" class="c">param</li>`+
		`<li id="i1" class="c">mounted</li><li id="i2" class="c">mounted</li><li id="i3" class="c">mounted</li></ul>`))
	// The first stream's render of that connection carries no reset: the
	// page's items are the list.
	typ, data := firstEvent(t, tab, u)
	is.Equal(typ, "render")
	is.Equal(liveListOps(t, data), "")
	is.Equal(ctrl.mounts.Load(), int32(1))

	// List operations between a page's GET and its stream are not lost:
	// the stream's render follows Mount again, and resets the lists.
	tab = lttest.Get(t, u)
	is.NoErr(h.TriggerAll(context.Background(), "add", map[string]any{"text": "early"}))
	typ, data = firstEvent(t, tab, u)
	is.Equal(typ, "render")
	is.Equal(liveListOps(t, data), `[["x"]]`)
	is.Equal(ctrl.mounts.Load(), int32(3))
}

// firstEvent opens the stream of tab's page as the client of a freshly
// loaded page does (no _lt_seq) and returns its first event with an id.
func firstEvent(t *testing.T, tab *lttest.Tab, u string) (typ string, data []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u+"?_lt_conn="+url.QueryEscape(tab.Conn()), nil)
	req.Header.Set("Accept", "text/event-stream")
	client := &http.Client{Jar: tab.Jar()}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			typ = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: ") && typ != "hb":
			return typ, []byte(strings.TrimPrefix(line, "data: "))
		}
	}
	t.Fatalf("stream ended: %v", sc.Err())
	return "", nil
}

func TestListOperationsOnTheWire(t *testing.T) {
	is := is.New(t)
	u, _, _ := newListServer(t)
	tab := lttest.Open(t, u)
	for _, step := range []struct {
		action string
		fields url.Values
		want   string
	}{
		{"add", url.Values{"text": {"<b>"}}, `[["a","feed","<li id=\"i4\" class=\"c\">&lt;b&gt;</li>"]]`},
		{"top", url.Values{"id": {"9"}}, `[["p","feed","<li id=\"i9\" class=\"c\">top</li>"]]`},
		{"put", url.Values{"id": {"7"}, "pos": {"2"}}, `[["i","feed",2,"<li id=\"i7\" class=\"c\">put</li>"]]`},
		{"edit", url.Values{"id": {"2"}, "text": {"new"}}, `[["u","feed","<li id=\"i2\" class=\"c\">new</li>"]]`},
		{"drop", url.Values{"key": {"i3"}}, `[["d","feed","i3"]]`},
		{"clear", nil, `[["x","feed"]]`},
		{"bump", nil, ``},
	} {
		r := tab.Act(step.action, step.fields)
		is.Equal(r.Status, http.StatusOK)
		is.Equal(liveListOps(t, r.Raw()), step.want) // step.action
		// A change of lists alone takes a sequence number, as an empty diff.
		is.True(r.Changed)
		ev := tab.Next() // the same update on the stream
		is.Equal(ev.Seq, r.Seq)
		is.Equal(liveListOps(t, ev.Raw()), step.want)
	}
	// The items never entered the page's tree: after the first update,
	// the container is empty there.
	is.True(strings.Contains(tab.HTML(), `<ul id="feed" data-lt-list></ul>`))
}

func TestListRefusesBadItems(t *testing.T) {
	is := is.New(t)
	u, _, _ := newListServer(t)
	tab := lttest.Open(t, u)
	r := tab.Act("bad", nil)
	is.Equal(r.Status, http.StatusOK)
	is.True(strings.Contains(r.HTML, "n=6")) // every one refused
	is.Equal(liveListOps(t, r.Raw()), "")    // and nothing sent
}

func TestListBoundsOneCall(t *testing.T) {
	is := is.New(t)
	u, _, _ := newListServer(t)
	tab := lttest.Open(t, u)

	r := tab.Act("many", url.Values{"n": {"1000"}})
	is.Equal(r.Status, http.StatusOK)
	var m struct{ L [][]any }
	is.NoErr(json.Unmarshal(r.Raw(), &m))
	is.Equal(len(m.L), 1000)

	// The 1,001st operation is refused (the action returns the error);
	// the thousand before it still go out with the update.
	r = tab.Act("many", url.Values{"n": {"1001"}})
	is.Equal(r.Status, http.StatusUnprocessableEntity)
	m.L = nil
	is.NoErr(json.Unmarshal(r.Raw(), &m))
	is.Equal(len(m.L), 1000)

	// So are items over 256 KiB in all.
	r = tab.Act("many", url.Values{"n": {"300"}, "text": {strings.Repeat("x", 1000)}})
	is.Equal(r.Status, http.StatusUnprocessableEntity)
	m.L = nil
	is.NoErr(json.Unmarshal(r.Raw(), &m))
	is.True(len(m.L) > 200 && len(m.L) < 300)
}

func TestListLimitIsErrListLimit(t *testing.T) {
	is := is.New(t)
	var got error
	ctrl := &limitCtrl{err: &got}
	h, err := lt.New(lt.Must(lt.Parse("l", liveListHTML)), ctrl, liveListState{})
	is.NoErr(err)
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		h.Close()
	})
	tab := lttest.Open(t, srv.URL)
	tab.Act("fill", nil)
	is.True(errors.Is(got, lt.ErrListLimit))
}

type limitCtrl struct{ err *error }

func (c *limitCtrl) Fill(s liveListState, ctx *lt.Context) (liveListState, error) {
	feed := ctx.List("feed", "item")
	for i := range 2000 {
		if err := feed.Append(liveListItem{i, "x"}); err != nil {
			*c.err = err
			break
		}
	}
	return s, nil
}

// A server action's list operations reach each tab it runs on.
func TestListFromServerActions(t *testing.T) {
	is := is.New(t)
	u, _, h := newListServer(t)
	a, b := lttest.Open(t, u), lttest.Open(t, u)
	is.NoErr(h.TriggerAll(context.Background(), "add", map[string]any{"text": "all"}))
	for _, tab := range []*lttest.Tab{a, b} {
		ev := tab.Next()
		is.Equal(liveListOps(t, ev.Raw()), `[["a","feed","<li id=\"i4\" class=\"c\">all</li>"]]`)
	}
}

// A tab that reconnects gets the list operations it missed replayed.
func TestListReplaysOnResume(t *testing.T) {
	is := is.New(t)
	u, ctrl, _ := newListServer(t)
	tab := lttest.Open(t, u)
	seq := tab.Seq()
	tab.Act("add", url.Values{"text": {"a"}})
	tab.Act("drop", url.Values{"key": {"i1"}})
	tab.Close()
	_, ev := tab.OpenStreamFor(tab.Conn(), seq)
	is.Equal(ev.Type, "update")
	is.Equal(liveListOps(t, ev.Raw()), `[["a","feed","<li id=\"i4\" class=\"c\">a</li>"]]`)
	is.Equal(ctrl.mounts.Load(), int32(1))
}

// A tab that missed list operations its connection's log no longer has
// cannot be caught up: the connection mounts again, and its render says
// the lists start over from what it shows (Mount's and Params' items).
func TestListMountsAgainWhenTheLogNoLongerReaches(t *testing.T) {
	is := is.New(t)
	u, ctrl, _ := newListServer(t)
	tab := lttest.Open(t, u)
	seq := tab.Seq()
	tab.Act("add", url.Values{"text": {"a"}})
	for range 70 { // past the log's 64 events
		tab.Act("bump", nil)
	}
	tab.Close()
	other, ev := tab.OpenStreamFor(tab.Conn(), seq)
	is.Equal(ev.Type, "render")
	is.Equal(liveListOps(t, ev.Raw()), `[["x"]]`)
	is.True(strings.Contains(ev.HTML, `<ul id="feed" data-lt-list><li id="i0" class="c">param</li><li id="i1"`))
	is.Equal(ctrl.mounts.Load(), int32(2))

	// Caught up with the log, the same gap is a plain render: only
	// changes of the page were missed.
	head := ev.Seq
	for range 70 {
		other.Act("bump", nil)
	}
	other.Close()
	_, ev = tab.OpenStreamFor(tab.Conn(), head)
	is.Equal(ev.Type, "render")
	is.Equal(liveListOps(t, ev.Raw()), "")
	is.Equal(ctrl.mounts.Load(), int32(2))
}

// syncListCtrl's Sync puts the item the acting tab added in the list of
// the session's other tabs.
type syncListCtrl struct{}

func (*syncListCtrl) Add(s liveListState, ctx *lt.Context) (liveListState, error) {
	return s, ctx.List("feed", "item").Append(liveListItem{ctx.GetInt("id"), "added"})
}

func (*syncListCtrl) Sync(s liveListState, ctx *lt.Context) (liveListState, error) {
	return s, ctx.List("feed", "item").Append(liveListItem{ctx.GetInt("id"), "synced"})
}

func TestListFromSync(t *testing.T) {
	is := is.New(t)
	h, err := lt.New(lt.Must(lt.Parse("l", liveListHTML)), &syncListCtrl{}, liveListState{})
	is.NoErr(err)
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		h.Close()
	})
	a := lttest.Open(t, srv.URL)
	b := lttest.Open(t, srv.URL, lttest.WithJar(a.Jar())) // the same session group
	r := a.Act("add", url.Values{"id": {"5"}})
	is.Equal(liveListOps(t, r.Raw()), `[["a","feed","<li id=\"i5\" class=\"c\">added</li>"]]`)
	is.Equal(liveListOps(t, b.Next().Raw()), `[["a","feed","<li id=\"i5\" class=\"c\">synced</li>"]]`)
}

// A server action triggered on one instance puts items in the lists of
// tabs on another.
func TestListAcrossInstances(t *testing.T) {
	is := is.New(t)
	bus := lt.NewBus()
	serve := func(name string) (string, *lt.Handler) {
		h, err := lt.New(lt.Must(lt.Parse("l", liveListHTML)), &liveListCtrl{mounts: new(atomic.Int32)}, liveListState{},
			lt.WithBroadcaster(bus.Instance(name)), lt.WithSecret(testSecret))
		is.NoErr(err)
		srv := httptest.NewServer(h)
		t.Cleanup(func() {
			h.Close()
			srv.Close()
		})
		return srv.URL, h
	}
	_, ha := serve("a")
	ub, _ := serve("b")
	tab := lttest.Open(t, ub)
	is.NoErr(ha.TriggerAll(context.Background(), "add", map[string]any{"text": "from a"}))
	is.Equal(liveListOps(t, tab.Next().Raw()), `[["a","feed","<li id=\"i4\" class=\"c\">from a</li>"]]`)
}

// A page a RenderFunc renders has no named templates: its lists refuse
// every item, with an error.
func TestListOnAFuncPageRefusesItems(t *testing.T) {
	is := is.New(t)
	var got error
	render := func(_ context.Context, w io.Writer, _ any) error {
		_, err := io.WriteString(w, `<ul id="feed" data-lt-list></ul>`)
		return err
	}
	h, err := lt.NewFunc("f", render, &limitCtrl{err: &got}, liveListState{})
	is.NoErr(err)
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		h.Close()
	})
	tab := lttest.Open(t, srv.URL)
	r := tab.Act("fill", nil)
	is.Equal(r.Status, http.StatusOK)
	is.True(got != nil && strings.Contains(got.Error(), "RenderFunc"))
	is.Equal(liveListOps(t, r.Raw()), "")
}
