package lts3_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/livesse/livesse/lt/lts3"
	"github.com/livesse/livesse/lt/lttest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeS3 is an S3-compatible service in the process (gofakes3, its
// objects in memory) behind the CORS rule docs/uploads.md gives for a
// bucket that browsers upload to, and a client for it.
type fakeS3 struct {
	URL    string
	Client *s3.Client
	Bucket string
	cors   *bucketCORS
	// seen, if set, sees each request before the service does.
	seen atomic.Pointer[func(*http.Request)]
}

func newFakeS3(t testing.TB) *fakeS3 {
	t.Helper()
	f := &fakeS3{Bucket: "uploads"}
	faker := gofakes3.New(s3mem.New())
	f.cors = &bucketCORS{next: faker.Server()}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fn := f.seen.Load(); fn != nil {
			(*fn)(r)
		}
		f.cors.ServeHTTP(w, r)
	}))
	transport := &http.Transport{}
	t.Cleanup(func() { transport.CloseIdleConnections(); srv.Close() })
	f.URL = srv.URL
	f.Client = s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("key-id", "secret", ""),
		HTTPClient:   &http.Client{Transport: transport},
	})
	if _, err := f.Client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &f.Bucket}); err != nil {
		t.Fatal(err)
	}
	return f
}

// store is an lts3.Store on f's bucket.
func (f *fakeS3) store() lts3.Store {
	return lts3.Store{Client: f.Client, Bucket: f.Bucket, Prefix: "up/"}
}

// keys lists the bucket's objects.
func (f *fakeS3) keys(t testing.TB) []string {
	t.Helper()
	out, err := f.Client.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: &f.Bucket})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}

// bucketCORS answers as a bucket with this CORS rule (docs/uploads.md):
// AllowedOrigins [the app's origin], AllowedMethods [PUT],
// AllowedHeaders [*], ExposeHeaders [ETag]. gofakes3 allows every origin
// by itself; this stands in front of it, as the real rule would.
type bucketCORS struct {
	mu     sync.Mutex
	origin string
	next   http.Handler
}

func (c *bucketCORS) allow(origin string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.origin = origin
}

func (c *bucketCORS) allowed(origin string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return origin != "" && origin == c.origin
}

func (c *bucketCORS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		if !c.allowed(origin) || r.Header.Get("Access-Control-Request-Method") != http.MethodPut {
			http.Error(w, "CORSResponse: This CORS request is not allowed.", http.StatusForbidden)
			return
		}
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Set("Access-Control-Allow-Methods", http.MethodPut)
		w.Header().Set("Access-Control-Allow-Headers", r.Header.Get("Access-Control-Request-Headers"))
		w.Header().Set("Access-Control-Max-Age", "3000")
		w.Header().Add("Vary", "Origin")
		return
	}
	cw := &corsWriter{ResponseWriter: w, origin: origin, ok: c.allowed(origin)}
	c.next.ServeHTTP(cw, r)
	if !cw.done { // an answer without a body or a status: 200
		cw.WriteHeader(http.StatusOK)
	}
}

// corsWriter replaces gofakes3's Access-Control-Allow-Origin: * with the
// rule's answer.
type corsWriter struct {
	http.ResponseWriter
	origin string
	ok     bool
	done   bool
}

func (c *corsWriter) WriteHeader(code int) {
	if !c.done {
		c.done = true
		h := c.ResponseWriter.Header()
		h.Del("Access-Control-Allow-Origin")
		h.Del("Access-Control-Expose-Headers")
		if c.ok {
			h.Set("Access-Control-Allow-Origin", c.origin)
			h.Set("Access-Control-Expose-Headers", "ETag")
		}
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *corsWriter) Write(b []byte) (int, error) {
	if !c.done {
		c.WriteHeader(http.StatusOK)
	}
	return c.ResponseWriter.Write(b)
}

// ltOpen opens a live tab of pageURL in the browser whose cookies jar
// holds.
func ltOpen(t testing.TB, pageURL string, jar http.CookieJar) *lttest.Tab {
	t.Helper()
	return lttest.Open(t, pageURL, lttest.WithJar(jar))
}
