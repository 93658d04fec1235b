package proxytest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/livesse/livesse/internal/test/proxytest"
	"github.com/livesse/livesse/lt"
	"github.com/matryer/is"
)

// With Options.TLS nginx terminates TLS and speaks HTTP/2 to clients that
// offer it (HTTP/1.1 to those that do not, on the same port), and still
// HTTP/1.1 to Go over kept-alive connections, with X-Forwarded-Proto
// https.
func TestTLSConfigServesHTTP2OverHTTP11Upstream(t *testing.T) {
	is := is.New(t)
	type seen struct{ Proto, Host, XFProto, Connection, Remote string }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(seen{
			Proto: r.Proto, Host: r.Host, XFProto: r.Header.Get("X-Forwarded-Proto"),
			Connection: r.Header.Get("Connection"), Remote: r.RemoteAddr,
		})
	}))
	t.Cleanup(srv.Close)
	px := proxytest.Start(t, srv.URL, proxytest.Options{TLS: true})
	is.True(strings.HasPrefix(px.URL, "https://"))
	is.True(strings.Contains(px.ConfigText(), "listen "+px.Addr+" ssl http2;"))
	get := func(tr *http.Transport) (string, seen) {
		defer tr.CloseIdleConnections() // a new client connection each time
		resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get(px.URL + "/echo")
		is.NoErr(err)
		defer resp.Body.Close()
		is.Equal(resp.StatusCode, http.StatusOK)
		var s seen
		is.NoErr(json.NewDecoder(resp.Body).Decode(&s))
		return resp.Proto, s
	}
	proto, first := get(px.Cert.Transport())
	is.Equal(proto, "HTTP/2.0")       // HTTP/2 from the client to nginx
	is.Equal(first.Proto, "HTTP/1.1") // HTTP/1.1 from nginx to Go
	is.Equal(first.Connection, "")    // kept alive
	is.Equal(first.XFProto, "https")  // the scheme the client used
	is.Equal(first.Host, px.Addr)     // port included
	h1 := px.Cert.Transport()
	h1.ForceAttemptHTTP2 = false // with a TLSClientConfig of its own: HTTP/1.1 only
	proto, second := get(h1)
	is.Equal(proto, "HTTP/1.1")           // a client without HTTP/2 is served too
	is.Equal(second.Remote, first.Remote) // over the kept-alive upstream connection
}

// docs/deploying-nginx.md shows the TLS and HTTP/2 configuration these
// tests run, with its production values: the nginx block of its "HTTP/2
// and TLS" section.
func TestDocumentedTLSConfigIsTheTestedOne(t *testing.T) {
	is := is.New(t)
	doc, err := os.ReadFile("../../../docs/deploying-nginx.md")
	is.NoErr(err)
	_, section, ok := strings.Cut(string(doc), "\n## HTTP/2 and TLS\n")
	is.True(ok) // the doc has the section
	_, after, ok := strings.Cut(section, "```nginx\n")
	is.True(ok) // with an nginx block
	block, _, ok := strings.Cut(after, "```")
	is.True(ok)
	want := proxytest.Config("127.0.0.1:8080", "443", proxytest.Options{TLS: true})
	if block != want {
		t.Fatalf("docs/deploying-nginx.md's HTTP/2 and TLS block differs from proxytest.Config(\"127.0.0.1:8080\", \"443\", Options{TLS: true}):\n--- doc\n%s--- want\n%s", block, want)
	}
	// It is the HTTP/1.1 configuration with TLS and http2 on the listen
	// line.
	plain := proxytest.Config("127.0.0.1:8080", "443", proxytest.Options{})
	tlsLines := "    listen 443 ssl http2;\n    ssl_certificate     " + proxytest.DefaultCertFile + ";\n    ssl_certificate_key " + proxytest.DefaultKeyFile + ";\n"
	is.Equal(strings.Replace(plain, "    listen 443;\n", tlsLines, 1), want)
}

// h2Stream is an event stream read over HTTP/2 by Go's client.
type h2Stream struct {
	name string
	// start serves h over TLS and HTTP/2 and returns the page's URL and a
	// transport that trusts the server.
	start func(t *testing.T, h http.Handler) (string, *http.Transport)
	// accel is the X-Accel-Buffering header the client sees.
	accel string
	opts  []lt.Option
}

func goH2(t *testing.T, h http.Handler) (string, *http.Transport) {
	srv := httptest.NewUnstartedServer(h)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	tr := srv.Client().Transport.(*http.Transport).Clone()
	return srv.URL + "/", tr
}

func nginxH2(t *testing.T, h http.Handler) (string, *http.Transport) {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	px := proxytest.Start(t, srv.URL, proxytest.Options{TLS: true})
	return px.URL + "/", px.Cert.Transport()
}

