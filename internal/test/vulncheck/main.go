// Command vulncheck reads govulncheck's JSON output (govulncheck -format
// json) on its standard input and reports the vulnerabilities the code
// calls, one line each, by module. It exits with status 1 when the code
// calls a vulnerability in a module it requires. Vulnerabilities of the
// standard library fail it too, unless -stdlib=warn: then they are
// reported as a warning, for a machine whose Go cannot be upgraded to the
// fixed release yet. Vulnerabilities in code that is imported but not
// called are counted, not listed. scripts/test.sh runs it:
//
//	govulncheck -db file://$db -format json ./... | go run ./internal/test/vulncheck -stdlib=warn
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// message is one of govulncheck's JSON messages (golang.org/x/vuln's
// protocol v1.0.0): only the parts read here.
type message struct {
	OSV *struct {
		ID      string `json:"id"`
		Summary string `json:"summary"`
	} `json:"osv"`
	Finding *finding `json:"finding"`
}

type finding struct {
	OSV          string  `json:"osv"`
	FixedVersion string  `json:"fixed_version"`
	Trace        []frame `json:"trace"`
}

type frame struct {
	Module   string `json:"module"`
	Version  string `json:"version"`
	Package  string `json:"package"`
	Function string `json:"function"`
	Receiver string `json:"receiver"`
}

// report is what the findings come to.
type report struct {
	called    []string // one line per called vulnerability
	stdlib    int      // how many of them are the standard library's
	notCalled int      // vulnerabilities imported or required but not called
}

// read decodes govulncheck's JSON stream and sums it up.
func read(r io.Reader) (report, error) {
	var rep report
	summaries := map[string]string{}
	type key struct{ osv, module string }
	called := map[key]string{}
	seen := map[string]bool{}
	dec := json.NewDecoder(r)
	for {
		var m message
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return report{}, fmt.Errorf("vulncheck: reading govulncheck's JSON: %w", err)
		}
		switch {
		case m.OSV != nil:
			summaries[m.OSV.ID] = m.OSV.Summary
		case m.Finding != nil && len(m.Finding.Trace) > 0:
			f := m.Finding
			seen[f.OSV] = true
			top := f.Trace[0]
			if top.Function == "" {
				continue // the package or module only: not called
			}
			k := key{f.OSV, top.Module}
			if _, ok := called[k]; ok {
				continue
			}
			fn := top.Function
			if top.Receiver != "" {
				fn = strings.TrimPrefix(top.Receiver, "*") + "." + fn
			}
			called[k] = fmt.Sprintf("%s %s@%s (fixed in %s): %s.%s", f.OSV, top.Module, top.Version, f.FixedVersion, top.Package, fn)
		}
	}
	calledIDs := map[string]bool{}
	for k, line := range called {
		calledIDs[k.osv] = true
		if s := summaries[k.osv]; s != "" {
			line += ": " + s
		}
		rep.called = append(rep.called, line)
		if k.module == "stdlib" {
			rep.stdlib++
		}
	}
	slices.Sort(rep.called)
	for id := range seen {
		if !calledIDs[id] {
			rep.notCalled++
		}
	}
	return rep, nil
}

func main() {
	stdlib := flag.String("stdlib", "fail", "what the standard library's vulnerabilities do: fail or warn")
	flag.Parse()
	if *stdlib != "fail" && *stdlib != "warn" {
		fmt.Fprintf(os.Stderr, "vulncheck: -stdlib=%s: want fail or warn\n", *stdlib)
		os.Exit(2)
	}
	rep, err := read(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for _, line := range rep.called {
		fmt.Println("vulncheck: called:", line)
	}
	modules := len(rep.called) - rep.stdlib
	fmt.Printf("vulncheck: %d called in required modules, %d in the standard library, %d more imported or required but not called\n", modules, rep.stdlib, rep.notCalled)
	switch {
	case modules > 0:
		os.Exit(1)
	case rep.stdlib > 0 && *stdlib == "fail":
		os.Exit(1)
	case rep.stdlib > 0:
		fmt.Println("vulncheck: WARNING: the standard library's are fixed by a newer Go release than this machine's (see above)")
	}
}
