package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/ltbrowser"
	"github.com/matryer/is"
)

// waitTimeout bounds every wait of these tests.
const waitTimeout = 10 * time.Second

// scrapeMetrics GETs /metrics and returns each sample's value by its name
// and labels as the text exposition writes them (labels sorted by name),
// such as `livesse_streams{page="counter"}`.
func scrapeMetrics(t *testing.T, base string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("sample %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// expect checks samples against want, naming every difference.
func expect(t *testing.T, samples map[string]float64, want map[string]float64) {
	t.Helper()
	for k, v := range want {
		got, ok := samples[k]
		switch {
		case !ok:
			t.Errorf("no sample %s", k)
		case got != v:
			t.Errorf("%s = %v, want %v", k, got, v)
		}
	}
}

// awaitMetrics scrapes /metrics until the samples in want have their
// values, failing the test if they do not within waitTimeout. It is for
// what lt does after the client can see it (a replaced stream ends once
// its successor is live).
func awaitMetrics(t *testing.T, base string, want map[string]float64) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		s := scrapeMetrics(t, base)
		ok := true
		for k, v := range want {
			ok = ok && s[k] == v
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			expect(t, s, want)
			t.Fatalf("the metrics did not reach these values within %v", waitTimeout)
		}
		<-tick.C
	}
}

// metric labels a metric of the counter page: metric(`livesse_streams`)
// is `livesse_streams{page="counter"}`; labels come sorted by name, with
// page in its place among them.
func metric(name string, labels ...string) string {
	all := append([]string{`page="counter"`}, labels...)
	for i := 1; i < len(all); i++ { // a few labels: insertion sort
		for j := i; j > 0 && all[j] < all[j-1]; j-- {
			all[j], all[j-1] = all[j-1], all[j]
		}
	}
	return name + "{" + strings.Join(all, ",") + "}"
}

func action(name, origin, outcome string) string {
	return metric("livesse_actions_total", `action="`+name+`"`, `origin="`+origin+`"`, `outcome="`+outcome+`"`)
}

func refused(reason string) string { return refusedAction("", reason) }

// refusedAction is a refusal that came after the request named action.
func refusedAction(action, reason string) string {
	return metric("livesse_refused_requests_total", `action="`+action+`"`, `reason="`+reason+`"`)
}

// rawTab is a tab whose event stream the test reads itself, byte by byte,
// so that it knows exactly what lt wrote to it: every event (heartbeats
// too) and every byte, which the metrics must match.
type rawTab struct {
	t      *testing.T
	url    string
	client *http.Client
	conn   string
	seq    uint64     // the newest sequence number its stream delivered
	s      *rawStream // its newest stream
}

// rawStream is one stream a rawTab opened.
type rawStream struct {
	events chan sseEvent
	done   chan struct{} // closed when the stream has ended
	// Set when done is closed: what the stream carried.
	bytes, frames, heartbeats int
}

type sseEvent struct {
	Type string
	Conn string // its c
	Seq  uint64 // its s
}

// decode reads c and s from an event's JSON. (Not into a struct: json
// matches keys without regard to case, and the statics are "S".)
func (ev *sseEvent) decode(data []byte) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil {
		return false
	}
	return json.Unmarshal(m["c"], &ev.Conn) == nil && json.Unmarshal(m["s"], &ev.Seq) == nil
}

var connRE = regexp.MustCompile(`data-lt-conn="([^"]+)"`)

// openRaw loads the page in a new session (or jar's) and opens its stream,
// returning once the stream's first render has arrived.
func openRaw(t *testing.T, pageURL string, jar http.CookieJar) *rawTab {
	t.Helper()
	if jar == nil {
		jar, _ = cookiejar.New(nil)
	}
	tab := &rawTab{t: t, url: pageURL, client: &http.Client{Jar: jar}}
	resp, err := tab.client.Get(pageURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := connRE.FindSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("GET %s: %s, no connection id", pageURL, resp.Status)
	}
	tab.conn = string(m[1])
	tab.stream(url.Values{"_lt_conn": {tab.conn}})
	if ev := tab.next(); ev.Type != "render" {
		t.Fatalf("first event %q, want render", ev.Type)
	}
	return tab
}

