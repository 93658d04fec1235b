// Package lts3 keeps a live page's uploaded files in an S3 bucket, or in
// any storage that speaks S3's API (MinIO, Ceph, Cloudflare R2, Garage):
// Store is an lt.Store, for files sent in a form's body, and an
// lt.Presigner, for files the browser sends straight to the bucket.
//
//	client := s3.NewFromConfig(cfg) // config.LoadDefaultConfig, or s3.New
//	h, err := lt.New(page, ctrl, State{}, lt.WithSecret(secret),
//		lt.WithUpload("avatar", lt.Upload{Accept: []string{"image/*"}, Store: lts3.Store{Client: client, Bucket: "uploads"}}))
//
// It is its own package so that package lt does not depend on the AWS
// SDK. docs/uploads.md says how it fits with several instances and what
// the bucket's CORS rule must allow.
package lts3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/livesse/livesse/lt"
)

// The defaults of Store's zero fields, and S3's own bounds.
const (
	// DefaultPartSize is the size of the parts Put sends a large file
	// in: the least S3 accepts for every part but the last.
	DefaultPartSize = 5 << 20
	// DefaultPresignExpires is how long a presigned URL lets a browser
	// start its upload.
	DefaultPresignExpires = 15 * time.Minute
	// maxParts is S3's bound on a multipart upload's parts.
	maxParts = 10000
)

// Store keeps files in an S3 bucket, each under Prefix+key. It is safe
// for concurrent use, and a value: copy it freely.
type Store struct {
	// Client talks to the bucket's service (required).
	Client *s3.Client
	// Bucket is the bucket's name (required).
	Bucket string
	// Prefix is put before every key ("uploads/"); empty for none.
	Prefix string
	// PartSize is how much of a file Put holds in memory at once
	// (default DefaultPartSize; at least 5 MiB, which S3 requires). A
	// file larger than one part goes up as a multipart upload, one part
	// after the other, so a Put holds one part's buffer, however large
	// the file; the largest file is 10,000 parts (48.8 GiB at 5 MiB).
	PartSize int64
	// PresignExpires is how long a URL from PresignPut stays valid
	// (default DefaultPresignExpires).
	PresignExpires time.Duration
}

var (
	_ lt.Store     = Store{}
	_ lt.Presigner = Store{}
)

func (s Store) key(key string) *string { return aws.String(s.Prefix + key) }

func (s Store) partSize() int64 {
	if s.PartSize < DefaultPartSize {
		return DefaultPartSize
	}
	return s.PartSize
}

// Put streams r to the bucket under key. A file of at most PartSize
// bytes is one PutObject; a larger one is a multipart upload, sent part
// by part as r gives them, and aborted (nothing left in the bucket, no
// parts billed) if r or the service fails. The object's Content-Type is
// sniffed from its first bytes, as lt sniffs it.
func (s Store) Put(ctx context.Context, key string, r io.Reader) error {
	buf := make([]byte, s.partSize())
	n, err := io.ReadFull(r, buf)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("lts3: reading an upload: %w", err)
	}
	typ := aws.String(http.DetectContentType(buf[:min(n, 512)]))
	if err != nil { // the whole file is in buf
		_, err := s.Client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: &s.Bucket, Key: s.key(key), Body: bytes.NewReader(buf[:n]), ContentLength: aws.Int64(int64(n)), ContentType: typ,
		})
		if err != nil {
			return fmt.Errorf("lts3: putting %s: %w", key, err)
		}
		return nil
	}
	up, err := s.Client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: &s.Bucket, Key: s.key(key), ContentType: typ, ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	})
	if err != nil {
		return fmt.Errorf("lts3: starting the upload of %s: %w", key, err)
	}
	if err := s.putParts(ctx, key, up.UploadId, buf, n, r); err != nil {
		_, aerr := s.Client.AbortMultipartUpload(context.WithoutCancel(ctx), &s3.AbortMultipartUploadInput{
			Bucket: &s.Bucket, Key: s.key(key), UploadId: up.UploadId,
		})
		if aerr != nil {
			return fmt.Errorf("%w (and aborting it: %w)", err, aerr)
		}
		return err
	}
	return nil
}

