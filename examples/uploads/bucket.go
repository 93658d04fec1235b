package main

import (
	"context"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/livesse/livesse/lt/lts3"
)

// Bucket is an S3-compatible service in this process (gofakes3, objects
// in memory) on a port of its own, with one bucket, and a Store on it.
// A real app gives lts3.Store a client of its bucket's service instead:
// s3.NewFromConfig(cfg), with the CORS rule of docs/uploads.md set on
// the bucket.
type Bucket struct {
	URL   string
	Store lts3.Store
	srv   *http.Server
	cors  *cors
}

// startBucket starts the service on a loopback port, with the bucket
// "uploads"; wrap, if not nil, wraps the service's handler (a test's, to
// see or hold requests).
func startBucket(wrap func(http.Handler) http.Handler) (*Bucket, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c := &cors{next: gofakes3.New(s3mem.New()).Server()}
	if wrap != nil {
		c.next = wrap(c.next)
	}
	b := &Bucket{URL: "http://" + ln.Addr().String(), cors: c, srv: &http.Server{Handler: c, ReadHeaderTimeout: 10 * time.Second}}
	go func() { _ = b.srv.Serve(ln) }()
	client := s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(b.URL),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("example-key", "example-secret", ""),
	})
	b.Store = lts3.Store{Client: client, Bucket: "uploads", Prefix: "files/"}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("uploads")}); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// Allow lets pages of origins PUT to the bucket (its CORS rule).
func (b *Bucket) Allow(origins ...string) { b.cors.allow(origins...) }

// Close stops the service.
func (b *Bucket) Close() { _ = b.srv.Close() }

// cors answers as a bucket whose CORS rule allows PUTs from some origins,
// with any header (docs/uploads.md); gofakes3 on its own allows any
// origin and answers no preflight.
type cors struct {
	mu      sync.Mutex
	origins []string
	next    http.Handler
}

func (c *cors) allow(origins ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.origins = append(c.origins, origins...)
}

func (c *cors) allowed(origin string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Contains(c.origins, origin)
}

func (c *cors) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	ok := origin != "" && c.allowed(origin)
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		if !ok || r.Header.Get("Access-Control-Request-Method") != http.MethodPut {
			http.Error(w, "CORS: not allowed", http.StatusForbidden)
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Methods", http.MethodPut)
		h.Set("Access-Control-Allow-Headers", r.Header.Get("Access-Control-Request-Headers"))
		h.Set("Access-Control-Max-Age", "3000")
		h.Add("Vary", "Origin")
		return
	}
	c.next.ServeHTTP(&corsWriter{ResponseWriter: w, origin: origin, ok: ok}, r)
}

// corsWriter puts the rule's answer in place of gofakes3's "*".
type corsWriter struct {
	http.ResponseWriter
	origin string
	ok     bool
	done   bool
}

func (c *corsWriter) WriteHeader(code int) {
	if c.done { // gofakes3 may write a status twice
		return
	}
	c.done = true
	h := c.Header()
	h.Del("Access-Control-Allow-Origin")
	h.Del("Access-Control-Expose-Headers")
	if c.ok {
		h.Set("Access-Control-Allow-Origin", c.origin)
		h.Set("Access-Control-Expose-Headers", "ETag")
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *corsWriter) Write(b []byte) (int, error) {
	if !c.done {
		c.WriteHeader(http.StatusOK)
	}
	return c.ResponseWriter.Write(b)
}
