package lt

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/matryer/is"
)

func TestUploadRefCheck(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	k := uploadKeys{[]byte("0123456789abcdef0123456789abcdef")}
	other := uploadKeys{[]byte("another key, another app........")}
	f := File{Field: "avatar", Name: "a.png", Size: 3, Type: "image/png", Key: newKey("image/png")}
	ref := k.sign(f, "group-a", now)
	for _, c := range []struct {
		name         string
		keys         uploadKeys
		ref          string
		field, group string
		at           time.Time
		ok           bool
	}{
		{"authentic", k, ref, "avatar", "group-a", now, true},
		{"under a previous key", uploadKeys{other[0], k[0]}, ref, "avatar", "group-a", now, true},
		{"another session's", k, ref, "avatar", "group-b", now, false},
		{"another field's", k, ref, "photo", "group-a", now, false},
		{"over an hour old", k, ref, "avatar", "group-a", now.Add(uploadTTL + time.Second), false},
		{"from the future", k, ref, "avatar", "group-a", now.Add(-2 * time.Minute), false},
		{"another app's", other, ref, "avatar", "group-a", now, false},
		{"tampered", k, ref[:10] + string(ref[10]^1) + ref[11:], "avatar", "group-a", now, false},
		{"no signature", k, ref[:len(ref)-23], "avatar", "group-a", now, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			is := is.New(t)
			got, ok := c.keys.check(c.ref, c.field, c.group, c.at)
			is.Equal(ok, c.ok)
			if ok {
				is.Equal(got, f)
			}
		})
	}
}

func TestCleanFileName(t *testing.T) {
	for in, want := range map[string]string{
		"photo.png":                "photo.png",
		`C:\Users\me\photo.png`:    "photo.png",
		"../../etc/passwd":         "passwd",
		"a\x00b\x1b[31mc.txt":      "ab[31mc.txt",
		"":                         "file",
		"..":                       "file",
		"/":                        "file",
		"\xff\xfe.txt":             "\uFFFD.txt",
		string(make([]byte, 0)):    "file",
		"é" + string(rune(0x202e)): "é\u202e",
	} {
		is.New(t).Equal(cleanFileName(in), want)
	}
	long := cleanFileName(string(make([]rune, 300)) + "ééééé")
	is.New(t).True(len(long) <= 255)
}

func TestValidKey(t *testing.T) {
	is := is.New(t)
	is.True(validKey(newKey("image/png")))
	is.True(validKey(newKey("application/x-unknown")))
	for _, k := range []string{"", "../x.png", "aaaaaaaaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaaaaaaa/.png", "aaaaaaaaaaaaaaaaaaaaaa.PNG", "aaaaaaaaaaaaaaaaaaaaaa.png/..", ".aaaaaaaaaaaaaaaaaaaaa.png"} {
		is.True(!validKey(k))
	}
}

// A presigned upload's reference (pending: nothing checked the object
// yet) never passes for a checked one, nor the other way round; a
// reference signed before the flag existed is a checked one.
func TestUploadRefPending(t *testing.T) {
	is := is.New(t)
	now := time.Unix(1_800_000_000, 0)
	k := uploadKeys{[]byte("0123456789abcdef0123456789abcdef")}
	f := File{Field: "avatar", Name: "a.png", Size: 3, Type: "image/png", Key: newKey("image/png")}
	pending, checked := k.signPending(f, "g", now), k.sign(f, "g", now)
	_, ok := k.check(pending, "avatar", "g", now)
	is.True(!ok)
	got, ok := k.checkPending(pending, "avatar", "g", now)
	is.True(ok)
	is.Equal(got, f)
	_, ok = k.checkPending(checked, "avatar", "g", now)
	is.True(!ok)
	_, ok = k.checkPending(pending, "avatar", "other group", now)
	is.True(!ok)
	// The format before presigned uploads: no "p" at all.
	body := base64.RawURLEncoding.EncodeToString([]byte(`{"f":"avatar","n":"a.png","s":3,"t":"image/png","k":"` + f.Key + `","g":"g","a":1800000000}`))
	old := body + "." + base64.RawURLEncoding.EncodeToString(mac(k[0], body))
	got, ok = k.check(old, "avatar", "g", now)
	is.True(ok)
	is.Equal(got, f)
}
