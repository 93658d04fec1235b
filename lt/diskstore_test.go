package lt_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/livesse/livesse/lt"
	"github.com/matryer/is"
)

// A process killed in the middle of an upload leaves its temporary file:
// Sweep removes those last written before its cutoff, and nothing else.
func TestDiskStoreSweep(t *testing.T) {
	is := is.New(t)
	dir := t.TempDir()
	const key = "AAAAAAAAAAAAAAAAAAAAAA.png"
	old := time.Now().Add(-2 * time.Hour)
	for _, f := range []struct {
		name string
		old  bool
	}{
		{"." + key + ".123456.part", true},          // a killed upload's: swept
		{"." + key + ".987.part", false},            // an upload under way
		{key, true},                                 // a stored file
		{".notes.part", true},                       // not lt's
		{"." + key + ".x1.part", true},              // not lt's pattern
		{".AAAA/../x.png.1.part", true},             // not a key
		{"BBBBBBBBBBBBBBBBBBBBBB.pdf.1.part", true}, // no leading dot
	} {
		p := filepath.Join(dir, filepath.Base(f.name))
		is.NoErr(os.WriteFile(p, []byte("x"), 0o600))
		if f.old {
			is.NoErr(os.Chtimes(p, old, old))
		}
	}
	is.NoErr(os.Mkdir(filepath.Join(dir, "."+key+".1.part.d"), 0o750))

	n, err := lt.DiskStore{Dir: dir}.Sweep(time.Hour)
	is.NoErr(err)
	is.Equal(n, 1)
	ents, err := os.ReadDir(dir)
	is.NoErr(err)
	var left []string
	for _, e := range ents {
		left = append(left, e.Name())
	}
	is.True(!slices.Contains(left, "."+key+".123456.part"))
	is.Equal(len(left), 7)
	for _, name := range left {
		is.True(!strings.HasSuffix(name, ".123456.part"))
	}

	n, err = lt.DiskStore{Dir: filepath.Join(dir, "missing")}.Sweep(time.Hour)
	is.NoErr(err)
	is.Equal(n, 0)
}

// Put's temporary file is one Sweep knows: an upload interrupted after its
// first bytes leaves a file Sweep removes once it is old enough.
func TestDiskStoreSweepFindsPutsFiles(t *testing.T) {
	is := is.New(t)
	dir := t.TempDir()
	pr, pw := io.Pipe()
	seen := make(chan string, 1)
	go func() {
		_, _ = pw.Write(pngHead) // Put has created its file once this returns
		ents, _ := os.ReadDir(dir)
		name := ""
		if len(ents) == 1 {
			name = ents[0].Name()
		}
		seen <- name
		pw.CloseWithError(errors.New("killed"))
	}()
	is.True(lt.DiskStore{Dir: dir}.Put(context.Background(), "AAAAAAAAAAAAAAAAAAAAAA.png", pr) != nil)
	name := <-seen
	is.True(strings.HasPrefix(name, ".AAAAAAAAAAAAAAAAAAAAAA.png."))
	// A failed Put removes its own file; recreate it as a killed process
	// would have left it, old.
	p := filepath.Join(dir, name)
	is.NoErr(os.WriteFile(p, pngHead, 0o600))
	n, err := lt.DiskStore{Dir: dir}.Sweep(time.Hour)
	is.NoErr(err)
	is.Equal(n, 0) // recent
	old := time.Now().Add(-2 * time.Hour)
	is.NoErr(os.Chtimes(p, old, old))
	n, err = lt.DiskStore{Dir: dir}.Sweep(time.Hour)
	is.NoErr(err)
	is.Equal(n, 1)
}
