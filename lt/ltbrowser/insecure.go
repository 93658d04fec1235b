package ltbrowser

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/chromedp/chromedp"
)

// InsecureHost is the host name that the browser of NewInsecure resolves
// to 127.0.0.1.
const InsecureHost = "livesse.test"

// NewInsecure is New for a browser that resolves InsecureHost to
// 127.0.0.1 (Chromium's --host-resolver-rules), so that a page of a
// loopback test server, opened at InsecureURL, comes over plain http from
// a host that is not localhost: it is not a secure context (no Web Locks,
// among others), as on a real site without TLS. Pages at the server's own
// URL (127.0.0.0/8, like localhost) are secure contexts.
func NewInsecure(t testing.TB) context.Context {
	t.Helper()
	return start(t,
		chromedp.Flag("host-resolver-rules", "MAP "+InsecureHost+" 127.0.0.1"),
		// Plain http stays plain: no attempt at https first.
		chromedp.Flag("disable-features", "HttpsUpgrades,HttpsFirstBalancedModeAutoEnable"),
	)
}

// InsecureURL returns the URL of srv, a loopback server, with InsecureHost
// for its address: http://livesse.test:port.
func InsecureURL(srv *httptest.Server) string {
	u, err := url.Parse(srv.URL)
	if err != nil {
		panic(fmt.Sprintf("ltbrowser: the server's URL %q: %v", srv.URL, err))
	}
	u.Host = InsecureHost + ":" + u.Port()
	return u.String()
}

// CheckInsecure returns an error unless the page of ctx is not a secure
// context: window.isSecureContext is false and there are no Web Locks.
func CheckInsecure(ctx context.Context) error {
	v, err := Eval[string](ctx, `location.origin + " isSecureContext=" + window.isSecureContext + " locks=" + !!navigator.locks`)
	if err != nil {
		return err
	}
	u, err := Eval[string](ctx, `location.origin`)
	if err != nil {
		return err
	}
	if want := u + " isSecureContext=false locks=false"; v != want {
		return fmt.Errorf("the page is a secure context: %s", v)
	}
	return nil
}
