package lts3_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/livesse/livesse/lt/lts3"
	"github.com/matryer/is"
)

// source gives n bytes (a PNG's signature, then a pattern) without
// letting itself be seeked or measured, as an upload's body does, and
// counts what it gave; it fails with failAt's error past failAt bytes.
type source struct {
	mu     sync.Mutex
	n, off int64
	failAt int64
}

var errClientGone = errors.New("the client went away")

func (s *source) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failAt > 0 && s.off >= s.failAt {
		return 0, errClientGone
	}
	if s.off >= s.n {
		return 0, io.EOF
	}
	k := min(int64(len(p)), s.n-s.off)
	for i := range p[:k] {
		p[i] = byteAt(s.off + int64(i))
	}
	s.off += k
	return int(k), nil
}

func (s *source) given() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.off
}

var pngSig = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")

func byteAt(i int64) byte {
	if i < int64(len(pngSig)) {
		return pngSig[i]
	}
	return byte(i % 251)
}

func content(n int64) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byteAt(int64(i))
	}
	return b
}

// Put streams a reader of unknown length to the bucket, whole or in
// parts; Stat, Open and Delete find it, and a missing object is
// fs.ErrNotExist.
func TestPutStatOpenDelete(t *testing.T) {
	f := newFakeS3(t)
	for _, n := range []int64{0, 100, 512, lts3.DefaultPartSize, 2*lts3.DefaultPartSize + 123} {
		t.Run(strconv.FormatInt(n, 10), func(t *testing.T) {
			is := is.New(t)
			ctx := context.Background()
			s := f.store()
			key := fmt.Sprintf("k%d.png", n)
			is.NoErr(s.Put(ctx, key, &source{n: n}))
			size, head, err := s.Stat(ctx, key)
			is.NoErr(err)
			is.Equal(size, n)
			want := content(n)
			is.True(bytes.Equal(head, want[:min(n, 512)]))
			rc, err := s.Open(ctx, key)
			is.NoErr(err)
			got, err := io.ReadAll(rc)
			is.NoErr(err)
			is.NoErr(rc.Close())
			is.True(bytes.Equal(got, want))
			obj, err := f.Client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &f.Bucket, Key: new("up/" + key)})
			is.NoErr(err)
			if n >= 16 {
				is.Equal(*obj.ContentType, "image/png") // sniffed
			}
			is.NoErr(s.Delete(ctx, key))
			_, _, err = s.Stat(ctx, key)
			is.True(errors.Is(err, fs.ErrNotExist))
			_, err = s.Open(ctx, key)
			is.True(errors.Is(err, fs.ErrNotExist))
			is.NoErr(s.Delete(ctx, key)) // missing: not an error
		})
	}
	is.New(t).Equal(f.keys(t), []string(nil))
}

// Put holds one part of a file at a time: when the service receives part
// k, Put has taken at most k parts from the reader.
func TestPutStreamsInParts(t *testing.T) {
	is := is.New(t)
	f := newFakeS3(t)
	src := &source{n: 3*lts3.DefaultPartSize + 1000}
	var mu sync.Mutex
	read := map[int]int64{} // part number: bytes Put had read when it arrived
	seen := func(r *http.Request) {
		if p := r.URL.Query().Get("partNumber"); p != "" {
			n, _ := strconv.Atoi(p)
			mu.Lock()
			read[n] = src.given()
			mu.Unlock()
		}
	}
	f.seen.Store(&seen)
	is.NoErr(f.store().Put(context.Background(), "big.png", src))
	mu.Lock()
	defer mu.Unlock()
	is.Equal(len(read), 4)
	for k, n := range read {
		is.True(n <= int64(k)*lts3.DefaultPartSize) // never more than the part being sent
	}
}

// A reader that fails (a client that went away) in the middle of a file
// fails Put with its error, and leaves neither an object nor an
// unfinished multipart upload.
func TestPutFailureLeavesNothing(t *testing.T) {
	for _, failAt := range []int64{1000, lts3.DefaultPartSize + 1000} {
		t.Run(strconv.FormatInt(failAt, 10), func(t *testing.T) {
			is := is.New(t)
			f := newFakeS3(t)
			err := f.store().Put(context.Background(), "gone.png", &source{n: 3 * lts3.DefaultPartSize, failAt: failAt})
			is.True(errors.Is(err, errClientGone))
			is.Equal(f.keys(t), []string(nil))
			ups, err := f.Client.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: &f.Bucket})
			is.NoErr(err)
			is.Equal(len(ups.Uploads), 0)
		})
	}
}

// The AWS SDK is this package's dependency, not lt's.
func TestLtDoesNotImportTheSDK(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	out, err := exec.Command(goCmd, "list", "-deps", "github.com/livesse/livesse/lt").Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "github.com/aws/") {
		t.Fatal("package lt depends on the AWS SDK")
	}
}