// putParts sends buf[:n], then the rest of r part by part, and completes
// the upload.
func (s Store) putParts(ctx context.Context, key string, id *string, buf []byte, n int, r io.Reader) error {
	var parts []types.CompletedPart
	for num := int32(1); ; num++ {
		if num > maxParts {
			return fmt.Errorf("lts3: %s: over %d parts of %d bytes: raise PartSize", key, maxParts, len(buf))
		}
		out, err := s.Client.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: &s.Bucket, Key: s.key(key), UploadId: id, PartNumber: aws.Int32(num),
			Body: bytes.NewReader(buf[:n]), ContentLength: aws.Int64(int64(n)), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
		})
		if err != nil {
			return fmt.Errorf("lts3: uploading part %d of %s: %w", num, key, err)
		}
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(num), ChecksumCRC32: out.ChecksumCRC32})
		n, err = io.ReadFull(r, buf)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) { // ErrUnexpectedEOF: the last part, shorter
			return fmt.Errorf("lts3: reading an upload: %w", err)
		}
	}
	_, err := s.Client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &s.Bucket, Key: s.key(key), UploadId: id, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		return fmt.Errorf("lts3: completing the upload of %s: %w", key, err)
	}
	return nil
}

// Delete removes the object under key; a missing one is not an error.
func (s Store) Delete(ctx context.Context, key string) error {
	if _, err := s.Client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.Bucket, Key: s.key(key)}); err != nil && !notFound(err) {
		return fmt.Errorf("lts3: deleting %s: %w", key, err)
	}
	return nil
}

// Open returns the object stored under key, for an action (or anything
// later) to read; the caller closes it. A missing object is an error
// wrapping fs.ErrNotExist.
func (s Store) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	out, err := s.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.Bucket, Key: s.key(key)})
	if err != nil {
		return nil, s.wrap("opening", key, err)
	}
	return out.Body, nil
}

// PresignPut returns a URL that lets a browser PUT one object under key,
// of size bytes and type contentType, within PresignExpires; the
// signature covers the size (S3 refuses another Content-Length) and the
// type, and the PUT carries If-None-Match: *, so that the object can be
// written once only: what lt checks afterwards (Stat) is what stays. The
// headers are those the browser must send (Content-Type, If-None-Match
// and any the SDK adds), without Host and Content-Length.
func (s Store) PresignPut(ctx context.Context, key string, size int64, contentType string) (string, map[string]string, error) {
	exp := s.PresignExpires
	if exp <= 0 {
		exp = DefaultPresignExpires
	}
	req, err := s3.NewPresignClient(s.Client).PresignPutObject(ctx, &s3.PutObjectInput{
		Bucket: &s.Bucket, Key: s.key(key), ContentLength: aws.Int64(size), ContentType: aws.String(contentType),
		IfNoneMatch: aws.String("*"),
	}, s3.WithPresignExpires(exp))
	if err != nil {
		return "", nil, fmt.Errorf("lts3: presigning %s: %w", key, err)
	}
	headers := map[string]string{}
	for k, vs := range req.SignedHeader {
		if lk := strings.ToLower(k); lk != "host" && lk != "content-length" {
			headers[http.CanonicalHeaderKey(k)] = strings.Join(vs, ",")
		}
	}
	return req.URL, headers, nil
}

// Stat returns the size of the object under key and its first 512 bytes
// (all of a smaller one), with one ranged GET; a missing object is an
// error wrapping fs.ErrNotExist.
func (s Store) Stat(ctx context.Context, key string) (int64, []byte, error) {
	out, err := s.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.Bucket, Key: s.key(key), Range: aws.String("bytes=0-511")})
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorCode() == "InvalidRange" { // an empty object
			head, herr := s.Client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.Bucket, Key: s.key(key)})
			if herr != nil {
				return 0, nil, s.wrap("checking", key, herr)
			}
			return aws.ToInt64(head.ContentLength), nil, nil
		}
		return 0, nil, s.wrap("checking", key, err)
	}
	defer out.Body.Close()
	head, err := io.ReadAll(io.LimitReader(out.Body, 512))
	if err != nil {
		return 0, nil, fmt.Errorf("lts3: reading %s: %w", key, err)
	}
	size := aws.ToInt64(out.ContentLength) // a service that ignored the range
	if cr := aws.ToString(out.ContentRange); cr != "" {
		_, total, ok := strings.Cut(cr, "/")
		if size, err = strconv.ParseInt(total, 10, 64); !ok || err != nil {
			return 0, nil, fmt.Errorf("lts3: checking %s: a Content-Range without a size (%q)", key, cr)
		}
	}
	return size, head, nil
}

// wrap is err of doing what to key, wrapping fs.ErrNotExist too when the
// object is missing.
func (s Store) wrap(what, key string, err error) error {
	if notFound(err) {
		return fmt.Errorf("lts3: %s %s: %w (%w)", what, key, fs.ErrNotExist, err)
	}
	return fmt.Errorf("lts3: %s %s: %w", what, key, err)
}

// notFound reports whether err says the object does not exist.
func notFound(err error) bool {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	var ae smithy.APIError
	return errors.As(err, &nsk) || errors.As(err, &nf) || errors.As(err, &ae) && (ae.ErrorCode() == "NoSuchKey" || ae.ErrorCode() == "NotFound")
}
