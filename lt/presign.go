package lt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Presigner is a Store the browser can upload to directly (an S3 bucket:
// package lt/lts3): the server signs a URL for one object, the browser
// sends the file's bytes to it, and the server later checks what
// arrived. lt uses it for a POST with _lt_presign (see servePresign) and
// for the action that then carries the upload's reference.
// Implementations must be safe for concurrent use.
type Presigner interface {
	Store
	// PresignPut returns a URL the browser may PUT one object to, under
	// key, of exactly size bytes and of contentType, and the headers
	// the PUT must carry (the ones the signature covers, besides Host
	// and Content-Length, which browsers set themselves). The object
	// should be writable once only (S3: If-None-Match: *), so that the
	// bytes lt checks are the bytes that stay.
	PresignPut(ctx context.Context, key string, size int64, contentType string) (url string, headers map[string]string, err error)
	// Stat returns the size of the object stored under key and its first
	// bytes (up to 512, fewer for a smaller object), from which lt
	// sniffs its type. A missing object is an error wrapping
	// fs.ErrNotExist.
	Stat(ctx context.Context, key string) (size int64, head []byte, err error)
}

// Reserved form fields of presigned uploads.
const (
	// fieldPresign asks for a presigned upload to the field it names.
	fieldPresign = "_lt_presign"
	// fieldPresigned carries, in an action's form, the reference of a
	// presigned upload to a field ("_lt_presigned.avatar"), which lt
	// checks before the action runs.
	fieldPresigned = "_lt_presigned."
)

// presignAnswer is the answer to a presign request.
type presignAnswer struct {
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Ref     string            `json:"ref"`
}

// servePresign answers a POST with _lt_presign=<field> and the fields
// name, size and type of the file the browser means to upload: if field
// is an upload field whose Store is a Presigner, and the file is within
// its limits as declared, with {"url", "headers", "ref"}: where to PUT
// it, with which headers, and the reference to send under
// _lt_presigned.<field> with the action. It has passed serveAction's
// checks (same origin, an identified session).
func (h *Handler) servePresign(w http.ResponseWriter, r *http.Request, id Identity, field string, form url.Values) {
	u, ok := h.opts.uploads[field]
	if !ok {
		h.refuse(w, r, http.StatusBadRequest, &UploadError{Field: clip(field, 64), Reason: "not an upload field"}, true)
		return
	}
	p, ok := u.Store.(Presigner)
	if !ok {
		h.refuse(w, r, http.StatusBadRequest, &UploadError{Field: field, Reason: "takes no direct uploads (its Store is not a Presigner)"}, true)
		return
	}
	size, err := strconv.ParseInt(form.Get("size"), 10, 64)
	if err != nil || size < 0 {
		h.refuse(w, r, http.StatusBadRequest, fmt.Errorf("%w: a presigned upload needs the file's size in bytes (size)", ErrBadRequest), true)
		return
	}
	if size > u.MaxBytes {
		h.refuse(w, r, http.StatusRequestEntityTooLarge, &UploadError{Field: field, Reason: fmt.Sprintf("too large (at most %d bytes)", u.MaxBytes)}, true)
		return
	}
	typ := declaredType(form.Get("type"))
	if !accepts(u.Accept, typ) {
		h.refuse(w, r, http.StatusUnsupportedMediaType, &UploadError{Field: field, Reason: "type not accepted (" + clip(typ, 64) + ")"}, true)
		return
	}
	f := File{Field: field, Name: cleanFileName(form.Get("name")), Size: size, Type: typ, Key: newKey(typ)}
	put, headers, err := p.PresignPut(r.Context(), f.Key, size, typ)
	if err != nil {
		h.refuse(w, r, http.StatusInternalServerError, fmt.Errorf("lt: presigning an upload to %q: %w", field, err), true)
		return
	}
	if headers == nil {
		headers = map[string]string{}
	}
	b, err := json.Marshal(presignAnswer{URL: put, Headers: headers, Ref: h.uploadSigner().signPending(f, id.SessionID, time.Now())})
	if err != nil {
		h.refuse(w, r, http.StatusInternalServerError, fmt.Errorf("lt: presign answer: %w", err), true)
		return
	}
	writeJSON(w, http.StatusOK, b)
}

// declaredType is the media type a browser declared for a file, without
// parameters; application/octet-stream when it declared none or a
// malformed one.
func declaredType(t string) string {
	base, _, err := mime.ParseMediaType(t)
	if err != nil || !strings.Contains(base, "/") {
		return "application/octet-stream"
	}
	return base
}

// checkPresigned checks the presigned uploads an action's form refers to
// (_lt_presigned.<field>) before the action runs: each object must exist
// in its field's Store with the size the browser promised and a sniffed
// type the field accepts, and the field must not get more than MaxFiles.
// Each then reaches the action as an uploaded file (Context.Files), its
// Type the sniffed one. A POST with none goes on (true). Otherwise
// checkPresigned refuses the POST (false): 400 for a reference that does
// not check out, 413 for too many files, 422 for an object missing or not
// as promised (deleted: it is not what was signed for), 500 for a Store
// that fails (the action can be sent again).
//
// lt deletes no object that passed its check, whatever becomes of the
// action: a pending reference can be sent again (it is good for an hour),
// and the object of an action that succeeded is the app's, which a
// replayed reference with a failing action must not delete. An object of
// an action that failed or did not run stays in the bucket, like one
// whose form was never sent, for the bucket's lifecycle rule to expire
// (docs/uploads.md, Cleanup).
//
// It also removes fieldFresh from a body lt did not parse as uploads: the
// keys of the files this request stored come from parseUploads only.
func (h *Handler) checkPresigned(w http.ResponseWriter, r *http.Request, id Identity, form url.Values, asJSON bool) bool {
	if !h.streamsUploads(r) {
		delete(form, fieldFresh)
	}
	var keys []string
	for k := range form {
		if strings.HasPrefix(k, fieldPresigned) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return true
	}
	asJSON = asJSON || form.Get(fieldConn) != ""
	now := time.Now()
	var promised []File
	for _, k := range keys {
		field := strings.TrimPrefix(k, fieldPresigned)
		u, ok := h.opts.uploads[field]
		if _, presigns := u.Store.(Presigner); !ok || !presigns {
			h.refuse(w, r, http.StatusBadRequest, &UploadError{Field: clip(field, 64), Reason: "takes no direct uploads"}, asJSON)
			return false
		}
		for _, v := range form[k] {
			f, ok := h.uploadSigner().checkPending(v, field, id.SessionID, now)
			if !ok {
				h.refuse(w, r, http.StatusBadRequest, fmt.Errorf("%w: a presigned upload's reference for %q is not valid (forged, another session's, or over an hour old)", ErrBadRequest, field), asJSON)
				return false
			}
			promised = append(promised, f)
		}
		if n := len(form[k]) + len(form[fieldFile+field]); n > u.MaxFiles {
			h.refuse(w, r, http.StatusRequestEntityTooLarge, &UploadError{Field: field, Reason: fmt.Sprintf("too many files (at most %d)", u.MaxFiles)}, asJSON)
			return false
		}
	}
	verified := make([]File, 0, len(promised))
	for _, f := range promised {
		got, bad, status, err := h.statPresigned(r.Context(), f)
		if err != nil {
			if bad {
				h.deleteFiles([]File{f})
			}
			h.refuse(w, r, status, err, asJSON)
			return false
		}
		verified = append(verified, got)
	}
	for _, k := range keys {
		delete(form, k)
	}
	for _, f := range verified {
		form.Add(fieldFile+f.Field, h.uploadSigner().sign(f, id.SessionID, now))
	}
	r.Form = withQuery(form, r.URL.RawQuery) // form is r.PostForm
	return true
}

// statPresigned checks that the object of f, a presigned upload, is as
// promised, and returns f with its sniffed type; bad tells, on an error,
// that the object is there but not what was promised.
func (h *Handler) statPresigned(ctx context.Context, f File) (_ File, bad bool, status int, _ error) {
	p := h.opts.uploads[f.Field].Store.(Presigner) // checked by the caller
	size, head, err := p.Stat(ctx, f.Key)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return File{}, false, http.StatusUnprocessableEntity, &UploadError{Field: f.Field, Reason: "not uploaded (no file arrived in storage)"}
	case err != nil:
		return File{}, false, http.StatusInternalServerError, fmt.Errorf("lt: checking a presigned upload of %q: %w", f.Field, err)
	case size != f.Size:
		return File{}, true, http.StatusUnprocessableEntity, &UploadError{Field: f.Field, Reason: fmt.Sprintf("not the file promised (%d bytes, not %d)", size, f.Size)}
	}
	typ := http.DetectContentType(head)
	if !accepts(h.opts.uploads[f.Field].Accept, typ) {
		return File{}, true, http.StatusUnprocessableEntity, &UploadError{Field: f.Field, Reason: "type not accepted (" + mediaType(typ) + ")"}
	}
	f.Type = mediaType(typ)
	return f, false, 0, nil
}
