package web

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestBundleIsFresh rebuilds the bundle with build.mjs (the same build as
// `npm run build`) and checks it matches dist/livesse.min.js, so
// the embedded client never lags behind its sources.
func TestBundleIsFresh(t *testing.T) {
	node, err := exec.LookPath("node")
	missing := ""
	switch {
	case err != nil:
		missing = "node is not on PATH"
	case !exists("node_modules/esbuild") || !exists("node_modules/terser"):
		missing = "web/node_modules lacks esbuild or terser (run: cd web && npm ci)"
	}
	if missing != "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("cannot check that dist/livesse.min.js is fresh: %s", missing)
		}
		t.Skipf("skipping bundle freshness check: %s", missing)
	}

	out := filepath.Join(t.TempDir(), "livesse.min.js")
	cmd := exec.Command(node, "build.mjs", "--outfile", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("node build.mjs: %v\n%s", err, b)
	}
	fresh, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile("dist/livesse.min.js")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fresh, committed) {
		t.Fatalf("dist/livesse.min.js (%d bytes) is stale: a build from src/ gives %d bytes that differ; "+
			"run `cd web && npm ci && npm run build` and commit dist/livesse.min.js", len(committed), len(fresh))
	}
	if !bytes.Equal(Bundle(), committed) {
		t.Fatal("Bundle() differs from dist/livesse.min.js")
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
