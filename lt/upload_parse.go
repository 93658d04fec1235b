package lt

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// fieldFile is the form field that carries an uploaded file's signed
// reference (see upload_token.go): "_lt_file.avatar".
const fieldFile = "_lt_file."

// fieldFresh carries, once per file, the key of each file the request's
// body brought (parseUploads), so that the instance a POST is forwarded
// to deletes them if the action fails there (dropFreshFiles): a
// reference alone could be one sent again, of a file an action kept.
// Never taken from a client.
const fieldFresh = "_lt_fresh"

// parseUploads reads a multipart body of a page with upload fields as a
// stream: each file of a declared field goes to its Store as it arrives
// (its reference, signed, is added to the form under fieldFile+field);
// the other fields, and every byte of the body that is not a file's, stay
// within WithMaxBodyBytes and WithMaxFields. On an error the files stored
// so far are deleted. It returns the form and the files stored.
func (h *Handler) parseUploads(w http.ResponseWriter, r *http.Request, id Identity) (url.Values, []File, int, error) {
	limit := h.opts.maxBody
	for _, u := range h.opts.uploads {
		limit += u.MaxBytes * int64(u.MaxFiles)
	}
	body := &countingReader{r: http.MaxBytesReader(w, r.Body, limit), rc: http.NewResponseController(w), max: h.opts.maxBody + readAhead}
	// net/http's own read for a closed connection, once the body is read,
	// must not meet the deadline: it would cancel the request's context.
	defer func() { _ = body.rc.SetReadDeadline(time.Time{}) }()
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		return nil, nil, http.StatusBadRequest, fmt.Errorf("%w: multipart body without a boundary", ErrBadRequest)
	}
	mr := multipart.NewReader(body, params["boundary"])
	form := url.Values{}
	var files []File
	fail := func(status int, err error) (url.Values, []File, int, error) {
		h.deleteFiles(files)
		return nil, nil, status, err
	}
	fields, perField := 0, map[string]int{}
	for {
		body.idle = defaultUploadIdle
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fail(bodyStatus(err), fmt.Errorf("%w: malformed multipart body: %v", ErrBadRequest, clipErr(err)))
		}
		if fields++; fields > h.opts.maxFields {
			return fail(http.StatusRequestEntityTooLarge, fmt.Errorf("%w: over %d form fields", ErrBadRequest, h.opts.maxFields))
		}
		name := p.FormName()
		if p.FileName() == "" || strings.HasPrefix(name, "_lt_") {
			// A plain field; a file input left empty sends one too.
			v, err := readField(p, h.opts.maxBody-body.nonFile())
			if err != nil {
				return fail(bodyStatus(err), fmt.Errorf("%w: field %q: %v", ErrBadRequest, clip(name, 64), clipErr(err)))
			}
			if !strings.HasPrefix(name, fieldFile) && name != fieldFresh { // these come from lt only
				form.Add(name, v)
			}
			continue
		}
		u, ok := h.opts.uploads[name]
		if !ok {
			return fail(http.StatusBadRequest, &UploadError{Field: clip(name, 64), Reason: "not an upload field"})
		}
		if perField[name]++; perField[name] > u.MaxFiles {
			return fail(http.StatusRequestEntityTooLarge, &UploadError{Field: name, Reason: fmt.Sprintf("too many files (at most %d)", u.MaxFiles)})
		}
		body.idle = u.IdleTimeout
		f, status, err := h.storeFile(r.Context(), body, p, name, u)
		if err != nil {
			return fail(status, err)
		}
		files = append(files, f)
		form.Add(fieldFile+name, h.uploadSigner().sign(f, id.SessionID, time.Now()))
		form.Add(fieldFresh, f.Key)
	}
	if fields == 0 {
		return fail(http.StatusBadRequest, fmt.Errorf("%w: a multipart body without parts: is its boundary the one Content-Type names?", ErrBadRequest))
	}
	if body.nonFile() > h.opts.maxBody {
		return fail(http.StatusRequestEntityTooLarge, fmt.Errorf("%w: body over %d bytes besides its files", ErrBadRequest, h.opts.maxBody))
	}
	r.PostForm, r.Form = form, withQuery(form, r.URL.RawQuery)
	return form, files, 0, nil
}

