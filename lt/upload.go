package lt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Upload declares a file field of the page's forms (an <input type="file">
// of that name): how large and how many its files may be, which types it
// takes, and where they go. See WithUpload.
type Upload struct {
	// MaxBytes bounds each file (default 10 MiB). A larger file is refused
	// as it streams, as soon as it passes the limit: nothing is read or
	// kept beyond it.
	MaxBytes int64
	// MaxFiles bounds the files one action carries in the field (default
	// 1; an <input type="file" multiple> may send more).
	MaxFiles int
	// Accept lists the media types the field takes, as sniffed from the
	// file's first bytes (net/http.DetectContentType), not as its name or
	// the browser says: "image/png", "image/*", "application/pdf". Empty
	// accepts any.
	Accept []string
	// Store is where the files go (required): a DiskStore, or another
	// implementation of Store.
	Store Store
	// IdleTimeout cuts a client that sends nothing for this long in the
	// middle of a body (default 30 s), so that a stalled upload does not
	// hold its connection and its partial file.
	IdleTimeout time.Duration
}

// Store is where an upload field's files go. lt names each file with a
// fresh random key (never the browser's file name) and streams it to Put;
// it calls Delete for the files of an action that did not run or failed.
// Implementations must be safe for concurrent use.
type Store interface {
	// Put stores the bytes read from r under key. r ends with an error if
	// the client fails, stalls or sends too much: Put must then return an
	// error and leave nothing under key (no partial file).
	Put(ctx context.Context, key string, r io.Reader) error
	// Delete removes what Put stored under key; a missing key is not an
	// error.
	Delete(ctx context.Context, key string) error
}

// File is one uploaded file, stored before the action runs (see
// Context.Files).
type File struct {
	Field string `json:"f"`
	// Name is the file name the browser sent, cleaned: no directories, no
	// control characters, at most 255 bytes. Show it; never use it as a
	// path.
	Name string `json:"n"`
	Size int64  `json:"s"`
	// Type is the media type sniffed from the content.
	Type string `json:"t"`
	// Key is where the Store put the file.
	Key string `json:"k"`
}

// The defaults of Upload's zero fields.
const (
	DefaultUploadMaxBytes = 10 << 20
	defaultUploadIdle     = 30 * time.Second
)

// ErrUpload is wrapped by the errors of a refused upload: a file over its
// field's MaxBytes, more files than MaxFiles, a type Accept does not list,
// a file field the page did not declare.
var ErrUpload = errors.New("lt: upload refused")

// UploadError is an upload refused for one field; it wraps ErrUpload. Its
// text is safe to show: it names the field's limit, never a path.
type UploadError struct {
	Field  string
	Reason string // "too large", "too many files", "type not accepted", "not an upload field"
}

func (e *UploadError) Error() string { return fmt.Sprintf("%s: %s", e.Field, e.Reason) }
func (e *UploadError) Unwrap() error { return ErrUpload }

// UserMessage is the error's text: a refused upload's answer (413, 415,
// 422) says which field and why, as UserError's would.
func (e *UploadError) UserMessage() string { return e.Error() }

// WithUpload declares the file field named field and its limits (see
// Upload). A page with upload fields reads their multipart bodies as
// streams: every file goes to its Store as it arrives, the rest of the
// form stays within WithMaxBodyBytes, and the action finds the files in
// Context.Files. A file field the page did not declare is refused.
func WithUpload(field string, u Upload) Option {
	return func(o *options) {
		if o.uploads == nil {
			o.uploads = map[string]Upload{}
		}
		if u.MaxBytes == 0 {
			u.MaxBytes = DefaultUploadMaxBytes
		}
		if u.MaxFiles == 0 {
			u.MaxFiles = 1
		}
		if u.IdleTimeout == 0 {
			u.IdleTimeout = defaultUploadIdle
		}
		o.uploads[field] = u
	}
}

// checkUploads validates the declared fields for New.
func checkUploads(uploads map[string]Upload) error {
	for f, u := range uploads {
		switch {
		case f == "" || strings.HasPrefix(f, "_lt_"):
			return fmt.Errorf("WithUpload(%q): name a form field (not empty, not starting with _lt_)", f)
		case u.Store == nil:
			return fmt.Errorf("WithUpload(%q): Store is required (lt.DiskStore{Dir: ...})", f)
		case u.MaxBytes < 0 || u.MaxFiles < 0 || u.IdleTimeout < 0:
			return fmt.Errorf("WithUpload(%q): MaxBytes, MaxFiles and IdleTimeout must not be negative", f)
		}
	}
	return nil
}

// accepts reports whether media type t is one of accept's ("image/*"
// matches every image type). t is a sniffed type, with parameters.
func accepts(accept []string, t string) bool {
	if len(accept) == 0 {
		return true
	}
	base, _, _ := strings.Cut(t, ";")
	base = strings.TrimSpace(base)
	for _, a := range accept {
		if a == base || (strings.HasSuffix(a, "/*") && strings.HasPrefix(base, a[:len(a)-1])) {
			return true
		}
	}
	return false
}
