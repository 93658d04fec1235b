package e2e

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/ltbrowser"
	"github.com/matryer/is"
)

// With lt.WithStreamCompression, Chromium gets the event stream gzipped
// (lt's own deflate encoder, flushed per event) and decodes every event
// as it arrives: a leader tab and a follower it relays to show each of
// 30 updates, and a click goes through beside the stream.
func TestCompressedStreamInChromium(t *testing.T) {
	is := is.New(t)
	h := lt.Must(lt.New(lt.Must(lt.Parse("shared", sharedHTML)), &sharedCtrl{}, sharedState{}, lt.WithStreamCompression()))
	srv := ltbrowser.Serve(t, h, h)
	lead := ltbrowser.New(t)
	other := ltbrowser.NewTab(t, lead)
	net := listenNet(t, lead)
	for _, tab := range []context.Context{lead, other} {
		is.NoErr(ltbrowser.Do(tab, chromedp.Navigate(srv.URL+"/")))
		is.NoErr(ltbrowser.WaitStatus(tab, "online"))
	}
	var resp *network.Response
	is.NoErr(waitFor(func() bool {
		resp, _ = net.stream(net.count() - 1)
		return resp != nil
	}, func() string { return fmt.Sprintf("stream %d has no response", net.count()) }))
	encoding := ""
	for k, v := range resp.Headers {
		if strings.EqualFold(k, "Content-Encoding") {
			encoding = fmt.Sprint(v)
		}
	}
	is.Equal(encoding, "gzip") // the stream came compressed
	for n := 1; n <= 30; n++ {
		is.NoErr(h.TriggerAll(context.Background(), "bump", map[string]any{"n": n}))
		is.NoErr(ltbrowser.WaitText(lead, "#n", strconv.Itoa(n)))
		is.NoErr(ltbrowser.WaitText(other, "#n", strconv.Itoa(n)))
	}
	is.NoErr(ltbrowser.Do(other, chromedp.Click(`#click`)))
	is.NoErr(ltbrowser.WaitText(other, "#clicked", "yes"))
}
