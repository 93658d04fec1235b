package livetree

import (
	"encoding/json"
	"fmt"
	"html/template"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"unicode/utf8"
)

// jsCase is one session of the oracle, as web/test/oracle-run.mjs reads it.
type jsCase struct {
	Name  string    `json:"name"`
	Steps []message `json:"steps"`
}

// jsSeeds are the seeds every template runs with: the oracle's seeds and
// more, fixed, random ones, for more list moves, inserts and removals.
func jsSeeds() [][]byte {
	out := append([][]byte(nil), seeds...)
	r := rand.New(rand.NewPCG(1, 2))
	for range 150 {
		b := make([]byte, 4+r.IntN(60))
		for i := range b {
			b[i] = byte(r.UintN(256))
		}
		out = append(out, b)
	}
	return out
}

// TestJavaScriptClientMatchesGoTwin replays the messages of the whole oracle
// corpus with the browser client's tree code (web/src/tree.js) and requires
// it to render, after every step, exactly what html/template renders, as the
// Go twin (Client) does.
func TestJavaScriptClientMatchesGoTwin(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("cannot check the JavaScript client: node is not on PATH")
		}
		t.Skip("skipping the JavaScript client check: node is not on PATH")
	}
	web, err := filepath.Abs(filepath.Join("..", "..", "web"))
	if err != nil {
		t.Fatal(err)
	}

	var cases []jsCase
	for _, name := range corpusNames() {
		for i, seed := range jsSeeds() {
			states := genStates(seed)
			s := newSession(t, parseCorpus(name), states[0])
			for _, st := range states {
				s.step(st)
			}
			for i := len(states) - 1; i >= 0; i-- {
				s.step(states[i])
			}
			cases = append(cases, jsCase{Name: fmt.Sprintf("%s seed %d", name, i), Steps: s.msgs})
		}
	}
	// Values that break the markers make the Go side fall back to whole
	// HTML and start a fresh client, twice.
	tm := template.Must(template.New("spoof").Parse(`<p>{{.H}}</p><ul>{{range .L}}<li id="k{{.}}">{{.}}</li>{{end}}</ul>`))
	state := func(h template.HTML, l ...int) map[string]any { return map[string]any{"H": h, "L": l} }
	s := newSession(t, tm, state(""))
	spoof := template.HTML("\x00" + s.marks.nonce + "e\x00")
	for _, st := range []map[string]any{
		state("a", 1, 2), state(spoof, 2), state("b", 2, 3), state("c", 3, 2, 1), state(spoof), state(spoof, 1), state("d", 1),
	} {
		s.step(st)
	}
	cases = append(cases, jsCase{Name: "spoofed markers", Steps: s.msgs})

	var kinds [4]int // tree, diff, html, nothing
	for _, c := range cases {
		for j, m := range c.Steps {
			if !utf8.ValidString(m.Want) {
				t.Fatalf("%s step %d: html/template output is not UTF-8, which JavaScript strings cannot carry", c.Name, j)
			}
			switch {
			case m.Tree != "":
				kinds[0]++
			case m.Diff != "":
				kinds[1]++
			case m.HTML != "":
				kinds[2]++
			default:
				kinds[3]++
			}
		}
	}
	t.Logf("%d sessions: %d trees, %d diffs, %d html fallbacks, %d steps without change",
		len(cases), kinds[0], kinds[1], kinds[2], kinds[3])
	if kinds[0] == 0 || kinds[1] == 0 || kinds[2] == 0 {
		t.Fatal("the corpus sends no trees, diffs or html")
	}

	in, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "cases.json")
	if err := os.WriteFile(file, in, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, filepath.Join("test", "oracle-run.mjs"), file)
	cmd.Dir = web
	cmd.Stderr = new(limitedBuffer)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node test/oracle-run.mjs: %v\n%s", err, cmd.Stderr)
	}
	var got [][]string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("oracle-run output: %v", err)
	}
	if len(got) != len(cases) {
		t.Fatalf("oracle-run answered %d sessions, want %d", len(got), len(cases))
	}
	for i, c := range cases {
		if len(got[i]) != len(c.Steps) {
			t.Fatalf("%s: oracle-run answered %d steps, want %d", c.Name, len(got[i]), len(c.Steps))
		}
		for j, m := range c.Steps {
			if got[i][j] != m.Want {
				t.Fatalf("%s step %d: JavaScript renders\n%q\nhtml/template renders\n%q\nmessage: tree %s diff %s statics %s html %q",
					c.Name, j, got[i][j], m.Want, m.Tree, m.Diff, m.Statics, m.HTML)
			}
		}
	}
}

// limitedBuffer keeps the first 64 KiB written to it.
type limitedBuffer struct{ b []byte }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := 64<<10 - len(l.b); room > 0 {
		l.b = append(l.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string { return string(l.b) }
