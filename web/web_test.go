package web_test

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/matryer/is"

	"github.com/livesse/livesse/web"
)

// maxGzip is the size budget of the bundle.
const maxGzip = 10 * 1024

func TestBundleGzipSize(t *testing.T) {
	is := is.New(t)
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	is.NoErr(err)
	_, err = zw.Write(web.Bundle())
	is.NoErr(err)
	is.NoErr(zw.Close())
	t.Logf("bundle: %d bytes, %d gzipped", len(web.Bundle()), buf.Len())
	if buf.Len() >= maxGzip {
		t.Fatalf("bundle is %d bytes gzipped, budget is < %d", buf.Len(), maxGzip)
	}
}

func TestVersion(t *testing.T) {
	is := is.New(t)
	sum := sha256.Sum256(web.Bundle())
	is.Equal(web.Version(), hex.EncodeToString(sum[:])[:12])
	is.True(len(web.Bundle()) > 0)
}

func get(t *testing.T, target string, hdr map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	web.Handler().ServeHTTP(rec, req)
	return rec.Result()
}

func TestHandler(t *testing.T) {
	etag := `"` + web.Version() + `"`

	t.Run("current version is immutable", func(t *testing.T) {
		is := is.New(t)
		res := get(t, "/app?_lt=client&v="+web.Version(), nil)
		is.Equal(res.StatusCode, http.StatusOK)
		is.Equal(res.Header.Get("Content-Type"), "text/javascript; charset=utf-8")
		is.Equal(res.Header.Get("Cache-Control"), "public, max-age=31536000, immutable")
		is.Equal(res.Header.Get("ETag"), etag)
		body, err := io.ReadAll(res.Body)
		is.NoErr(err)
		is.True(bytes.Equal(body, web.Bundle()))
	})

	for name, target := range map[string]string{
		"wrong version":    "/?_lt=client&v=000000000000",
		"no version":       "/?_lt=client",
		"version too long": "/?v=" + web.Version() + "0",
	} {
		t.Run(name+" must revalidate", func(t *testing.T) {
			is := is.New(t)
			res := get(t, target, nil)
			is.Equal(res.StatusCode, http.StatusOK)
			is.Equal(res.Header.Get("Cache-Control"), "no-cache")
			is.Equal(res.Header.Get("ETag"), etag)
			is.Equal(res.Header.Get("Content-Type"), "text/javascript; charset=utf-8")
		})
	}

	t.Run("If-None-Match", func(t *testing.T) {
		is := is.New(t)
		for _, inm := range []string{etag, `"x", ` + etag, "*", "W/" + etag} {
			res := get(t, "/?v="+web.Version(), map[string]string{"If-None-Match": inm})
			is.Equal(res.StatusCode, http.StatusNotModified)
			is.Equal(res.Header.Get("ETag"), etag)
			body, _ := io.ReadAll(res.Body)
			is.Equal(len(body), 0)
		}
		res := get(t, "/", map[string]string{"If-None-Match": `"stale"`})
		is.Equal(res.StatusCode, http.StatusOK)
		is.Equal(res.Header.Get("Cache-Control"), "no-cache")
	})

	t.Run("not GET", func(t *testing.T) {
		is := is.New(t)
		rec := httptest.NewRecorder()
		web.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/?v="+web.Version(), nil))
		is.Equal(rec.Code, http.StatusMethodNotAllowed)
		is.Equal(rec.Header().Get("Allow"), "GET, HEAD")
	})
}
