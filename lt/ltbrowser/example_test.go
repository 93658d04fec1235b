package ltbrowser_test

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/ltbrowser"
)

// A test of your own page in Chromium: serve it, open it, wait until it
// is live, click, and wait for the update.
func Example() {
	var t *testing.T  // your test's
	var h *lt.Handler // your page

	srv := ltbrowser.Serve(t, h, h)                          // or your router, with h inside it
	tab := ltbrowser.New(t)                                  // skipped without Chromium, failed under CI=true
	if err := ltbrowser.Open(tab, srv.URL+"/"); err != nil { // loaded and live
		t.Fatal(err)
	}
	if err := ltbrowser.Do(tab, chromedp.Click(chromedp.CSS("#inc"))); err != nil {
		t.Fatal(err)
	}
	if err := ltbrowser.WaitText(tab, "#count", "1"); err != nil {
		t.Fatal(err)
	}
}