// stream opens a stream with the query q, read by a goroutine until the
// server ends it.
func (tab *rawTab) stream(q url.Values) {
	tab.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, tab.url+"?"+q.Encode(), nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := tab.client.Do(req)
	if err != nil {
		tab.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		tab.t.Fatalf("stream: %s", resp.Status)
	}
	st := &rawStream{events: make(chan sseEvent, 1024), done: make(chan struct{})}
	tab.s = st
	go func() {
		defer close(st.done)
		defer resp.Body.Close()
		r := bufio.NewReader(resp.Body)
		var ev sseEvent
		var data []byte
		for {
			line, err := r.ReadBytes('\n')
			st.bytes += len(line)
			if err != nil {
				return
			}
			switch {
			case len(line) == 1: // the blank line that ends an event
				st.frames++
				if ev.Type == "hb" {
					st.heartbeats++
				} else if ev.decode(data) {
					st.events <- ev // buffered beyond what a test sends
				}
				ev, data = sseEvent{}, nil
			case bytes.HasPrefix(line, []byte("event: ")):
				ev.Type = string(bytes.TrimSpace(line[len("event: "):]))
			case bytes.HasPrefix(line, []byte("data: ")):
				data = append(data, bytes.TrimSpace(line[len("data: "):])...)
			}
		}
	}()
}

// next returns the stream's next event (heartbeats are only counted).
func (tab *rawTab) next() sseEvent {
	tab.t.Helper()
	select {
	case ev := <-tab.s.events:
		tab.seq = max(tab.seq, ev.Seq)
		return ev
	case <-time.After(waitTimeout):
		tab.t.Fatal("no event on the stream")
		return sseEvent{}
	}
}

// awaitSeq reads the stream until it has delivered seq.
func (tab *rawTab) awaitSeq(seq uint64) {
	tab.t.Helper()
	for tab.seq < seq {
		tab.next()
	}
}

// awaitEnd waits until the server has ended the stream and the reader has
// counted all of it.
func (st *rawStream) awaitEnd(t *testing.T) {
	t.Helper()
	select {
	case <-st.done:
	case <-time.After(waitTimeout):
		t.Fatal("the stream did not end")
	}
}

