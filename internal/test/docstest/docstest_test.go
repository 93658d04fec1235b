package docstest

// How the documentation's Go snippets are checked
//
// Every block fenced with ```go in README.md and docs/*.md is compiled (go
// build, then go vet) as a throwaway package inside this module, under
// testdata/, so that it sees the module's packages and dependencies as they
// are now. A snippet is one of:
//
//   - a whole file: it starts with a package clause (comments may come
//     first) and is compiled as it is;
//   - declarations (imports first, if it writes any; then types, funcs,
//     vars, consts), optionally followed by statements: the statements,
//     from the first top-level line that is not part of a declaration, are
//     wrapped in a function, so that a snippet can show a type, its methods
//     and the lines of main that use them;
//   - statements only: they are all wrapped in a function.
//
// A snippet without a package clause gets its imports added: each name
// used as name.Something that the snippet neither declares nor imports is
// looked up in autoImports (below). middleware is livesse's package when
// every name the snippet takes from it is one of livesse's, else chi's (it
// can also be imported as chimw). A snippet that imports a package itself
// must use it, as the compiler demands.
//
// A fragment may use variables it does not declare if it names them, with
// their types, on a comment line of its own:
//
//	// given r chi.Router, h *lt.Handler
//
// Its statements are then wrapped in a function with those parameters.
//
// A snippet whose first line is a comment starting with "// continued" is
// compiled in one package with the snippet before it in the same file, so
// it may use that snippet's declarations (not the local variables of its
// statements). Every other snippet stands alone.
//
// A //go:embed directive gets an empty file for each pattern it names.
// Snippets must not import internal packages, which readers cannot.
//
// Errors point into the Markdown (through //line directives), for example
// docs/server-actions.md:42:9: undefined: foo.
//
// While working on one document, DOCSTEST_ONLY=docs/testing.md (a
// comma-separated list of slash paths from the module root, or path.Match
// patterns) restricts TestDocSnippetsCompile to those files, and
// DOCSTEST_KEEP=1 keeps the generated packages under testdata/ to look at.

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// autoImports maps the package names that snippets may use without
// importing them to their import paths.
var autoImports = map[string]string{
	// livesse
	"lt":         "github.com/livesse/livesse/lt",
	"lttest":     "github.com/livesse/livesse/lt/lttest",
	"middleware": "github.com/livesse/livesse/middleware",
	"pgnotify":   "github.com/livesse/livesse/pgnotify",
	// third-party packages the module depends on
	"chi":      "github.com/go-chi/chi/v5",
	"chromedp": "github.com/chromedp/chromedp",
	"chimw":    "github.com/go-chi/chi/v5/middleware",
	"pgxpool":  "github.com/jackc/pgx/v5/pgxpool",
	"is":       "github.com/matryer/is",
	"goleak":   "go.uber.org/goleak",
	// the standard library
	"bytes":     "bytes",
	"context":   "context",
	"sql":       "database/sql",
	"cookiejar": "net/http/cookiejar",
	"embed":     "embed",
	"errors":    "errors",
	"fmt":       "fmt",
	"fs":        "io/fs",
	"http":      "net/http",
	"httptest":  "net/http/httptest",
	"io":        "io",
	"json":      "encoding/json",
	"log":       "log",
	"maps":      "maps",
	"net":       "net",
	"os":        "os",
	"signal":    "os/signal",
	"slices":    "slices",
	"slog":      "log/slog",
	"sort":      "sort",
	"strconv":   "strconv",
	"strings":   "strings",
	"sync":      "sync",
	"atomic":    "sync/atomic",
	"syscall":   "syscall",
	"template":  "html/template",
	"testing":   "testing",
	"time":      "time",
	"url":       "net/url",
}

