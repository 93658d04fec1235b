package main

import (
	"strings"
	"testing"

	"github.com/matryer/is"
)

// A stream as govulncheck -format json writes it: a vulnerability the
// code calls in the standard library, one in a module (reached through
// two traces), and one only imported.
const stream = `{"config": {"protocol_version": "v1.0.0"}}
{"osv": {"id": "GO-1", "summary": "a stdlib bug"}}
{"osv": {"id": "GO-2", "summary": "a module bug"}}
{"osv": {"id": "GO-3", "summary": "not called"}}
{"finding": {"osv": "GO-1", "fixed_version": "v1.26.9", "trace": [{"module": "stdlib", "version": "v1.26.8"}]}}
{"finding": {"osv": "GO-1", "fixed_version": "v1.26.9", "trace": [{"module": "stdlib", "version": "v1.26.8", "package": "html/template", "function": "Execute", "receiver": "*Template"}, {"module": "example.com/app", "function": "main"}]}}
{"finding": {"osv": "GO-2", "fixed_version": "v0.2.0", "trace": [{"module": "example.com/dep", "version": "v0.1.0", "package": "example.com/dep/x", "function": "Do"}]}}
{"finding": {"osv": "GO-2", "fixed_version": "v0.2.0", "trace": [{"module": "example.com/dep", "version": "v0.1.0", "package": "example.com/dep/x", "function": "Do"}, {"function": "other"}]}}
{"finding": {"osv": "GO-3", "fixed_version": "v1.0.0", "trace": [{"module": "example.com/lib", "version": "v0.9.0", "package": "example.com/lib"}]}}
`

func TestRead(t *testing.T) {
	for _, tc := range []struct {
		name      string
		in        string
		called    []string
		stdlib    int
		notCalled int
		err       bool
	}{
		{"nothing found", `{"config": {}}`, nil, 0, 0, false},
		{"called and not", stream, []string{
			"GO-1 stdlib@v1.26.8 (fixed in v1.26.9): html/template.Template.Execute: a stdlib bug",
			"GO-2 example.com/dep@v0.1.0 (fixed in v0.2.0): example.com/dep/x.Do: a module bug",
		}, 1, 1, false},
		{"not JSON", "{", nil, 0, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			is := is.New(t)
			rep, err := read(strings.NewReader(tc.in))
			is.Equal(err != nil, tc.err)
			is.Equal(rep.called, tc.called)
			is.Equal(rep.stdlib, tc.stdlib)
			is.Equal(rep.notCalled, tc.notCalled)
		})
	}
}