// post sends a form POST to the page with headers, as the JavaScript
// client does when fields hold _lt_conn, and returns the status and the
// sequence number of the update it answers with (0 if none).
func (tab *rawTab) post(fields url.Values, header http.Header) (int, uint64) {
	tab.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, tab.url, strings.NewReader(fields.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if fields.Has("_lt_conn") {
		req.Header.Set("Accept", "application/json")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	client := *tab.client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		tab.t.Fatal(err)
	}
	defer resp.Body.Close()
	var answer struct {
		S uint64 `json:"s"`
	}
	body, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(body, &answer) // a refusal's body has no s
	return resp.StatusCode, answer.S
}

// act runs action on the tab's connection and returns the status and the
// answer's sequence number.
func (tab *rawTab) act(action string) (int, uint64) {
	tab.t.Helper()
	return tab.post(url.Values{"_lt_conn": {tab.conn}, "_lt_action": {action}}, nil)
}

// After real streams, actions, refusals, a server action and resumes,
// /metrics reports exactly what was done; once the Handler is closed
// (which waits for every job and stream) the gauges are back at zero and
// the streams' events and bytes are what the tabs read, to the byte.
func TestMetricsScrape(t *testing.T) {
	is := is.New(t)
	router, h, err := newRouter(true)
	is.NoErr(err)
	srv := httptest.NewServer(router)
	defer srv.Close()
	defer h.Close()
	page := srv.URL + "/"

	before := scrapeMetrics(t, srv.URL)
	expect(t, before, map[string]float64{
		metric("livesse_connections"):                    0,
		action("Increment", "client", lt.OutcomeOK):      0, // made when the Handler was
		action("Reset", "server", lt.OutcomeError):       0,
		metric("livesse_sent_events_total"):              0,
		metric("livesse_resumes_total", `mode="replay"`): 0,
	})

	// Three tabs, each its own session, page and stream.
	tabs := []*rawTab{openRaw(t, page, nil), openRaw(t, page, nil), openRaw(t, page, nil)}
	s := scrapeMetrics(t, srv.URL)
	expect(t, s, map[string]float64{
		metric("livesse_connections"): 3, // counted by the page GET
		metric("livesse_streams"):     3, // counted before the stream's first event
		metric("livesse_stream_tabs"): 3,
	})

	// Client actions: an answer comes after the action is counted.
	const increments, failing = 5, 2
	for i := range increments {
		status, seq := tabs[0].act("increment")
		is.Equal(status, http.StatusOK)
		is.Equal(seq, uint64(i+1))
	}
	for range failing {
		status, _ := tabs[1].act("decrement") // below zero: the action's error
		is.Equal(status, http.StatusUnprocessableEntity)
	}
	status, _ := tabs[2].act("reset") // changes nothing: no update, still an action
	is.Equal(status, http.StatusOK)
	// A form post without JavaScript runs on the session's saved state.
	status, _ = tabs[2].post(url.Values{"increment": {""}}, nil)
	is.Equal(status, http.StatusSeeOther)

	// Refused requests: one of each reason, two malformed.
	status, _ = tabs[0].act("explode")
	is.Equal(status, http.StatusBadRequest)
	status, _ = tabs[0].post(url.Values{"_lt_conn": {tabs[0].conn}, "increment": {""}, "reset": {""}}, nil) // two actions named
	is.Equal(status, http.StatusBadRequest)
	status, _ = tabs[0].post(url.Values{"_lt_conn": {tabs[0].conn}, "_lt_action": {"increment"}},
		http.Header{"Content-Type": {"application/json"}}) // not a form
	is.Equal(status, http.StatusUnsupportedMediaType)
	status, _ = tabs[0].post(url.Values{"_lt_conn": {tabs[0].conn}, "_lt_action": {"increment"}},
		http.Header{"Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}})
	is.Equal(status, http.StatusForbidden)
	status, _ = tabs[0].post(url.Values{"_lt_conn": {tabs[1].conn}, "_lt_action": {"increment"}}, nil) // another session's
	is.Equal(status, http.StatusForbidden)
	status, _ = tabs[0].post(url.Values{"_lt_conn": {"AAAAAAAAAAAAAAAAAAAAAA"}, "_lt_action": {"increment"}}, nil)
	is.Equal(status, http.StatusGone)

	s = scrapeMetrics(t, srv.URL)
	expect(t, s, map[string]float64{
		action("Increment", "client", lt.OutcomeOK):                                              increments + 1, // the form post too
		action("Decrement", "client", lt.OutcomeError):                                           failing,
		action("Decrement", "client", lt.OutcomeOK):                                              0,
		action("Reset", "client", lt.OutcomeOK):                                                  1,
		action("Increment", "server", lt.OutcomeOK):                                              0,
		metric("livesse_action_duration_seconds_count", `action="Increment"`, `origin="client"`): increments + 1,
		metric("livesse_action_duration_seconds_count", `action="Decrement"`, `origin="client"`): failing,
		refused(lt.RefusedUnknownAction):                                                         1,
		refused(lt.RefusedBadRequest):                                                            2,
		refused(lt.RefusedCrossSite):                                                             1,
		refusedAction("Increment", lt.RefusedForeign):                                            1,
		refusedAction("Increment", lt.RefusedGone):                                               1,
		metric("livesse_connections"):                                                            3,
	})

	// Resumes: tab 0 reconnects after the newest update it got, from the
	// log; a fourth stream names a connection that does not exist and
	// gets a full render, with a new connection.
	tabs[0].awaitSeq(increments)
	first := tabs[0].s
	tabs[0].stream(url.Values{"_lt_conn": {tabs[0].conn}, "_lt_seq": {strconv.FormatUint(tabs[0].seq, 10)}})
	first.awaitEnd(t) // the new stream ended the old one
	fresh := &rawTab{t: t, url: page, client: &http.Client{Jar: tabs[2].client.Jar}}
	fresh.stream(url.Values{"_lt_conn": {"BBBBBBBBBBBBBBBBBBBBBB"}, "_lt_seq": {"7"}})
	ev := fresh.next()
	is.Equal(ev.Type, "render")
	fresh.conn = ev.Conn

	// A server action on every connection: each tab's count changes, so
	// each stream gets an update.
	is.NoErr(h.TriggerAll(context.Background(), "increment", map[string]any{"step": 10}))
	want := map[*rawTab]uint64{}
	for _, tab := range append(tabs, fresh) {
		want[tab] = tab.seq + 1
	}
	for tab, seq := range want {
		tab.awaitSeq(seq)
	}

	// Closing the Handler waits for its jobs and streams: every measure
	// has been reported, and each stream has been read to its end.
	is.NoErr(h.Close())
	streams := []*rawStream{first, tabs[0].s, tabs[1].s, tabs[2].s, fresh.s}
	frames, bytesRead, heartbeats := 0, 0, 0
	for _, st := range streams {
		st.awaitEnd(t)
		frames += st.frames
		bytesRead += st.bytes
		heartbeats += st.heartbeats
	}
	s = scrapeMetrics(t, srv.URL)
	expect(t, s, map[string]float64{
		action("Increment", "server", lt.OutcomeOK):                                              4,
		metric("livesse_fanout_duration_seconds_count"):                                          1,
		metric("livesse_fanout_connections_total"):                                               4,
		metric("livesse_resumes_total", `mode="replay"`):                                         1,
		metric("livesse_resumes_total", `mode="render"`):                                         1,
		metric("livesse_sent_events_total"):                                                      float64(frames),
		metric("livesse_sent_bytes_total"):                                                       float64(bytesRead),
		metric("livesse_heartbeats_total"):                                                       float64(heartbeats),
		metric("livesse_connections"):                                                            0,
		metric("livesse_streams"):                                                                0,
		metric("livesse_stream_tabs"):                                                            0,
		metric("livesse_queued_jobs"):                                                            0,
		metric("livesse_queue_overflows_total"):                                                  0,
		action("Increment", "client", lt.OutcomeOK):                                              increments + 1, // unchanged
		refusedAction("Increment", lt.RefusedGone):                                               1,
		metric("livesse_action_duration_seconds_count", `action="Increment"`, `origin="server"`): 4,
	})
	// Every render and diff: the live actions', and one for each distinct
	// state the server action left (a fan-out renders equal states once):
	// tab 0 at 15, tabs 1 and 2 both at 10, the fresh tab at 11 (it
	// mounted from the saved state the form post left). A form post
	// without JavaScript renders the page, not a diff.
	is.Equal(s[metric("livesse_render_duration_seconds_count")], float64(increments+failing+1+3))
	is.True(heartbeats >= len(streams)) // one as each stream opened
	t.Logf("%d streams carried %d events (%d heartbeats), %d bytes", len(streams), frames, heartbeats, bytesRead)
}

// Two tabs of one browser share one stream; their clicks, and a refused
// click, are counted as the page's actions.
func TestBrowserMetrics(t *testing.T) {
	is := is.New(t)
	router, h, err := newRouter(true)
	is.NoErr(err)
	srv := ltbrowser.Serve(t, router, h)
	first := ltbrowser.New(t)
	second := ltbrowser.NewTab(t, first)
	for _, tab := range []context.Context{first, second} {
		is.NoErr(ltbrowser.Do(tab, chromedp.Navigate(srv.URL+"/")))
		is.NoErr(ltbrowser.WaitStatus(tab, "online"))
	}
	is.Equal(scrapeMetrics(t, srv.URL)[metric("livesse_connections")], 2.0) // one per page load
	// The second tab joins the first one's stream, which reconnects with
	// both; the stream it replaces ends soon after.
	awaitMetrics(t, srv.URL, map[string]float64{metric("livesse_streams"): 1, metric("livesse_stream_tabs"): 2})

	const clicks = 3
	for i := range clicks {
		is.NoErr(ltbrowser.Do(first, chromedp.Click(chromedp.ID("inc"))))
		is.NoErr(ltbrowser.WaitText(first, "#count", strconv.Itoa(i+1)))
	}
	is.NoErr(ltbrowser.Do(second, chromedp.Click(chromedp.ID("inc"))))
	is.NoErr(ltbrowser.WaitText(second, "#count", "1")) // each tab has its own state
	is.NoErr(ltbrowser.Do(second, chromedp.Click(chromedp.ID("reset"))))
	is.NoErr(ltbrowser.WaitText(second, "#count", "0"))
	is.NoErr(ltbrowser.Do(second, chromedp.Click(chromedp.ID("dec")))) // below zero
	is.NoErr(ltbrowser.WaitTextContains(second, "#error", "cannot go below zero"))

	// The click's update may reach the page on the stream before its POST
	// has been counted: Close waits for the connections' jobs.
	is.NoErr(h.Close())
	s := scrapeMetrics(t, srv.URL)
	expect(t, s, map[string]float64{
		action("Increment", "client", lt.OutcomeOK):    clicks + 1,
		action("Reset", "client", lt.OutcomeOK):        1,
		action("Decrement", "client", lt.OutcomeError): 1,
		metric("livesse_connections"):                  0,
		metric("livesse_streams"):                      0,
		metric("livesse_stream_tabs"):                  0,
	})
	is.True(s[metric("livesse_sent_events_total")] >= clicks+2) // the renders and the updates at least
}
