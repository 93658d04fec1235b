package lts3_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
)

// measuredBroadcaster records the size of each message an instance
// publishes, as JSON.
type measuredBroadcaster struct {
	lt.Broadcaster
	mu      sync.Mutex
	largest int
	count   int
}

func (m *measuredBroadcaster) Publish(ctx context.Context, msg lt.Message) error {
	b, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.largest = max(m.largest, len(b))
	m.count++
	m.mu.Unlock()
	return m.Broadcaster.Publish(ctx, msg)
}

func (m *measuredBroadcaster) sizes() (count, largest int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.count, m.largest
}

// Any instance, with a bucket: a tab lives on instance a; its browser's
// POSTs land on instance b. A file in the form's body goes from b to the
// bucket, a presigned one from the browser to the bucket, checked by b;
// either way b forwards the action with the file's reference only, and
// the action runs on a with the file.
func TestUploadOnAnotherInstance(t *testing.T) {
	is := is.New(t)
	s3 := newFakeS3(t)
	bus := lt.NewBus()
	busB := &measuredBroadcaster{Broadcaster: bus.Instance("b")}
	u := lt.Upload{MaxBytes: 16 << 20, MaxFiles: 2, Store: s3.store()}
	a := newApp(t, u, lt.WithBroadcaster(bus.Instance("a")))
	b := newApp(t, u, lt.WithBroadcaster(busB))
	tab := lttest.Open(t, a.URL+"/")
	ua, _ := url.Parse(a.URL)
	ub, _ := url.Parse(b.URL)
	b.client.Jar.SetCookies(ub, tab.Jar().Cookies(ua)) // one browser, balanced to b
	s3.cors.allow(b.URL)

	// In the body: 6 MiB, two parts on their way to the bucket.
	file := content(6 << 20)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("_lt_action", "save")
	_ = mw.WriteField("_lt_conn", tab.Conn())
	w, _ := mw.CreateFormFile("avatar", "big.png")
	_, _ = w.Write(file)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, b.URL+"/", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Accept", "application/json")
	resp, err := b.client.Do(req)
	is.NoErr(err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	is.Equal(resp.StatusCode, http.StatusAccepted) // forwarded
	tab.WaitFor("big.png;")

	// Presigned: b signs, the browser puts, b checks and forwards.
	status, p := presign(t, b.client, b.URL+"/", "avatar", "direct.png", 300_000, "image/png")
	is.Equal(status, http.StatusOK)
	is.Equal(put(t, b.URL, p, content(300_000)), http.StatusOK)
	status, _ = postForm(t, b.client, b.URL+"/", url.Values{"_lt_action": {"save"}, "_lt_conn": {tab.Conn()}, "_lt_presigned.avatar": {p.Ref}},
		"Accept", "application/json")
	is.Equal(status, http.StatusAccepted)
	tab.WaitFor("big.png;direct.png;")

	got, calls := a.rec.got()
	is.Equal(calls, 2)
	is.Equal(len(got), 2)
	is.Equal(got[0].Size, int64(len(file)))
	is.Equal(got[1].Size, int64(300_000))
	is.Equal(got[1].Type, "image/png")
	for _, f := range got {
		rc, err := s3.store().Open(context.Background(), f.Key)
		is.NoErr(err)
		stored, _ := io.ReadAll(rc)
		rc.Close()
		is.True(bytes.Equal(stored, content(f.Size)))
	}
	_, callsB := b.rec.got()
	is.Equal(callsB, 0) // b only stored and checked
	n, largest := busB.sizes()
	is.True(n >= 2)
	is.True(largest < 4<<10) // references, not files
	t.Logf("%d messages from b, the largest %d bytes", n, largest)
}
