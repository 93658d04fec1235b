package lt

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"time"
)

// An uploaded file reaches its action as a reference in the form
// (fieldFile + field): the File, the session it was uploaded by and
// when, signed with a key derived from WithSecret (so that any instance of
// the app can check it: a POST forwarded to the tab's instance carries
// it), or with the Handler's own random key without one. A browser cannot
// make one up, point one at another file, or use another session's.

// uploadTTL is how long a reference is good for.
const uploadTTL = time.Hour

// uploadRef is a reference's content.
type uploadRef struct {
	File
	Group string `json:"g"`
	At    int64  `json:"a"` // unix seconds
	// Pending marks the reference of a presigned upload (presign.go): the
	// browser was to put the file in the Store itself, and nothing has
	// checked yet that it did, with the size and type it promised. Such
	// a reference is never one of Context.Files; lt checks the object
	// and signs a reference without the flag. References made before the
	// flag existed lack it: they stay valid.
	Pending bool `json:"p,omitempty"`
}

// uploadKeys signs references (the first key) and checks them (any).
type uploadKeys [][]byte

// uploadSigner returns the Handler's keys, made once.
func (h *Handler) uploadSigner() uploadKeys {
	h.uploadOnce.Do(func() {
		secrets := append([][]byte{h.opts.secret}, h.opts.oldSecrets...)
		if len(h.opts.secret) == 0 {
			b := make([]byte, 32)
			_, _ = rand.Read(b)
			secrets = [][]byte{b}
		}
		for _, s := range secrets {
			m := hmac.New(sha256.New, s)
			m.Write([]byte("livesse/upload-ref/v1"))
			h.uploadKeys = append(h.uploadKeys, m.Sum(nil))
		}
	})
	return h.uploadKeys
}

func mac(key []byte, body string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(body))
	return m.Sum(nil)[:16]
}

// sign returns the reference of f, uploaded by group at t.
func (k uploadKeys) sign(f File, group string, t time.Time) string {
	return k.signRef(uploadRef{File: f, Group: group, At: t.Unix()})
}

// signPending returns the reference of a presigned upload of f, promised
// to group at t: f's Size and Type are what the browser declared.
func (k uploadKeys) signPending(f File, group string, t time.Time) string {
	return k.signRef(uploadRef{File: f, Group: group, At: t.Unix(), Pending: true})
}

func (k uploadKeys) signRef(ref uploadRef) string {
	b, _ := json.Marshal(ref)
	body := base64.RawURLEncoding.EncodeToString(b)
	return body + "." + base64.RawURLEncoding.EncodeToString(mac(k[0], body))
}

// check returns the File of reference v if v is authentic, of field, of
// group, younger than uploadTTL at now, and not pending.
func (k uploadKeys) check(v, field, group string, now time.Time) (File, bool) {
	ref, ok := k.open(v, field, group, now)
	if !ok || ref.Pending {
		return File{}, false
	}
	return ref.File, true
}

// checkPending is check for the reference of a presigned upload: it
// returns the File promised if v is one.
func (k uploadKeys) checkPending(v, field, group string, now time.Time) (File, bool) {
	ref, ok := k.open(v, field, group, now)
	if !ok || !ref.Pending {
		return File{}, false
	}
	return ref.File, true
}

// open returns the content of reference v if v is authentic, of field,
// of group and younger than uploadTTL at now.
func (k uploadKeys) open(v, field, group string, now time.Time) (uploadRef, bool) {
	body, sig, ok := strings.Cut(v, ".")
	if !ok || len(v) > 4096 {
		return uploadRef{}, false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return uploadRef{}, false
	}
	authentic := false
	for _, key := range k {
		authentic = authentic || hmac.Equal(got, mac(key, body))
	}
	if !authentic {
		return uploadRef{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return uploadRef{}, false
	}
	var ref uploadRef
	if json.Unmarshal(b, &ref) != nil || ref.Field != field || ref.Group != group || !validKey(ref.Key) {
		return uploadRef{}, false
	}
	if at := time.Unix(ref.At, 0); now.Before(at.Add(-time.Minute)) || now.After(at.Add(uploadTTL)) {
		return uploadRef{}, false
	}
	return ref, true
}

// Files returns the files uploaded in field for this action (see
// WithUpload), already in the field's Store: nil if none, or outside a
// client's action. Files whose reference does not check out (forged,
// another session's, over an hour old) are left out.
func (c *Context) Files(field string) []File {
	if c.h == nil || c.req == nil || !c.client {
		return nil
	}
	var out []File
	for _, v := range c.req.PostForm[fieldFile+field] {
		if f, ok := c.h.uploadSigner().check(v, field, c.id.SessionID, time.Now()); ok {
			out = append(out, f)
		}
	}
	return out
}

// dropFreshFiles deletes the files of a forwarded action that failed, or
// did not run, on this instance: those the forwarding instance stored
// for that very POST (their keys under fieldFresh, their references
// checking out for group), as it does itself for an action that fails
// there. Files the form refers to otherwise (a reference sent again) are
// left alone.
func (h *Handler) dropFreshFiles(form url.Values, group string) {
	fresh := form[fieldFresh]
	if len(fresh) == 0 {
		return
	}
	now := time.Now()
	var files []File
	for k, vs := range form {
		field, ok := strings.CutPrefix(k, fieldFile)
		if !ok {
			continue
		}
		for _, v := range vs {
			if f, ok := h.uploadSigner().check(v, field, group, now); ok && slices.Contains(fresh, f.Key) {
				files = append(files, f)
			}
		}
	}
	h.deleteFiles(files)
}
