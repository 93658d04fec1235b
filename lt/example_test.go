package lt_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/livesse/livesse/lt"
)

type CounterState struct{ Count int }

type Counter struct{}

func (c *Counter) Increment(s CounterState, ctx *lt.Context) (CounterState, error) {
	s.Count++
	return s, nil
}

// The README's quickstart: a counter page mounted on chi. Two plain form
// posts (what a browser with JavaScript off sends) each run the action and
// redirect back to the page, which shows the session's count.
func ExampleNew() {
	page := lt.Must(lt.Parse("counter", `<p>{{.Count}}</p><form method="post"><button name="increment">+</button></form>`))
	h := lt.Must(lt.New(page, &Counter{}, CounterState{}))
	r := chi.NewRouter()
	r.Handle("/", h)

	srv := httptest.NewServer(r)
	defer srv.Close()
	defer h.Close()
	client := srv.Client()
	client.Jar, _ = cookiejar.New(nil)
	for range 2 {
		resp, err := client.PostForm(srv.URL+"/", url.Values{"increment": {""}})
		if err != nil {
			fmt.Println(err)
			return
		}
		html, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.Request.Method, resp.StatusCode, regexp.MustCompile(`<p>\d+</p>`).FindString(string(html)))
	}
	// Output:
	// GET 200 <p>1</p>
	// GET 200 <p>2</p>
}

// A server action reaches every open tab: here one event stream, read as a
// browser's EventSource would, gets the update that TriggerAll caused.
func ExampleHandler_TriggerAll() {
	page := lt.Must(lt.Parse("counter", `<p>count {{.Count}}</p>`))
	h := lt.Must(lt.New(page, &Counter{}, CounterState{}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.Close()

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := srv.Client().Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	next := func(prefix string) string { // the next line that starts with prefix
		for lines.Scan() {
			if strings.HasPrefix(lines.Text(), prefix) {
				return lines.Text()
			}
		}
		return ""
	}
	next("event: render") // the stream opened with the whole page
	fmt.Println("streams open:", h.Streams())

	if err := h.TriggerAll(context.Background(), "increment", nil); err != nil {
		fmt.Println(err)
		return
	}
	next("event: update")
	data := next("data: ") // {"c":"<connection id>","s":1,"d":{...}}
	_, diff, _ := strings.Cut(data, `"d":`)
	fmt.Println("the update changes one value:", strings.TrimSuffix(diff, "}"))
	// Output:
	// streams open: 1
	// the update changes one value: {"0":"1"}
}
