package periodic

import (
	"context"
	"testing"
	"time"

	"github.com/livesse/livesse/internal/specsnippets/internal/snippettest"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newHandler(t *testing.T, feed *Feed) (*lt.Handler, string) {
	t.Helper()
	page := lt.Must(lt.Parse("page", `<p>data=[{{.Data}}]</p>`))
	h, err := lt.New(page, &Controller{feed: feed}, State{}, lt.WithAuthenticator(snippettest.ByUserCookie))
	if err != nil {
		t.Fatal(err)
	}
	return h, snippettest.Serve(t, h, nil)
}

// The snippet hard-codes a 5 s period, so this test waits for one real
// tick (lttest bounds the wait at 10 s): the ticker's TriggerAction("refresh")
// runs Refresh, which fetches the latest data and pushes it to the tab,
// and not before the period has passed.
func TestTickerRefreshesAfterTheFirstPeriod(t *testing.T) {
	is := is.New(t)
	feed := &Feed{}
	_, u := newHandler(t, feed)
	start := time.Now()
	tab := lttest.Open(t, u)
	is.Equal(feed.Reads(), int64(0)) // nothing fetched yet
	tab.WaitFor("data=[reading #1]")
	elapsed := time.Since(start)
	t.Logf("first refresh after %v", elapsed)
	is.True(elapsed >= 5*time.Second) // the 5 s ticker, not an earlier call
	is.Equal(feed.Reads(), int64(1))
}

// Refresh as a server action, without waiting for the ticker: the
// TriggerAction("refresh", nil) the ticker sends, for the user's session.
func TestRefreshAsServerAction(t *testing.T) {
	is := is.New(t)
	feed := &Feed{}
	h, u := newHandler(t, feed)
	tab := lttest.Open(t, u, lttest.WithJar(snippettest.UserJar(t, u, "ops")))
	is.NoErr(h.TriggerUser(context.Background(), "ops", "refresh", nil))
	tab.WaitFor("data=[reading #1]")
	is.NoErr(h.TriggerUser(context.Background(), "ops", "refresh", nil))
	tab.WaitFor("data=[reading #2]")
}