// docFiles are the Markdown files whose snippets must compile, relative to
// the module root.
func docFiles(t *testing.T, root string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	all := []string{"README.md"}
	for _, f := range files {
		rel, err := filepath.Rel(root, f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, filepath.ToSlash(rel))
	}
	only := os.Getenv("DOCSTEST_ONLY")
	if only == "" {
		return all
	}
	var out []string
	for _, f := range all {
		for _, pat := range strings.Split(only, ",") {
			if ok, _ := path.Match(strings.TrimSpace(pat), f); ok {
				out = append(out, f)
				break
			}
		}
	}
	t.Logf("DOCSTEST_ONLY=%s: checking %v", only, out)
	return out
}

func TestDocSnippetsCompile(t *testing.T) {
	t.Parallel()
	root := moduleRoot(t)
	total := 0
	for _, rel := range docFiles(t, root) {
		src, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		snips, err := extract(rel, src)
		if err != nil {
			t.Fatal(err)
		}
		total += len(snips)
		if len(snips) == 0 {
			continue
		}
		// One subtest per document, so that a failure names its document.
		t.Run(rel, func(t *testing.T) {
			t.Parallel()
			t.Logf("%d Go snippets", len(snips))
			if out, err := check(t, root, snips); err != nil {
				t.Fatalf("Go snippets of %s do not compile (conventions: the top of internal/test/docstest/docstest_test.go):\n%s", rel, out)
			}
		})
	}
	if total == 0 {
		t.Fatal("no Go snippets found; is the module root right?")
	}
}

// Relative links between the documents, and to the examples, lead
// somewhere: a file or directory that exists and, for a link to a heading
// (page.md#some-heading), a heading with that GitHub anchor.
func TestDocLinks(t *testing.T) {
	root := moduleRoot(t)
	for _, rel := range docFiles(t, root) {
		src, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range links(string(src)) {
			target, anchor, _ := strings.Cut(l.target, "#")
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file := filepath.Join(root, filepath.FromSlash(path.Dir(rel)), filepath.FromSlash(target))
			if target == "" {
				file = filepath.Join(root, filepath.FromSlash(rel))
			}
			if _, err := os.Stat(file); err != nil {
				t.Errorf("%s:%d: link to %s: no such file", rel, l.line, l.target)
				continue
			}
			if anchor == "" || !strings.HasSuffix(file, ".md") {
				continue
			}
			doc, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(anchors(string(doc)), anchor) {
				t.Errorf("%s:%d: link to %s: no heading with anchor #%s", rel, l.line, l.target, anchor)
			}
		}
	}
}

type link struct {
	target string
	line   int
}

var linkRE = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// links returns the targets of the Markdown links outside code blocks.
func links(doc string) []link {
	var out []link
	inCode := false
	for i, l := range strings.Split(doc, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			inCode = !inCode
			continue
		}
		if inCode {
			continue
		}
		for _, m := range linkRE.FindAllStringSubmatch(l, -1) {
			out = append(out, link{m[1], i + 1})
		}
	}
	return out
}

// anchors returns the GitHub anchors of a document's headings: lower
// case, punctuation dropped, spaces as hyphens.
func anchors(doc string) []string {
	var out []string
	inCode := false
	for _, l := range strings.Split(doc, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			inCode = !inCode
			continue
		}
		if inCode || !strings.HasPrefix(l, "#") {
			continue
		}
		h := strings.ToLower(strings.TrimSpace(strings.TrimLeft(l, "#")))
		var b strings.Builder
		for _, r := range h {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		out = append(out, b.String())
	}
	return out
}

// The checker itself: a broken snippet fails, with the Markdown position.
func TestBrokenSnippetFails(t *testing.T) {
	t.Parallel()
	root := moduleRoot(t)
	src, err := os.ReadFile("testdata/broken.md")
	if err != nil {
		t.Fatal(err)
	}
	snips, err := extract("internal/test/docstest/testdata/broken.md", src)
	if err != nil {
		t.Fatal(err)
	}
	if len(snips) != 1 {
		t.Fatalf("broken.md has %d snippets, want 1", len(snips))
	}
	out, err := check(t, root, snips)
	if err == nil {
		t.Fatal("a snippet that does not compile passed")
	}
	// The error is on line 8 of broken.md, in column 15.
	if !strings.Contains(out, "broken.md:8:15: cannot use") {
		t.Fatalf("the error does not point at broken.md:8:15:\n%s", out)
	}
}

