package lt_test

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livesse/livesse/lt"
)

var uploadMB = flag.Int("upload.mb", 200, "BenchmarkConcurrentUploads: the size of each file, in MiB")

// fileBytes is a file of n bytes that sniffs as a PNG, made as it is read.
type fileBytes struct{ left int64 }

func (f *fileBytes) Read(p []byte) (int, error) {
	if f.left <= 0 {
		return 0, io.EOF
	}
	n := min(int64(len(p)), f.left)
	for i := range p[:n] {
		p[i] = byte(i)
	}
	f.left -= n
	return int(n), nil
}

// streamUpload posts a multipart body with one file of size bytes,
// written as the request is sent.
func streamUpload(url string, size int64) error {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		_ = mw.WriteField("save", "")
		w, err := mw.CreateFormFile("avatar", "big.png")
		if err == nil {
			_, _ = w.Write(pngHead)
			_, err = io.Copy(w, &fileBytes{left: size - int64(len(pngHead))})
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	req, err := http.NewRequest(http.MethodPost, url, pr)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := noRedirect.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// rssKiB reads the process's resident memory from /proc (Linux).
func rssKiB(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return -1
}

// Twenty clients upload a file of -upload.mb MiB each (200 by default) at
// once, to a DiskStore, through the server in this process: the server
// streams each file to disk, so memory stays flat however large the
// files. peak-RSS-MiB is the process's resident memory at its highest
// during the uploads (sampled every 10 ms), above what it was before;
// the clients' side is in it too (they make their bytes as they send).
func BenchmarkConcurrentUploads(b *testing.B) {
	const clients = 20
	size := int64(*uploadMB) << 20
	dir := b.TempDir()
	f := newUpFixture(b, lt.Upload{MaxBytes: size, Store: lt.DiskStore{Dir: dir}})
	runtime.GC()
	base := rssKiB("VmRSS")
	var peak int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				peak = max(peak, rssKiB("VmRSS"))
			}
		}
	}()
	b.SetBytes(size * clients)
	b.ResetTimer()
	for range b.N {
		var wg sync.WaitGroup
		errs := make(chan error, clients)
		for range clients {
			wg.Go(func() { errs <- streamUpload(f.srv.URL+"/", size) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		ents, _ := os.ReadDir(dir)
		if len(ents) != clients {
			b.Fatalf("%d files stored, want %d", len(ents), clients)
		}
		for _, e := range ents {
			if info, _ := e.Info(); info.Size() != size {
				b.Fatalf("%s: %d bytes, want %d", e.Name(), info.Size(), size)
			}
			_ = os.Remove(dir + "/" + e.Name())
		}
		b.StartTimer()
	}
	b.StopTimer()
	close(stop)
	<-sampled
	b.ReportMetric(float64(peak-base)/1024, "peak-RSS-MiB")
	b.ReportMetric(float64(size>>20), "MiB/file")
}
