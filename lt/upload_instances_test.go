package lt_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
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

// Any instance: a tab lives on instance a; its browser's upload lands on
// instance b (no sticky sessions), which stores the file in the shared
// directory and forwards the action with the file's reference only; the
// action runs on a and gets the file. The bytes never travel between the
// instances.
func TestUploadOnAnotherInstance(t *testing.T) {
	is := is.New(t)
	dir := t.TempDir() // shared by both, as a network file system would be
	bus := lt.NewBus()
	busB := &measuredBroadcaster{Broadcaster: bus.Instance("b")}
	inst := func(b lt.Broadcaster) *upFixture {
		return newUpFixture(t, lt.Upload{MaxBytes: 8 << 20, Store: lt.DiskStore{Dir: dir}}, lt.WithBroadcaster(b), lt.WithSecret(testSecret))
	}
	a, b := inst(bus.Instance("a")), inst(busB)
	tab := lttest.Open(t, a.srv.URL+"/")
	jar := sameSession(t, tab, a.srv.URL, b.srv.URL)

	content := append(bytes.Clone(pngHead), bytes.Repeat([]byte{9}, 3<<20)...) // over the 256 KiB a forward may carry
	body, ct := multipartBody(t, part{name: "_lt_action", body: []byte("save")}, part{name: "_lt_conn", body: []byte(tab.Conn())},
		part{name: "avatar", file: "big.png", body: content})
	req, err := http.NewRequest(http.MethodPost, b.srv.URL+"/", body)
	is.NoErr(err)
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Accept", "application/json")
	resp, err := (&http.Client{Jar: jar}).Do(req)
	is.NoErr(err)
	resp.Body.Close()
	is.Equal(resp.StatusCode, http.StatusAccepted) // forwarded
	tab.WaitFor("big.png;")

	got, calls := a.received()
	is.Equal(calls, 1)
	is.Equal(len(got), 1)
	is.Equal(got[0].Size, int64(len(content)))
	is.Equal(got[0].Type, "image/png")
	stored, err := os.ReadFile(filepath.Join(dir, got[0].Key))
	is.NoErr(err)
	is.True(bytes.Equal(stored, content))
	_, callsB := b.received()
	is.Equal(callsB, 0) // b only stored the file
	n, largest := busB.sizes()
	is.True(n >= 1)
	is.True(largest < 4<<10) // the reference, not the file
	t.Logf("%d messages from b, the largest %d bytes, for a file of %d bytes", n, largest, len(content))
}
