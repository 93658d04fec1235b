package lt_test

import (
	"fmt"
	"io"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"

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
