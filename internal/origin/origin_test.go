package origin

import (
	"net/http/httptest"
	"testing"

	"github.com/matryer/is"
)

func TestCheckStream(t *testing.T) {
	c, err := New("https://admin.example")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		header map[string]string
		ok     bool
	}{
		{"not a browser", nil, true},
		{"same origin", map[string]string{"Sec-Fetch-Site": "same-origin"}, true},
		{"typed in the address bar", map[string]string{"Sec-Fetch-Site": "none"}, true},
		{"another origin of the site", map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "http://evil.example.com"}, false},
		{"another site", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, false},
		{"an old browser, another origin", map[string]string{"Origin": "http://example.com:8081"}, false},
		{"an old browser, own origin", map[string]string{"Origin": "http://example.com"}, true},
		{"a trusted origin", map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "https://admin.example"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "http://example.com/", nil)
			r.Header.Set("Accept", "text/event-stream")
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			is.New(t).Equal(c.CheckStream(r) == nil, tc.ok)
		})
	}
}