// storeFile sniffs the type of the file part p, checks it against u, and
// streams it to u.Store under a new key.
func (h *Handler) storeFile(ctx context.Context, body *countingReader, p *multipart.Part, field string, u Upload) (File, int, error) {
	head := make([]byte, 512)
	n, err := io.ReadFull(p, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return File{}, bodyStatus(err), fmt.Errorf("%w: file %q: %v", ErrBadRequest, field, clipErr(err))
	}
	head = head[:n]
	typ := http.DetectContentType(head)
	if !accepts(u.Accept, typ) {
		return File{}, http.StatusUnsupportedMediaType, &UploadError{Field: field, Reason: "type not accepted (" + mediaType(typ) + ")"}
	}
	f := File{Field: field, Name: cleanFileName(p.FileName()), Type: mediaType(typ), Key: newKey(typ)}
	lim := &limitedFile{r: io.MultiReader(bytes.NewReader(head), p), left: u.MaxBytes, body: body}
	if err := u.Store.Put(ctx, f.Key, lim); err != nil {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deleteTimeout)
		_ = u.Store.Delete(dctx, f.Key) // a Store that left something behind
		cancel()
		if errors.Is(err, errFileTooLarge) {
			return File{}, http.StatusRequestEntityTooLarge, &UploadError{Field: field, Reason: fmt.Sprintf("too large (at most %d bytes)", u.MaxBytes)}
		}
		if lim.err != nil { // the client's side
			return File{}, bodyStatus(lim.err), fmt.Errorf("%w: file %q: %v", ErrBadRequest, field, clipErr(lim.err))
		}
		return File{}, http.StatusInternalServerError, fmt.Errorf("lt: storing an upload of %q: %w", field, err)
	}
	f.Size = lim.n
	return f, 0, nil
}

// deleteFiles removes files from their stores, for an action that did not
// run or failed.
func (h *Handler) deleteFiles(files []File) {
	for _, f := range files {
		if u, ok := h.opts.uploads[f.Field]; ok {
			ctx, cancel := context.WithTimeout(context.Background(), deleteTimeout)
			err := u.Store.Delete(ctx, f.Key)
			cancel()
			if err != nil {
				h.log.Error("lt: deleting an unused upload", "field", f.Field, "key", f.Key, "err", err)
			}
		}
	}
}

var errFileTooLarge = errors.New("file over its field's MaxBytes")

// deleteTimeout bounds removing an unused upload from its Store: a store
// that hangs (a network one) must not hold the request for ever.
const deleteTimeout = 30 * time.Second

// limitedFile reads one file part, failing with errFileTooLarge past its
// limit, and counts its bytes as a file's (not the form's).
type limitedFile struct {
	r    io.Reader
	left int64
	n    int64
	body *countingReader
	err  error // the body's own error, if any
}

func (l *limitedFile) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, errFileTooLarge
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	l.left -= int64(n)
	l.body.file += int64(n)
	if l.left < 0 {
		return n, errFileTooLarge
	}
	if err != nil && !errors.Is(err, io.EOF) {
		l.err = err
	}
	return n, err
}

// countingReader counts the body's bytes and extends the connection's
// read deadline before each read: a client silent for idle is cut.
// It ends the body once what is not files' content passes max (a huge
// part header, say), without waiting for the multipart reader's own
// bounds.
type countingReader struct {
	r    io.Reader
	rc   *http.ResponseController
	idle time.Duration
	max  int64
	read int64 // bytes of the body
	file int64 // of them, files' content
}

// readAhead is the multipart reader's buffer, which reads ahead of what
// it has handed out: files' bytes are counted as such when handed out.
const readAhead = 64 << 10

