package ltbrowser_test

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/ltbrowser"
	"github.com/matryer/is"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type count struct{ N int }

type counter struct{}

func (*counter) Increment(s count, _ *lt.Context) (count, error) {
	s.N++
	return s, nil
}

// The kit's own promise: a page served for the test opens live in
// Chromium, a click posts its action and the update reaches the tab that
// clicked; another tab of the same browser has its own state, updated by
// its own clicks over the browser's shared stream.
func TestClickUpdatesEveryTabOfTheBrowser(t *testing.T) {
	is := is.New(t)
	page := lt.Must(lt.Parse("page", `<!doctype html><html><body>
<p id="n">{{.N}}</p>
<form method="post"><button id="inc" name="increment">+1</button></form>
</body></html>`))
	h, err := lt.New(page, &counter{}, count{})
	is.NoErr(err)
	srv := ltbrowser.Serve(t, h, h)

	first := ltbrowser.New(t)
	is.NoErr(ltbrowser.Open(first, srv.URL+"/"))
	second := ltbrowser.NewTab(t, first)
	is.NoErr(ltbrowser.Do(second, chromedp.Navigate(srv.URL+"/")))
	is.NoErr(ltbrowser.WaitStatus(second, "online"))

	is.NoErr(ltbrowser.Do(first, chromedp.Click(chromedp.CSS("#inc"))))
	is.NoErr(ltbrowser.WaitText(first, "#n", "1"))
	n, err := ltbrowser.Text(second, "#n")
	is.NoErr(err)
	is.Equal(n, "0")
	is.NoErr(ltbrowser.Do(second, chromedp.Click(chromedp.CSS("#inc"))))
	is.NoErr(ltbrowser.Do(second, chromedp.Click(chromedp.CSS("#inc"))))
	is.NoErr(ltbrowser.WaitText(second, "#n", "2"))
	seq, err := ltbrowser.Eval[int](first, "window.livesse.seq")
	is.NoErr(err)
	is.True(seq >= 1)
}
