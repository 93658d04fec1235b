package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/ltbrowser"
	"github.com/matryer/is"
)

// carried measures the event streams of a page and the tabs they
// carry, and the most tabs one stream request named.
type carried struct {
	lt.NopPageMetrics
	streams, tabs, most atomic.Int64
}

func (c *carried) Page(string, []string) lt.PageMetrics { return c }

func (c *carried) Streams(delta, tabs int) {
	c.streams.Add(int64(delta))
	c.tabs.Add(int64(tabs))
}

// count wraps h, keeping the most tabs a stream request named.
func (c *carried) count(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("Accept"), "text/event-stream") && r.Method == http.MethodGet {
			n := int64(len(r.URL.Query()["_lt_conn"]))
			for m := c.most.Load(); n > m && !c.most.CompareAndSwap(m, n); m = c.most.Load() {
			}
		}
		h.ServeHTTP(w, r)
	})
}

// wait waits until streams event streams are open, carrying tabs tabs.
func (c *carried) wait(streams, tabs int) error {
	deadline := time.Now().Add(ltbrowser.Timeout)
	for c.streams.Load() != int64(streams) || c.tabs.Load() != int64(tabs) {
		if time.Now().After(deadline) {
			return fmt.Errorf("%d streams carry %d tabs, want %d carrying %d", c.streams.Load(), c.tabs.Load(), streams, tabs)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

// Seventy tabs of one browser on one page, more than one stream may name
// (64): the first 64 share one stream, the 6 others a second one, and all
// of them are online, updated and able to POST. On a non-secure origin
// (the tabs elect their leaders over BroadcastChannel) and on a secure one
// (Web Locks).
func TestSeventyTabsOnOnePage(t *testing.T) {
	for _, secure := range []bool{false, true} {
		name := "insecure"
		if secure {
			name = "secure"
		}
		t.Run(name, func(t *testing.T) { seventyTabs(t, secure) })
	}
}

func seventyTabs(t *testing.T, secure bool) {
	const tabs = 70
	is := is.New(t)
	streams := &carried{}
	h := lt.Must(lt.New(lt.Must(lt.Parse("shared", sharedHTML)), &sharedCtrl{}, sharedState{}, lt.WithMetrics(streams)))
	srv := ltbrowser.Serve(t, streams.count(h), h)
	page := srv.URL + "/"
	browser := ltbrowser.New(t)
	if !secure {
		page = ltbrowser.InsecureURL(srv) + "/"
		browser = ltbrowser.NewInsecure(t)
	}
	all := openTabsAtOnce(t, browser, page, tabs, 10)
	if !secure {
		is.NoErr(ltbrowser.CheckInsecure(all[0].ctx))
	}
	// Two streams carry the 70 tabs, led by two of them; one of the
	// streams named 64 (no stream names more).
	is.NoErr(streams.wait(2, tabs))
	is.Equal(len(leaders(t, all)), 2)
	is.Equal(streams.most.Load(), int64(64))

	is.NoErr(h.TriggerAll(context.Background(), "bump", map[string]any{"n": 7}))
	waitAll(t, all, "#n", "7")
	for _, i := range []int{tabs - 1, 0, 63, 64} {
		is.NoErr(ltbrowser.Do(all[i].ctx, chromedp.Click(`#click`)))
		is.NoErr(ltbrowser.WaitText(all[i].ctx, "#clicked", "yes"))
	}
	is.NoErr(ltbrowser.WaitText(all[tabs-2].ctx, "#clicked", "no"))
	for i, tb := range all {
		if err := ltbrowser.WaitStatus(tb.ctx, "online"); err != nil {
			t.Fatalf("tab %d: %v", i+1, err)
		}
	}
}
