package main

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/livesse/livesse/internal/test/pgtest"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
	"go.uber.org/goleak"
)

// testSecret is the instances' shared secret in the tests.
var testSecret = []byte("orders test secret: 32 bytes or more")

// TestMain checks that no test leaves a goroutine behind: the handlers,
// the Listeners, the pools and chromedp's browser are all shut down by the
// tests' cleanups.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// startApp starts one instance of the app on db's database, with a pool of
// its own as a separate process would have. The Listener and the pool
// close when the test ends, after the page (which ltbrowser.Serve or the
// caller closes).
func startApp(t *testing.T, db *pgxpool.Pool, instance string) *app {
	t.Helper()
	pool := pgtest.Reopen(t, db)
	a, err := newApp(t.Context(), pool, instance, [][]byte{testSecret}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.listener.Close() })
	return a
}

func serveApp(t *testing.T, a *app) *httptest.Server {
	srv := httptest.NewServer(a.router)
	t.Cleanup(func() { _ = a.page.Close(); srv.Close() })
	return srv
}

func TestTwoInstancesOverTheWire(t *testing.T) {
	is := is.New(t)
	db := pgtest.Pool(t)
	a, b := startApp(t, db, "a"), startApp(t, db, "b")
	srvA, srvB := serveApp(t, a), serveApp(t, b)
	onA := lttest.Open(t, srvA.URL+"/")
	onB := lttest.Open(t, srvB.URL+"/")
	is.True(strings.Contains(onA.HTML(), `<output id="count">0</output>`))
	is.True(strings.Contains(onB.HTML(), `<code id="instance">b</code>`))

	// psql's INSERT: the trigger refreshes both instances' tabs.
	_, err := db.Exec(t.Context(), `INSERT INTO orders (customer, amount) VALUES ('Ada', 12.50), ('Bob', 7.25)`)
	is.NoErr(err)
	for _, tab := range []*lttest.Tab{onA, onB} {
		ev := tab.WaitFor(`<output id="count">2</output>`)
		is.True(strings.Contains(ev.HTML, `<output id="total">19.75</output>`))
		is.True(strings.Contains(ev.HTML, `<td class="customer">Ada</td>`))
		is.True(strings.Contains(ev.HTML, "2 new orders"))
	}

	// An order added on b's page reaches a's tab through the trigger.
	r := onB.Act("add_order", url.Values{"customer": {"Cy"}, "amount": {"0.25"}})
	is.Equal(r.Status, http.StatusOK)
	is.True(strings.Contains(r.HTML, `<output id="count">3</output>`)) // the acting tab at once
	onA.WaitFor(`<td class="customer">Cy</td>`)
	r = onB.Act("add_order", url.Values{"customer": {"Cy"}, "amount": {"-1"}})
	is.True(strings.Contains(r.Error, "positive number"))
	r = onB.Act("show_announcement", url.Values{"text": {"spoofed"}, "from": {"a"}})
	is.True(strings.Contains(r.Error, "sent with announce"))

	// An announcement on a reaches b.
	r = onA.Act("announce", url.Values{"text": {"Lunch at noon"}})
	is.Equal(r.Status, http.StatusOK)
	onB.WaitFor("Lunch at noon (from instance a)")
	onA.WaitFor("Lunch at noon (from instance a)")
}

func TestHealthz(t *testing.T) {
	is := is.New(t)
	db := pgtest.Pool(t)
	a := startApp(t, db, "a")
	srv := serveApp(t, a)
	resp, err := http.Get(srv.URL + "/healthz")
	is.NoErr(err)
	defer resp.Body.Close()
	is.Equal(resp.StatusCode, http.StatusOK)
	var h struct {
		Instance   string  `json:"instance"`
		Connected  bool    `json:"connected"`
		QueueUsage float64 `json:"queue_usage"`
		Error      string  `json:"error"`
	}
	is.NoErr(json.NewDecoder(resp.Body).Decode(&h))
	is.Equal(h.Instance, "a")
	is.True(h.Connected)
	is.Equal(h.QueueUsage, 0.0)
	is.Equal(h.Error, "")

	is.NoErr(a.listener.Close()) // a closed listener is not ready
	resp2, err := http.Get(srv.URL + "/healthz")
	is.NoErr(err)
	resp2.Body.Close()
	is.Equal(resp2.StatusCode, http.StatusServiceUnavailable)
}

func TestNeedDatabase(t *testing.T) {
	is := is.New(t)
	err := needDatabase([]string{"HOME=/root", "PATH=/bin", "DATABASE_URL=", "PGHOST=", "PG_CONFIG=/usr/bin/pg_config"})
	is.True(err != nil)
	is.True(strings.Contains(err.Error(), "DATABASE_URL"))
	is.True(strings.Contains(err.Error(), "PGHOST"))
	is.NoErr(needDatabase([]string{"DATABASE_URL=postgres://x@y/z"}))
	is.NoErr(needDatabase([]string{"PGHOST=/var/run/postgresql"}))
}

// The secret comes from the environment, with a clear error when it is
// missing or short.
func TestSecretsFrom(t *testing.T) {
	is := is.New(t)
	_, err := secretsFrom([]string{"DATABASE_URL=postgres://x@y/z"})
	is.True(err != nil)
	is.True(strings.Contains(err.Error(), "LIVESSE_SECRET is not set"))
	is.True(strings.Contains(err.Error(), "openssl rand -hex 32"))
	_, err = secretsFrom([]string{"LIVESSE_SECRET=short"})
	is.True(strings.Contains(err.Error(), "LIVESSE_SECRET is 5 bytes, under 32"))
	hex64 := strings.Repeat("ab", 32)
	s, err := secretsFrom([]string{"LIVESSE_SECRET=" + hex64})
	is.NoErr(err)
	is.Equal(s, [][]byte{[]byte(hex64)})
	s, err = secretsFrom([]string{"LIVESSE_SECRET=" + hex64, "LIVESSE_PREVIOUS_SECRETS=" + strings.Repeat("c", 32) + ", " + strings.Repeat("d", 40)})
	is.NoErr(err)
	is.Equal(len(s), 3)
	_, err = secretsFrom([]string{"LIVESSE_SECRET=" + hex64, "LIVESSE_PREVIOUS_SECRETS=tooshort"})
	is.True(err != nil)
}