func (c *countingReader) Read(p []byte) (int, error) {
	if c.nonFile() > c.max {
		return 0, &http.MaxBytesError{Limit: c.max - readAhead}
	}
	_ = c.rc.SetReadDeadline(time.Now().Add(c.idle)) // unsupported writers: the server's own timeouts
	n, err := c.r.Read(p)
	c.read += int64(n)
	return n, err
}

// nonFile is what the body held besides files: headers, boundaries and
// plain fields, bounded by WithMaxBodyBytes.
func (c *countingReader) nonFile() int64 { return c.read - c.file }

// readField reads a plain field of at most max bytes.
func readField(p *multipart.Part, max int64) (string, error) {
	b, err := io.ReadAll(io.LimitReader(p, max+1))
	if err != nil {
		return "", err
	}
	if int64(len(b)) > max {
		return "", &http.MaxBytesError{Limit: max}
	}
	return string(b), nil
}

// bodyStatus is the status for an error reading the body: 413 past a
// limit, 408 for a client that stalled, else 400.
func bodyStatus(err error) int {
	var mbe *http.MaxBytesError
	var te interface{ Timeout() bool }
	switch {
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge
	case errors.As(err, &te) && te.Timeout():
		return http.StatusRequestTimeout
	}
	return http.StatusBadRequest
}

// clipErr is an error's text, clipped, for a refusal's message.
func clipErr(err error) string { return clip(err.Error(), 200) }

// mediaType is t without its parameters.
func mediaType(t string) string {
	base, _, _ := strings.Cut(t, ";")
	return strings.TrimSpace(base)
}

// cleanFileName keeps the last element of a browser's file name (some
// send a whole Windows path), without control characters, in at most 255
// bytes of valid UTF-8.
func cleanFileName(name string) string {
	name = strings.ToValidUTF8(name, "\uFFFD")
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '/' {
			return -1
		}
		return r
	}, name)
	for len(name) > 255 {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	if name == "" || name == "." || name == ".." {
		return "file"
	}
	return name
}

// extensions are the keys' extensions for the types lt sniffs.
var extensions = map[string]string{
	"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp", "image/bmp": ".bmp",
	"application/pdf": ".pdf", "text/plain": ".txt", "application/zip": ".zip", "video/mp4": ".mp4",
	"audio/mpeg": ".mp3", "audio/wave": ".wav", "video/webm": ".webm", "application/ogg": ".ogg",
}

// newKey returns a fresh key for a file of type t: 128 random bits and an
// extension.
func newKey(t string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	ext, ok := extensions[mediaType(t)]
	if !ok {
		ext = ".bin"
	}
	return base64.RawURLEncoding.EncodeToString(b[:]) + ext
}

// validKey reports whether key is one newKey makes.
func validKey(key string) bool {
	id, ext, ok := strings.Cut(key, ".")
	if !ok || len(id) != 22 || len(ext) < 2 || len(ext) > 4 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	for _, c := range ext {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// streamsUploads reports whether r's body is read by parseUploads: a
// multipart body for a page with upload fields.
func (h *Handler) streamsUploads(r *http.Request) bool {
	if len(h.opts.uploads) == 0 {
		return false
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return ct == "multipart/form-data"
}

// filesWriter deletes the files of a request whose answer says its action
// did not run or failed (a status of 400 or more, or none).
type filesWriter struct {
	http.ResponseWriter
	files  []File
	delete func([]File)
	status int
}

func keepFilesIfOK(w http.ResponseWriter, files []File, del func([]File)) http.ResponseWriter {
	return &filesWriter{ResponseWriter: w, files: files, delete: del}
}

func (f *filesWriter) WriteHeader(code int) {
	if f.status == 0 {
		f.status = code
	}
	f.ResponseWriter.WriteHeader(code)
}

func (f *filesWriter) Write(b []byte) (int, error) {
	if f.status == 0 {
		f.status = http.StatusOK
	}
	return f.ResponseWriter.Write(b)
}

func (f *filesWriter) Unwrap() http.ResponseWriter { return f.ResponseWriter }

// done deletes the files unless the action ran.
func (f *filesWriter) done() {
	if f.status == 0 || f.status >= 400 {
		f.delete(f.files)
	}
}
