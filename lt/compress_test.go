package lt_test

import (
	"bufio"
	"compress/gzip"
	"io"
	"net/http"
	"slices"
	"testing"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/livesse/livesse/lt"
	"github.com/matryer/is"
)

// With WithStreamCompression a stream is gzipped for a client that
// accepts gzip, in both modes, and sent as is otherwise; without the
// option it never is.
func TestStreamCompressionHeaders(t *testing.T) {
	for _, m := range modes {
		for _, tc := range []struct {
			name      string
			option    bool
			accept    string
			wantGzip  bool
			wantVary  bool
			pageNotGz bool
		}{
			{"accepted", true, "gzip, deflate, br", true, true, true},
			{"not accepted", true, "", false, true, true},
			{"refused", true, "gzip;q=0, br", false, true, true},
			{"option off", false, "gzip", false, false, true},
		} {
			t.Run(m.name+"/"+tc.name, func(t *testing.T) {
				is := is.New(t)
				opts := slices.Clone(m.opts)
				if tc.option {
					opts = append(opts, lt.WithStreamCompression())
				}
				f := newFixture(t, opts...)
				req, _ := http.NewRequestWithContext(waitCtx(t), http.MethodGet, f.URL+"/page", nil)
				req.Header.Set("Accept", "text/event-stream")
				if tc.accept != "" {
					req.Header.Set("Accept-Encoding", tc.accept) // set by hand: Go's client leaves the body as sent
				}
				resp, err := http.DefaultClient.Do(req)
				is.NoErr(err)
				defer resp.Body.Close()
				is.Equal(resp.StatusCode, http.StatusOK)
				is.Equal(resp.Header.Get("Content-Encoding") == "gzip", tc.wantGzip)
				is.Equal(slices.Contains(resp.Header.Values("Vary"), "Accept-Encoding"), tc.wantVary)
				is.Equal(resp.Header.Get("Cache-Control"), "no-cache, no-transform")
				var body io.Reader = resp.Body
				if tc.wantGzip {
					zr, err := gzip.NewReader(resp.Body)
					is.NoErr(err)
					body = zr
				}
				br := bufio.NewReader(body)
				is.Equal(readLine(t, br), "event: hb") // the first heartbeat, decoded at once
				for readLine(t, br) != "event: render" {
				}

				// The page itself is never compressed by lt.
				page, err := http.NewRequestWithContext(waitCtx(t), http.MethodGet, f.URL+"/page", nil)
				is.NoErr(err)
				page.Header.Set("Accept-Encoding", "gzip")
				presp, err := http.DefaultClient.Do(page)
				is.NoErr(err)
				_, _ = io.Copy(io.Discard, presp.Body)
				presp.Body.Close()
				is.Equal(presp.Header.Get("Content-Encoding"), "")
			})
		}
	}
}

// Everything a stream does works compressed too, in both modes: updates,
// server actions to several tabs, and a resume that replays what a tab
// missed (lttest's client is Go's, which asks for gzip and inflates).
func TestCompressedStreamsWork(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) { streamWorks(t, append(slices.Clone(m.opts), lt.WithStreamCompression())...) })
	}
}

// chi's Compress, even with text/event-stream among its types, leaves a
// response that has a Content-Encoding already alone (its WriteHeader
// returns early), so a stream lt gzips is not gzipped twice; with streams
// taken over it never sees the body anyway.
func TestChiCompressSkipsCompressedStreams(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			is := is.New(t)
			_, srv := newMWServer(t, append(slices.Clone(m.opts), lt.WithStreamCompression()), middleware.Compress(5, "text/html", "text/event-stream"))
			req, _ := http.NewRequestWithContext(waitCtx(t), http.MethodGet, srv.URL+"/", nil)
			req.Header.Set("Accept", "text/event-stream")
			req.Header.Set("Accept-Encoding", "gzip")
			resp, err := http.DefaultClient.Do(req)
			is.NoErr(err)
			defer resp.Body.Close()
			is.Equal(resp.Header.Values("Content-Encoding"), []string{"gzip"})
			zr, err := gzip.NewReader(resp.Body) // one layer of gzip: SSE text inside
			is.NoErr(err)
			br := bufio.NewReader(zr)
			is.Equal(readLine(t, br), "event: hb")
		})
	}
}
