package main

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/livesse/livesse/internal/test/pgtest"
	"github.com/livesse/livesse/lt/ltbrowser"
	"github.com/matryer/is"
)

// Two instances of the app on one database, a browser tab on each: an
// INSERT from SQL updates both, and an announcement typed on a's page
// shows on b's.
func TestBrowserAcrossInstances(t *testing.T) {
	is := is.New(t)
	db := pgtest.Pool(t)
	a, b := startApp(t, db, "a"), startApp(t, db, "b")
	srvA := ltbrowser.Serve(t, a.router, a.page)
	srvB := ltbrowser.Serve(t, b.router, b.page)

	tabA := ltbrowser.New(t)
	is.NoErr(ltbrowser.Do(tabA, chromedp.Navigate(srvA.URL+"/")))
	tabB := ltbrowser.NewTab(t, tabA)
	is.NoErr(ltbrowser.Do(tabB, chromedp.Navigate(srvB.URL+"/")))
	is.NoErr(ltbrowser.WaitStatus(tabA, "online"))
	is.NoErr(ltbrowser.WaitStatus(tabB, "online"))
	is.NoErr(ltbrowser.WaitText(tabA, "#instance", "a"))
	is.NoErr(ltbrowser.WaitText(tabB, "#instance", "b"))
	is.NoErr(ltbrowser.WaitText(tabB, "#count", "0"))

	_, err := db.Exec(t.Context(), `INSERT INTO orders (customer, amount) VALUES ('Ada', 12.50), ('Bob', 7.25)`)
	is.NoErr(err)
	is.NoErr(ltbrowser.WaitText(tabA, "#count", "2"))
	is.NoErr(ltbrowser.WaitText(tabA, "#total", "19.75"))
	is.NoErr(ltbrowser.WaitText(tabB, "#count", "2"))
	is.NoErr(ltbrowser.WaitText(tabB, "#total", "19.75"))
	is.NoErr(ltbrowser.WaitTextContains(tabB, "#orders", "Ada"))

	// Typed and clicked on a; shown on b.
	is.NoErr(ltbrowser.Do(tabA,
		ltbrowser.SendKeys(chromedp.ID("announce-text"), "Lunch at noon"),
		chromedp.Click(chromedp.ID("announce")),
	))
	is.NoErr(ltbrowser.WaitTextContains(tabB, "#announcement", "Lunch at noon (from instance a)"))
	is.NoErr(ltbrowser.WaitTextContains(tabA, "#announcement", "Lunch at noon (from instance a)"))

	// An order added with b's form shows on a.
	is.NoErr(ltbrowser.Do(tabB,
		ltbrowser.SendKeys(chromedp.ID("customer"), "Cy"),
		ltbrowser.SendKeys(chromedp.ID("amount"), "3"),
		chromedp.Click(chromedp.ID("add")),
	))
	is.NoErr(ltbrowser.WaitText(tabA, "#count", "3"))
	is.NoErr(ltbrowser.WaitText(tabA, "#total", "22.75"))
	is.NoErr(ltbrowser.WaitTextContains(tabA, "#orders", "Cy"))
}
