package ltprom_test

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/ltprom"
	"github.com/matryer/is"
	"github.com/prometheus/client_golang/prometheus"
)

// allMetrics returns every metric ltprom makes, by name, with its label
// names: each page measure reported once, and a Listener registered.
func allMetrics(t *testing.T) map[string][]string {
	t.Helper()
	reg := prometheus.NewRegistry()
	m := ltprom.New(reg)
	p := m.Page("p", []string{"A"})
	p.Refused("A", lt.RefusedGone)
	m.Published(1, false)
	m.Delivered(1)
	if err := m.RegisterListener(&fakeListener{channel: "livesse", h: healthy()}); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, mf := range mfs {
		var labels []string
		for _, lp := range mf.GetMetric()[0].GetLabel() {
			labels = append(labels, lp.GetName())
		}
		out[mf.GetName()] = labels
	}
	return out
}

var metricName = regexp.MustCompile(`livesse_[a-z_]+`)

// family strips a histogram's series suffix from a name.
func family(name string, known map[string][]string) string {
	for _, suffix := range []string{"_bucket", "_count", "_sum"} {
		if base, ok := strings.CutSuffix(name, suffix); ok {
			if _, isKnown := known[base]; isKnown {
				return base
			}
		}
	}
	return name
}

// docs/metrics.md lists every metric in a table row of its own, with its
// labels, and names none that does not exist.
func TestDocsListEveryMetric(t *testing.T) {
	is := is.New(t)
	known := allMetrics(t)
	doc, err := os.ReadFile("../../docs/metrics.md")
	is.NoErr(err)
	rows := map[string]string{} // metric name -> its table row
	for _, line := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(line, "| `livesse_") {
			name := strings.Trim(strings.Split(line, "|")[1], " `")
			rows[name] = line
		}
	}
	for name, labels := range known {
		row, ok := rows[name]
		if !ok {
			t.Errorf("docs/metrics.md has no row for %s", name)
			continue
		}
		cells := strings.Split(row, "|")
		documented := strings.FieldsFunc(cells[3], func(r rune) bool { return r == ',' || r == ' ' })
		slices.Sort(documented)
		if !slices.Equal(documented, labels) {
			t.Errorf("docs/metrics.md: %s has labels %v, documented as %v", name, labels, documented)
		}
	}
	for _, name := range metricName.FindAllString(string(doc), -1) {
		if _, ok := known[family(name, known)]; !ok {
			t.Errorf("docs/metrics.md names %s, which ltprom does not make", name)
		}
	}
}

// The Grafana dashboard queries only metrics that exist, by labels they
// have, and shows each of the measures.
func TestGrafanaDashboard(t *testing.T) {
	is := is.New(t)
	known := allMetrics(t)
	raw, err := os.ReadFile("../../docs/grafana-livesse.json")
	is.NoErr(err)
	var dash struct {
		UID    string `json:"uid"`
		Panels []struct {
			Type    string `json:"type"`
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	is.NoErr(json.Unmarshal(raw, &dash))
	is.Equal(dash.UID, "livesse")
	used := map[string]bool{}
	for _, p := range dash.Panels {
		if p.Type == "row" {
			continue
		}
		is.True(len(p.Targets) > 0) // every panel queries something
		for _, tg := range p.Targets {
			e := tg.Expr
			if !balanced(e) {
				t.Errorf("panel %q: unbalanced brackets in %s", p.Title, e)
			}
			for _, name := range metricName.FindAllString(e, -1) {
				f := family(name, known)
				labels, ok := known[f]
				if !ok {
					t.Errorf("panel %q queries %s, which ltprom does not make", p.Title, name)
					continue
				}
				used[f] = true
				// Every label it selects on or groups by is the metric's
				// own, or the target's instance (or le, for buckets).
				for _, l := range labelsIn(e) {
					if l != "instance" && l != "le" && !slices.Contains(labels, l) && !strings.HasSuffix(name, "_bucket") {
						t.Errorf("panel %q: %s has no label %s", p.Title, name, l)
					}
				}
			}
		}
	}
	for _, name := range []string{
		"livesse_connections", "livesse_streams", "livesse_stream_tabs", "livesse_actions_total",
		"livesse_refused_requests_total", "livesse_action_duration_seconds", "livesse_render_duration_seconds",
		"livesse_sent_bytes_total", "livesse_sent_events_total", "livesse_heartbeats_total", "livesse_resumes_total",
		"livesse_queued_jobs", "livesse_queue_overflows_total", "livesse_fanout_duration_seconds",
		"livesse_pgnotify_delivery_lag_seconds", "livesse_pgnotify_refused_total", "livesse_pgnotify_reconnects_total",
		"livesse_pgnotify_large_messages", "livesse_pgnotify_large_messages_bytes", "livesse_pgnotify_published_messages_total",
	} {
		if !used[name] {
			t.Errorf("no panel shows %s", name)
		}
	}
}

// balanced tells whether e's brackets pair up (outside strings).
func balanced(e string) bool {
	var stack []rune
	inString := false
	for _, r := range e {
		switch {
		case r == '"':
			inString = !inString
		case inString:
		case r == '(' || r == '{' || r == '[':
			stack = append(stack, r)
		case r == ')' || r == '}' || r == ']':
			open := map[rune]rune{')': '(', '}': '{', ']': '['}[r]
			if len(stack) == 0 || stack[len(stack)-1] != open {
				return false
			}
			stack = stack[:len(stack)-1]
		}
	}
	return len(stack) == 0 && !inString
}

var (
	matcherLabel = regexp.MustCompile(`([a-z_]+)\s*(?:=~|!=|!~|=)\s*"`)
	byClause     = regexp.MustCompile(`by \(([^)]*)\)`)
)

// labelsIn returns the label names an expression matches on or groups by.
func labelsIn(e string) []string {
	var out []string
	for _, m := range matcherLabel.FindAllStringSubmatch(e, -1) {
		out = append(out, m[1])
	}
	for _, m := range byClause.FindAllStringSubmatch(e, -1) {
		for _, l := range strings.Split(m[1], ",") {
			out = append(out, strings.TrimSpace(l))
		}
	}
	return out
}
