package lt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// DiskStore is a Store that keeps files in a directory of the local disk,
// each under its key. A file is written under a temporary name next to
// it and renamed once complete, so a reader never sees a partial file,
// and a failed upload leaves nothing. Instances that do not share the
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