// Every kind of snippet the conventions allow compiles.
func TestConventions(t *testing.T) {
	t.Parallel()
	root := moduleRoot(t)
	src, err := os.ReadFile("testdata/conventions.md")
	if err != nil {
		t.Fatal(err)
	}
	snips, err := extract("internal/test/docstest/testdata/conventions.md", src)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := check(t, root, snips); err != nil {
		t.Fatalf("the conventions' examples do not compile:\n%s", out)
	}
	gs, err := group(snips)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, g := range gs {
		sizes = append(sizes, len(g))
	}
	if want := []int{1, 1, 1, 2, 1, 1, 1}; !slices.Equal(sizes, want) {
		t.Fatalf("snippets grouped as %v, want %v", sizes, want)
	}
}

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		code       string
		decls, all int // lines of declarations; lines in all
	}{
		{"type T struct{}\n\nfunc (T) M() {}", 3, 3},
		{"x := 1\n_ = x", 0, 2},
		{"type T struct{}\n\nt := T{}\n_ = t", 2, 4},
		{"func f() {\n\tx := 1\n\t_ = x\n}\nf()", 4, 5},
		{"import \"fmt\"\n\nfmt.Println()", 2, 3},
	} {
		lines := strings.Split(tc.code, "\n")
		if k := split(lines); k != tc.decls {
			t.Errorf("split(%q) = %d, want %d", tc.code, k, tc.decls)
		}
	}
}

// snippet is one ```go block.
type snippet struct {
	file string // slash path from the module root
	line int    // line in file of the snippet's first line
	code string
}

func (s snippet) String() string { return fmt.Sprintf("%s:%d", s.file, s.line) }

var fence = regexp.MustCompile("^([ \t]*)```go[ \t]*$")

// extract returns the ```go blocks of a Markdown file, with the
// indentation of their fence removed (fences may be nested in lists).
func extract(rel string, src []byte) ([]snippet, error) {
	lines := strings.Split(strings.ReplaceAll(string(src), "\r\n", "\n"), "\n")
	var out []snippet
	for i := 0; i < len(lines); i++ {
		m := fence.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		var body []string
		j := i + 1
		for ; j < len(lines) && strings.TrimSpace(lines[j]) != "```"; j++ {
			body = append(body, strings.TrimPrefix(lines[j], m[1]))
		}
		if j == len(lines) {
			return nil, fmt.Errorf("%s:%d: ```go fence never closed", rel, i+1)
		}
		out = append(out, snippet{file: rel, line: i + 2, code: strings.Join(body, "\n")})
		i = j
	}
	return out, nil
}

func continued(s snippet) bool {
	first, _, _ := strings.Cut(strings.TrimLeft(s.code, "\n"), "\n")
	return strings.HasPrefix(strings.TrimSpace(first), "// continued")
}

// group puts each "// continued" snippet with the one before it.
func group(snips []snippet) ([][]snippet, error) {
	var gs [][]snippet
	for _, s := range snips {
		if continued(s) {
			if len(gs) == 0 || gs[len(gs)-1][0].file != s.file {
				return nil, fmt.Errorf("%v: a \"// continued\" snippet must follow another snippet of the same file", s)
			}
			gs[len(gs)-1] = append(gs[len(gs)-1], s)
			continue
		}
		gs = append(gs, []snippet{s})
	}
	return gs, nil
}

// hasPackageClause reports whether code starts, after comments, with a
// package clause.
func hasPackageClause(code string) bool {
	var sc scanner.Scanner
	fset := token.NewFileSet()
	src := []byte(code)
	sc.Init(fset.AddFile("", -1, len(src)), src, nil, 0)
	_, tok, _ := sc.Scan()
	return tok == token.PACKAGE
}

func parses(src string) bool {
	_, err := parser.ParseFile(token.NewFileSet(), "", src, parser.SkipObjectResolution)
	return err == nil
}

