package sse

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// ErrUnsupportedEncoding is returned by Open and Take when the response's
// Content-Encoding is set to something other than gzip.
var ErrUnsupportedEncoding = errors.New("ssehub: unsupported Content-Encoding (only gzip is)")

// encoding reads the Content-Encoding the caller set on h: a gzip
// compressor for "gzip", nil for none. A gzipped stream also varies by
// the request's Accept-Encoding, which h then says.
func encoding(h http.Header) (*gzipStream, error) {
	switch ce := h.Get("Content-Encoding"); ce {
	case "":
		return nil, nil
	case "gzip":
		if !slices.Contains(h.Values("Vary"), "Accept-Encoding") {
			h.Add("Vary", "Accept-Encoding")
		}
		return &gzipStream{}, nil
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedEncoding, ce)
	}
}

// AcceptsGzip reports whether r's Accept-Encoding admits gzip: it names
// gzip (or x-gzip), or "*" without ruling gzip out, with a q-value above
// zero. Set "Content-Encoding: gzip" on a response before Open or Take
// only for such a request.
func AcceptsGzip(r *http.Request) bool {
	star := false
	for _, v := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(part, ";")
			coding = strings.ToLower(strings.TrimSpace(coding))
			ok := qualityAbove0(params)
			switch coding {
			case "gzip", "x-gzip":
				return ok
			case "*":
				star = ok
			}
		}
	}
	return star
}

// qualityAbove0 reads a coding's parameters ("q=0.5") and reports whether
// its q-value, 1 when absent, is above zero.
func qualityAbove0(params string) bool {
	for p := range strings.SplitSeq(params, ";") {
		k, v, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(k), "q") {
			q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return err == nil && q > 0
		}
	}
	return true
}
