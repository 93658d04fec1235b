package ltbrowser

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Gate sits in front of an app (Wrap): it holds the next live POST (one
// the client sends, asking for JSON) that its predicate picks until the
// test opens the gate, and records every live POST's fields with the seq
// its answer carries. Tests use it to make an older answer arrive after a
// newer one, or to see a loading state while an answer is held.
type Gate struct {
	mu       sync.Mutex
	hold     func(url.Values) bool
	held     chan struct{} // a POST is being held
	release  chan struct{} // closed by Open
	answered []gateAnswer
	changed  chan struct{} // a send for each answer
}

type gateAnswer struct {
	form url.Values
	seq  int
}

// NewGate returns an open Gate that holds nothing.
func NewGate() *Gate {
	return &Gate{held: make(chan struct{}, 1), release: make(chan struct{}), changed: make(chan struct{}, 100)}
}

// HoldNext makes the gate hold the next POST for which pick is true.
func (g *Gate) HoldNext(pick func(url.Values) bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.hold, g.release = pick, make(chan struct{})
}

// Open lets the held POST, if any, through.
func (g *Gate) Open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.release:
	default:
		close(g.release)
	}
}

// AwaitHeld waits, at most Timeout, until a POST is being held.
func (g *Gate) AwaitHeld() error {
	select {
	case <-g.held:
		return nil
	case <-time.After(Timeout):
		return fmt.Errorf("no POST was held within %v", Timeout)
	}
}

// AwaitAnswered waits, at most Timeout, until a POST for which pick is
// true has been answered.
func (g *Gate) AwaitAnswered(pick func(url.Values) bool) error {
	timeout := time.After(Timeout)
	for {
		g.mu.Lock()
		var seen []string
		for _, a := range g.answered {
			if pick(a.form) {
				g.mu.Unlock()
				return nil
			}
			seen = append(seen, a.form.Encode())
		}
		g.mu.Unlock()
		select {
		case <-g.changed:
		case <-time.After(10 * time.Millisecond): // a wake-up the full channel dropped
		case <-timeout:
			return fmt.Errorf("no such POST answered; answered: %q", seen)
		}
	}
}

// LastSeq is the highest seq of the answers so far.
func (g *Gate) LastSeq() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, a := range g.answered {
		n = max(n, a.seq)
	}
	return n
}

// Wrap returns next behind the gate. Requests other than live POSTs pass
// untouched.
func (g *Gate) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.Contains(r.Header.Get("Accept"), "application/json") {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		g.mu.Lock()
		hold, release := g.hold != nil && g.hold(form), g.release
		if hold {
			g.hold = nil
		}
		g.mu.Unlock()
		if hold {
			g.held <- struct{}{}
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		rec := &bodyRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		var msg struct {
			S int `json:"s"`
		}
		_ = json.Unmarshal(rec.body.Bytes(), &msg)
		g.mu.Lock()
		g.answered = append(g.answered, gateAnswer{form: form, seq: msg.S})
		g.mu.Unlock()
		select {
		case g.changed <- struct{}{}:
		default:
		}
	})
}

// bodyRecorder keeps a copy of the body written through it.
type bodyRecorder struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (r *bodyRecorder) Write(b []byte) (int, error) {
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

// NavigateResponse runs actions that navigate the tab and returns the
// response of the document that loaded, within Timeout.
func NavigateResponse(ctx context.Context, actions ...chromedp.Action[chromedp.Void]) (*network.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	return chromedp.RunResponse(ctx, actions...)
}

// DOMText reads an element's text, trimmed, through the DOM domain, which
// works with the page's scripts disabled.
func DOMText(ctx context.Context, sel string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(sel)))
	return strings.TrimSpace(s), err
}