// split returns how many leading lines of a snippet are declarations: the
// most for which those lines parse as a file's declarations and the rest
// parse as a function body. It returns len(lines) when nothing parses, so
// that the compiler reports the error.
func split(lines []string) int {
	for k := len(lines); k >= 0; k-- {
		decls := strings.Join(lines[:k], "\n")
		stmts := strings.Join(lines[k:], "\n")
		if parses("package p\n"+decls) && parses("package p\nfunc _() {\n"+stmts+"\n}") {
			return k
		}
	}
	return len(lines)
}

// lineDirective makes the next line report as line of file, column 1.
func lineDirective(file string, line int) string {
	return "//line " + file + ":" + strconv.Itoa(line) + ":1\n"
}

// source returns the Go file for a snippet in package pkg, and the files
// its //go:embed directives need.
func source(s snippet, pkg string, root string) (src string, embeds []string, err error) {
	pos := filepath.Join(root, filepath.FromSlash(s.file))
	for _, l := range strings.Split(s.code, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(l), "//go:embed "); ok {
			for _, p := range strings.Fields(rest) {
				embeds = append(embeds, strings.Trim(p, "\"`"))
			}
		}
	}
	if hasPackageClause(s.code) {
		return lineDirective(pos, s.line) + s.code + "\n", embeds, nil
	}
	lines := strings.Split(s.code, "\n")
	var params []string
	for _, l := range lines {
		if p, ok := strings.CutPrefix(strings.TrimSpace(l), "// given "); ok {
			params = append(params, p)
		}
	}
	k := split(lines)
	var body strings.Builder
	body.WriteString(lineDirective(pos, s.line))
	body.WriteString(strings.Join(lines[:k], "\n"))
	body.WriteString("\n")
	if k < len(lines) {
		body.WriteString("\nfunc _(" + strings.Join(params, ", ") + ") {\n")
		body.WriteString(lineDirective(pos, s.line+k))
		body.WriteString(strings.Join(lines[k:], "\n"))
		body.WriteString("\n}\n")
	}
	imports, err := neededImports("package " + pkg + "\n" + body.String())
	if err != nil {
		// A syntax error: let the compiler report it at its position.
		imports = nil
	}
	var b strings.Builder
	b.WriteString("package " + pkg + "\n\n")
	for _, name := range imports {
		p := autoImports[name]
		if name == "middleware" && !livesseMiddleware(root, body.String()) {
			p = chiMiddleware
		}
		fmt.Fprintf(&b, "import %s %q\n", name, p)
	}
	b.WriteString(body.String())
	return b.String(), embeds, nil
}

// neededImports returns the names in autoImports that src uses as
// name.Something without declaring or importing them, sorted.
func neededImports(src string) ([]string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), "", src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	imported := map[string]bool{}
	for _, spec := range f.Imports {
		p, _ := strconv.Unquote(spec.Path.Value)
		name := importName(p)
		if spec.Name != nil {
			name = spec.Name.Name
		}
		imported[name] = true
	}
	need := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		// id.Obj is nil for a name the file does not declare (the parser's
		// object resolution): a package name, or a sibling file's name.
		if id, ok := sel.X.(*ast.Ident); ok && id.Obj == nil && !imported[id.Name] && autoImports[id.Name] != "" {
			need[id.Name] = true
		}
		return true
	})
	var out []string
	for name := range need {
		out = append(out, name)
	}
	sort.Strings(out)
	return out, nil
}

const chiMiddleware = "github.com/go-chi/chi/v5/middleware"

// livesseMiddleware reports whether every name that src takes from
// middleware is exported by livesse's package middleware.
func livesseMiddleware(root, src string) bool {
	exported := map[string]bool{}
	dir := filepath.Join(root, "middleware")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return true
	}
	fset := token.NewFileSet()
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return true
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					exported[d.Name.Name] = true
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					switch spec := spec.(type) {
					case *ast.TypeSpec:
						exported[spec.Name.Name] = true
					case *ast.ValueSpec:
						for _, n := range spec.Names {
							exported[n.Name] = true
						}
					}
				}
			}
		}
	}
	f, err := parser.ParseFile(token.NewFileSet(), "", "package p\n"+src, parser.SkipObjectResolution)
	if err != nil {
		return true
	}
	ok := true
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, isSel := n.(*ast.SelectorExpr); isSel {
			if id, isID := sel.X.(*ast.Ident); isID && id.Name == "middleware" && !exported[sel.Sel.Name] {
				ok = false
			}
		}
		return true
	})
	return ok
}

