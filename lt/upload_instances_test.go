package lt_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

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

// awaitCalls waits until f's action has run n times: the jobs of a
// connection run in order, so what the ones before did is done.
func (f *upFixture) awaitCalls(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for _, calls := f.received(); calls < n; _, calls = f.received() {
		if time.Now().After(deadline) {
			t.Fatalf("the action ran %d times, want %d", calls, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// An action forwarded to the tab's instance that fails there: the file
// the other instance stored for it is deleted, as it would be had the
// action run where the body arrived. A reference sent again later, of a
// file an action kept, with an action that fails, deletes nothing, even
// with the key of that file claimed fresh: only the instance that
// stores a file says so.
func TestUploadForwardedActionFails(t *testing.T) {
	is := is.New(t)
	dir := t.TempDir()
	bus := lt.NewBus()
	inst := func(b lt.Broadcaster) *upFixture {
		return newUpFixture(t, lt.Upload{Store: lt.DiskStore{Dir: dir}}, lt.WithBroadcaster(b), lt.WithSecret(testSecret))
	}
	a, b := inst(bus.Instance("a")), inst(bus.Instance("b"))
	tab := lttest.Open(t, a.srv.URL+"/")
	client := &http.Client{Jar: sameSession(t, tab, a.srv.URL, b.srv.URL)}
	send := func(body io.Reader, ct string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, b.srv.URL+"/", body)
		is.NoErr(err)
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Accept", "application/json")
		resp, err := client.Do(req)
		is.NoErr(err)
		resp.Body.Close()
		is.Equal(resp.StatusCode, http.StatusAccepted) // forwarded to a
	}
	upload := func(name string, fail bool) {
		t.Helper()
		parts := []part{{name: "_lt_action", body: []byte("save")}, {name: "_lt_conn", body: []byte(tab.Conn())},
			{name: "avatar", file: name, body: pngHead}}
		if fail {
			parts = append(parts, part{name: "fail", body: []byte("1")})
		}
		send(multipartBody(t, parts...))
	}
	files := func() int {
		ents, err := os.ReadDir(dir)
		is.NoErr(err)
		return len(ents)
	}

	upload("failed.png", true)
	upload("kept.png", false) // runs after the first, its files dropped
	a.awaitCalls(t, 2)
	tab.WaitFor("kept.png;")
	got, _ := a.received()
	is.Equal(files(), 1) // the failed action's file is gone, the kept one stays
	kept := got[1]
	_, err := os.Stat(filepath.Join(dir, kept.Key))
	is.NoErr(err)

	// The kept file's reference, sent again with an action that fails.
	a.mu.Lock()
	ref := a.refs[1]
	a.mu.Unlock()
	form := url.Values{"_lt_action": {"save"}, "_lt_conn": {tab.Conn()}, "fail": {"1"},
		"_lt_file.avatar": {ref}, "_lt_fresh": {kept.Key}}
	send(strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
	body, ct := multipartBody(t, part{name: "_lt_action", body: []byte("save")}, part{name: "_lt_conn", body: []byte(tab.Conn())},
		part{name: "fail", body: []byte("1")}, part{name: "_lt_file.avatar", body: []byte(ref)}, part{name: "_lt_fresh", body: []byte(kept.Key)})
	send(body, ct)
	upload("last.png", false)
	a.awaitCalls(t, 5)
	tab.WaitFor("last.png;")
	_, err = os.Stat(filepath.Join(dir, kept.Key))
	is.NoErr(err) // still there
	is.Equal(files(), 2)
}
