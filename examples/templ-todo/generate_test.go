package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGeneratedCodeIsFresh regenerates the page with templ
// v0.3.1118 into a temporary directory and fails when a committed
// *_templ.go differs: run
//
//	go run github.com/a-h/templ/cmd/templ@v0.3.1118 generate
//
// in this directory (or with -path examples/templ-todo from the
// repository) after editing todo.templ.
func TestGeneratedCodeIsFresh(t *testing.T) {
	if testing.Short() {
		t.Skip("runs templ generate")
	}
	sources, err := filepath.Glob("*.templ")
	if err != nil || len(sources) == 0 {
		t.Fatalf("no .templ files: %v", err)
	}
	dir := t.TempDir()
	for _, src := range sources {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, src), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("go", "run", "github.com/a-h/templ/cmd/templ@v0.3.1118", "generate", "-path", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		if os.Getenv("CI") != "true" && bytes.Contains(out, []byte("dial tcp")) {
			t.Skipf("cannot fetch templ: %s", out)
		}
		t.Fatalf("templ generate: %v\n%s", err, out)
	}
	for _, src := range sources {
		gen := strings.TrimSuffix(src, ".templ") + "_templ.go"
		want, err := os.ReadFile(filepath.Join(dir, gen))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(gen)
		if err != nil {
			t.Fatalf("%s is not generated: %v", gen, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go run github.com/a-h/templ/cmd/templ@v0.3.1118 generate", gen)
		}
	}
}