var h2Streams = []h2Stream{
	// Go's HTTP/2 server: the stream stays in its handler (a connection
	// carrying other streams cannot be taken over) and is flushed event by
	// event.
	{name: "Go server", start: goH2, accel: "no"},
	// nginx with HTTP/2 to the client and HTTP/1.1 to Go: the stream takes
	// its upstream connection over from net/http, or stays in its handler.
	// nginx obeys X-Accel-Buffering and does not pass it on (it is in
	// proxy_hide_header's default list).
	{name: "nginx", start: nginxH2, accel: ""},
	{name: "nginx/in handler", start: nginxH2, accel: "", opts: []lt.Option{lt.WithStreamsInHandler()}},
}

// An event stream over HTTP/2, straight from Go and through nginx: the
// response is HTTP/2 with lt's headers, the first heartbeat arrives at
// once, and every update arrives at once (well within the 10 s heartbeat:
// nothing holds an event back until more is written).
func TestStreamOverHTTP2(t *testing.T) {
	const heartbeat = 10 * time.Second
	for _, c := range h2Streams {
		t.Run(c.name, func(t *testing.T) {
			is := is.New(t)
			h, _ := newHandler(t, append([]lt.Option{lt.WithHeartbeat(heartbeat)}, c.opts...)...)
			url, tr := c.start(t, h)
			t.Cleanup(func() { _ = h.Close() }) // before the servers close
			start := time.Now()
			s := openRawWith(t, tr, url)
			<-s.header
			is.True(s.resp != nil) // the stream opened
			is.Equal(s.resp.StatusCode, http.StatusOK)
			is.Equal(s.resp.Proto, "HTTP/2.0")
			is.Equal(s.resp.Header.Get("Content-Type"), "text/event-stream; charset=utf-8")
			is.Equal(s.resp.Header.Get("Cache-Control"), "no-cache, no-transform")
			is.Equal(s.resp.Header.Get("X-Accel-Buffering"), c.accel)
			is.Equal(s.resp.Header.Get("Content-Length"), "")
			line, err := s.waitLine("event: ", time.Second)
			is.NoErr(err)
			is.Equal(line, "event: hb") // the first event is a heartbeat
			t.Logf("headers after %v, the first heartbeat after %v", s.opened.Sub(start), time.Since(start))
			_, err = s.waitLine("event: render", time.Second)
			is.NoErr(err)
			_, err = s.waitLine("data: {", time.Second) // the render's
			is.NoErr(err)
			for n := 1; n <= 3; n++ {
				sent := time.Now()
				is.NoErr(h.TriggerAll(context.Background(), "increment", nil))
				_, err := s.waitLine("event: update", time.Second)
				is.NoErr(err) // not held until the next heartbeat, 10 s away
				line, err := s.waitLine("data: {", time.Second)
				is.NoErr(err)
				is.True(strings.Contains(line, `"s":`+strconv.Itoa(n)+`,`))
				t.Logf("update %d after %v", n, time.Since(sent))
			}
		})
	}
}

// The session cookie over TLS: Go's own TLS server marks it Secure; behind
// nginx terminating TLS Go sees plain HTTP and does not, unless the page
// says lt.WithSessionCookie(name, true).
func TestSessionCookieSecureOverTLS(t *testing.T) {
	for _, c := range []struct {
		name   string
		start  func(t *testing.T, h http.Handler) (string, *http.Transport)
		opts   []lt.Option
		secure bool
	}{
		{"Go server", goH2, nil, true},
		{"nginx", nginxH2, nil, false},
		{"nginx/WithSessionCookie secure", nginxH2, []lt.Option{lt.WithSessionCookie("lt_session", true)}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			is := is.New(t)
			h, _ := newHandler(t, c.opts...)
			url, tr := c.start(t, h)
			t.Cleanup(func() { _ = h.Close() })
			t.Cleanup(tr.CloseIdleConnections)
			resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get(url)
			is.NoErr(err)
			resp.Body.Close()
			is.Equal(resp.Proto, "HTTP/2.0")
			var cookie *http.Cookie
			for _, ck := range resp.Cookies() {
				if ck.Name == "lt_session" {
					cookie = ck
				}
			}
			is.True(cookie != nil)
			is.Equal(cookie.Secure, c.secure)
		})
	}
}

// The control of TestProxyBuffersStreamWithoutAccelHeader with HTTP/2 to
// the client: a tiny stream handler, with and without X-Accel-Buffering:
// no, behind each configuration with TLS. HTTP/2 to the client changes
// nothing: nginx passes the event at once behind the documented
// configuration, holds it without the header behind an HTTP/1.0 upstream
// or gzip, and passes it at once everywhere with the header.
func TestProxyBuffersH2StreamWithoutAccelHeader(t *testing.T) {
	for _, px := range proxies {
		for _, accel := range []bool{true, false} {
			name := px.name + "/without X-Accel-Buffering"
			if accel {
				name = px.name + "/with X-Accel-Buffering: no"
			}
			t.Run(name, func(t *testing.T) {
				opts := px.opts
				opts.TLS = true
				bufferControl(t, opts, accel, px.holds)
			})
		}
	}
}
