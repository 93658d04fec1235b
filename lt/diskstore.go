package lt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DiskStore is a Store that keeps files in a directory of the local disk,
// each under its key. A file is written under a temporary name next to
// it and renamed once complete, so a reader never sees a partial file,
// and a failed upload leaves nothing (only a process killed in the middle
// of an upload leaves its temporary file: see Sweep). Instances that do
// not share the
// directory (a network file system) cannot run each other's uploads'
// actions: use a shared store for several instances.
type DiskStore struct {
	// Dir is the directory; it is created (0o750) if missing.
	Dir string
}

// path returns where key goes; keys are lt's own (random, with an
// extension), and anything else is refused.
func (d DiskStore) path(key string) (string, error) {
	if !validKey(key) {
		return "", fmt.Errorf("lt: DiskStore: invalid key %q", clip(key, 64))
	}
	return filepath.Join(d.Dir, key), nil
}

// Put writes r to key.
func (d DiskStore) Put(ctx context.Context, key string, r io.Reader) (err error) {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(d.Dir, 0o750); err != nil {
		return fmt.Errorf("lt: DiskStore: %w", err)
	}
	f, err := os.CreateTemp(d.Dir, "."+key+".*.part")
	if err != nil {
		return fmt.Errorf("lt: DiskStore: %w", err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if _, err = io.Copy(f, ctxReader{ctx, r}); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("lt: DiskStore: %w", err)
	}
	if err = os.Rename(f.Name(), p); err != nil {
		return fmt.Errorf("lt: DiskStore: %w", err)
	}
	return nil
}

// Delete removes key.
func (d DiskStore) Delete(_ context.Context, key string) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("lt: DiskStore: %w", err)
	}
	return nil
}

// Open opens the file stored under key, for the action (or anything
// later) to read.
func (d DiskStore) Open(key string) (*os.File, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	return os.Open(p)
}

// ctxReader stops reading once ctx is done: a copy to disk ends with the
// request.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Sweep removes the temporary files (".<key>.<n>.part") that uploads
// left in Dir when their process was killed in the middle of them, if
// they were last written more than olderThan ago, and returns how many
// it removed. A running upload writes its file as bytes arrive and is cut
// after its field's IdleTimeout (30 s by default), so with olderThan
// above every IdleTimeout (an hour, say) Sweep never touches a live
// upload: call it when the app starts, or from time to time. It touches
// nothing else: neither stored files nor files lt did not name. A
// missing Dir has nothing to sweep.
func (d DiskStore) Sweep(olderThan time.Duration) (int, error) {
	ents, err := os.ReadDir(d.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("lt: DiskStore: sweeping: %w", err)
	}
	cutoff := time.Now().Add(-olderThan)
	removed := 0
	var errs []error
	for _, e := range ents {
		if !e.Type().IsRegular() || !isPartName(e.Name()) {
			continue
		}
		info, err := e.Info()
		if err != nil || !info.ModTime().Before(cutoff) {
			continue // gone meanwhile, or recent
		}
		if err := os.Remove(filepath.Join(d.Dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		removed++
	}
	if err := errors.Join(errs...); err != nil {
		return removed, fmt.Errorf("lt: DiskStore: sweeping: %w", err)
	}
	return removed, nil
}

// isPartName reports whether name is one of Put's temporary files:
// "." + key + "." + digits + ".part".
func isPartName(name string) bool {
	s, ok := strings.CutPrefix(name, ".")
	if !ok {
		return false
	}
	if s, ok = strings.CutSuffix(s, ".part"); !ok {
		return false
	}
	i := strings.LastIndexByte(s, '.')
	if i < 0 || i == len(s)-1 {
		return false
	}
	for _, c := range s[i+1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return validKey(s[:i])
}
