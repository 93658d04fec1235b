package copytest

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// budget bounds the whole test when go test sets no deadline of its own.
const budget = 5 * time.Minute

// TestExamplesBuildOutsideTheModule copies each example directory's files
// alone into a fresh module (module example.com/copy, which requires
// github.com/livesse/livesse v0.0.0 replaced by this repository), runs go
// mod tidy, go build ./... and go vet ./... there, and fails with the go
// command's output if any of them fails: "use of internal package not
// allowed" is what a user would otherwise meet. Only the non-test files
// are copied (the .go files, templates, SQL and whatever else the example
// embeds or reads): the examples' own tests may use this repository's
// internal test kits (internal/test/pgtest), which are
// not part of what a user copies. So go build and go vet check the
// example's program, not its tests. The examples run in parallel and
// share the module and build caches; modules that are not in the cache
// come from the module proxy (GOFLAGS=-mod=mod).
func TestExamplesBuildOutsideTheModule(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(root, "examples"))
	if err != nil {
		t.Fatal(err)
	}
	deadline, ok := t.Deadline()
	if !ok {
		deadline = time.Now().Add(budget)
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline.Add(-5*time.Second))
	t.Cleanup(cancel)
	n := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		n++
		t.Run(e.Name(), func(t *testing.T) {
			t.Parallel()
			src := filepath.Join(root, "examples", e.Name())
			dir := t.TempDir()
			copied := copyExample(t, src, dir)
			if copied == 0 {
				t.Fatalf("%s has no non-test Go file", src)
			}
			mod := fmt.Sprintf("module example.com/copy\n\ngo 1.26.0\n\nrequire github.com/livesse/livesse v0.0.0\n\nreplace github.com/livesse/livesse => %s\n", root)
			if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{{"mod", "tidy"}, {"build", "./..."}, {"vet", "./..."}} {
				cmd := exec.CommandContext(ctx, goCmd, args...)
				cmd.Dir = dir
				cmd.Env = append(os.Environ(), "GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -mod=mod"), "GOWORK=off")
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("examples/%s copied alone into a module of its own: go %s: %v\n%s", e.Name(), strings.Join(args, " "), err, out)
				}
			}
		})
	}
	if n == 0 {
		t.Fatal("no example found under examples/")
	}
}

// copyExample copies the files of src, its subdirectories' too, except
// the tests, to dst, and returns how many Go files it copied.
func copyExample(t *testing.T, src, dst string) (goFiles int) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case strings.HasSuffix(path, "_test.go"), !d.Type().IsRegular():
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.HasSuffix(path, ".go") {
			goFiles++
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return goFiles
}