// importName is the package name an import path gives by default.
func importName(p string) string {
	for name, ap := range autoImports {
		if ap == p && name == path.Base(strings.TrimSuffix(p, "/v5")) {
			return name
		}
	}
	base := path.Base(p)
	if len(base) > 1 && base[0] == 'v' && strings.Trim(base[1:], "0123456789") == "" {
		base = path.Base(path.Dir(p))
	}
	return base
}

// importsInternal returns an internal import path of src, if any.
func importsInternal(src string) string {
	f, err := parser.ParseFile(token.NewFileSet(), "", src, parser.ImportsOnly)
	if err != nil {
		return ""
	}
	for _, spec := range f.Imports {
		p, _ := strconv.Unquote(spec.Path.Value)
		if strings.Contains("/"+p+"/", "/internal/") {
			return p
		}
	}
	return ""
}

// check writes the snippets as packages under testdata and builds and vets
// them. It returns the go command's output and an error if they do not
// compile.
func check(t *testing.T, root string, snips []snippet) (string, error) {
	t.Helper()
	gs, err := group(snips)
	if err != nil {
		return err.Error(), err
	}
	gen, err := os.MkdirTemp("testdata", "gen-")
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("DOCSTEST_KEEP") == "" {
		t.Cleanup(func() { _ = os.RemoveAll(gen) })
	} else {
		t.Logf("DOCSTEST_KEEP: the generated packages stay in %s", gen)
	}
	var pkgs []string
	var problems []string
	for i, g := range gs {
		pkg := fmt.Sprintf("snippet%03d", i+1)
		dir := filepath.Join(gen, pkg)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		name := pkg
		if hasPackageClause(g[0].code) {
			name = packageName(g[0].code)
		}
		for j, s := range g {
			src, embeds, err := source(s, name, root)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%v: %v", s, err))
				continue
			}
			if p := importsInternal(src); p != "" {
				problems = append(problems, fmt.Sprintf("%v: imports %s, which readers cannot import", s, p))
			}
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("s%02d.go", j+1)), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, e := range embeds {
				if err := placeholder(dir, e); err != nil {
					problems = append(problems, fmt.Sprintf("%v: //go:embed %s: %v", s, e, err))
				}
			}
		}
		pkgs = append(pkgs, "./"+filepath.ToSlash(dir))
	}
	if len(problems) > 0 {
		msg := strings.Join(problems, "\n")
		return msg, fmt.Errorf("%s", msg)
	}
	for _, verb := range []string{"build", "vet"} {
		cmd := exec.Command(goTool(), append([]string{verb}, pkgs...)...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return fmt.Sprintf("go %s: %v\n%s", verb, err, out.String()), err
		}
	}
	return "", nil
}

// placeholder creates an empty file matching an embed pattern in dir.
func placeholder(dir, pattern string) error {
	name := regexp.MustCompile(`\[[^\]]*\]|[*?]`).ReplaceAllString(pattern, "x")
	if strings.HasPrefix(name, "/") || strings.Contains(name, "..") {
		return fmt.Errorf("pattern outside the package")
	}
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, nil, 0o644)
}

func packageName(code string) string {
	f, err := parser.ParseFile(token.NewFileSet(), "", code, parser.PackageClauseOnly)
	if err != nil {
		return "snippet"
	}
	return f.Name.Name
}

// goTool is the go command that runs the test: go test puts its GOROOT's
// bin first on the PATH of the test binary.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "go"
}

// moduleRoot is the directory of the module's go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("no go.mod at %s: %v", dir, err)
	}
	return dir
}
