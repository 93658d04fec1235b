package attack

import (
	"context"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
)

// Internal details the errors below carry: none may reach a browser.
const (
	mountSecret = `password authentication failed for user "billing_admin"`
	panicSecret = "api_key=sk_live_9f8e7d"
	dbSecret    = "permission denied for table credit_cards"
)

type errCtrl struct{}

func (c *errCtrl) Mount(s countState, ctx *lt.Context) (countState, error) {
	if r := ctx.Request(); r != nil {
		switch r.URL.Query().Get("mount") {
		case "internal":
			return s, fmt.Errorf("dial tcp 10.1.2.3:5432: FATAL: %s", mountSecret)
		case "user":
			return s, lt.UserError("This board is archived")
		case "panic":
			panic("mount exploded: " + panicSecret)
		}
	}
	return s, nil
}

// Explode panics, as a nil map or an index out of range would.
func (c *errCtrl) Explode(s countState, ctx *lt.Context) (countState, error) {
	panic("runtime secret: " + panicSecret)
}

// Query fails the way a database call does.
func (c *errCtrl) Query(s countState, ctx *lt.Context) (countState, error) {
	return s, fmt.Errorf("loading orders: %w", &pgconn.PgError{Severity: "ERROR", Code: "42501", Message: dbSecret})
}

// Refuse answers the user, with markup that must be shown as text.
func (c *errCtrl) Refuse(s countState, ctx *lt.Context) (countState, error) {
	return s, lt.UserError(`Title must not be empty <b>or "quoted"</b>`)
}

// Missing returns an error type of the app's own that carries a message
// for users, wrapped.
func (c *errCtrl) Missing(s countState, ctx *lt.Context) (countState, error) {
	return s, fmt.Errorf("order 17: %w", notFound{})
}

func (c *errCtrl) Bump(s countState, ctx *lt.Context) (countState, error) {
	s.N++
	return s, nil
}

type notFound struct{}

func (notFound) Error() string       { return "sql: no rows in result set" }
func (notFound) UserMessage() string { return "No such order" }

var genericRE = regexp.MustCompile(`^Something went wrong; please try again \(ref ([0-9a-f]{12})\)$`)

// refOf returns the reference of a generic error message, failing the
// test if msg is anything else.
func refOf(t *testing.T, msg string) string {
	t.Helper()
	m := genericRE.FindStringSubmatch(msg)
	if m == nil {
		t.Fatalf("shown %q, want the generic message with a reference", msg)
	}
	return m[1]
}

func errApp(t *testing.T) (*httptest.Server, *lt.Handler, *logBook) {
	t.Helper()
	log := newLogBook()
	h, err := lt.New(lt.Must(lt.Parse("err", countPage)), &errCtrl{}, countState{}, lt.WithLogger(log.logger()))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() { _ = h.Close(); srv.Close() })
	return srv, h, log
}

// errorLogged waits for the Error record with reference ref and returns
// it.
func errorLogged(t *testing.T, log *logBook, ref string) record {
	t.Helper()
	return log.await(t, "at Error with ref="+ref, func(r record) bool {
		return r.Level == slog.LevelError && r.Attrs["ref"] == ref
	})
}

func noSecrets(t *testing.T, where, s string) {
	t.Helper()
	for _, secret := range []string{mountSecret, panicSecret, dbSecret, "billing_admin", "sk_live", "credit_cards", "no rows"} {
		if strings.Contains(s, secret) || strings.Contains(s, html.EscapeString(secret)) {
			t.Errorf("%s shows internal detail %q: %.300s", where, secret, s)
		}
	}
}

// An action's internal error, a panic or a database error shows the tab
// only a generic message with a reference; the log has the error at
// Error level with that reference (and the stack of a panic). A
// UserError, or an error with a UserMessage, is shown as it is, escaped.
func TestActionErrorsShowOnlyAReference(t *testing.T) {
	srv, h, log := errApp(t)
	tab := lttest.Open(t, srv.URL+"/")
	group := groupOf(t, tab.Jar(), srv.URL)

	for _, tc := range []struct {
		action, method, logged, user string
	}{
		{action: "explode", method: "Explode", logged: "lt: action panicked: Explode panicked: runtime secret: " + panicSecret},
		{action: "query", method: "Query", logged: "loading orders: ERROR: " + dbSecret + " (SQLSTATE 42501)"},
		{action: "refuse", method: "Refuse", user: `Title must not be empty <b>or "quoted"</b>`},
		{action: "missing", method: "Missing", user: "No such order"},
	} {
		func() {
			is := is.New(t)
			is.Equal(tab.Act("bump", nil).Status, http.StatusOK) // clears the last error
			before := len(log.all())
			r := tab.Act(tc.action, nil)
			is.Equal(r.Status, http.StatusUnprocessableEntity)
			noSecrets(t, "the POST's answer", r.Body)
			noSecrets(t, "the tab", r.HTML)
			if tc.user != "" {
				is.Equal(r.Error, tc.user)
				is.True(contains(r.HTML, "err="+html.EscapeString(tc.user)+"</p>"))
				// An answer to the user, not a fault: logged at Debug.
				recs := log.all()[before:]
				is.Equal(len(recs), 1)
				is.Equal(recs[0].Level, slog.LevelDebug)
				is.Equal(recs[0].Msg, "lt: action answered with an error for the user")
				return
			}
			ref := refOf(t, r.Error)
			is.True(contains(r.HTML, "err="+html.EscapeString(r.Error)+"</p>"))
			rec := errorLogged(t, log, ref)
			is.Equal(rec.Msg, "lt: action failed")
			is.Equal(rec.Attrs["err"], tc.logged)
			is.Equal(rec.Attrs["method"], tc.method)
			is.Equal(rec.Attrs["conn"], tab.Conn())
			if tc.method == "Explode" {
				is.True(contains(rec.Attrs["stack"], "panic("))
				is.True(contains(rec.Attrs["stack"], "attack.(*errCtrl).Explode"))
			} else {
				is.Equal(rec.Attrs["stack"], "")
			}

			// The same as a server action: the tab learns it on its
			// stream, with a reference of its own.
			is.NoErr(h.TriggerSession(context.Background(), group, tc.action, nil))
			shown := regexp.MustCompile(`err=(Something went wrong; please try again \(ref [0-9a-f]{12}\))</p>`)
			for {
				ev := tab.Next()
				noSecrets(t, "the stream", string(ev.Raw()))
				if m := shown.FindStringSubmatch(ev.HTML); m != nil && m[1] != r.Error {
					ref2 := refOf(t, m[1])
					is.True(ref2 != ref)
					is.Equal(errorLogged(t, log, ref2).Attrs["err"], tc.logged)
					break
				}
			}

			// And as a plain form post without JavaScript: 422 with the
			// page showing it.
			a := postForm(t, withJar(tab.Jar()), srv.URL+"/", url.Values{tc.action: {""}}, nil)
			is.Equal(a.Status, http.StatusUnprocessableEntity)
			noSecrets(t, "the plain POST's page", a.Body)
			m := shown.FindStringSubmatch(a.Body)
			is.True(m != nil)
			is.Equal(errorLogged(t, log, refOf(t, m[1])).Attrs["err"], tc.logged)
		}()
	}
	noSecrets(t, "the tab", tab.HTML())
}

// A Mount that fails with an internal error or a panic answers the page
// with 500 and the generic message; the log has the error and its
// reference. A Mount's UserError is shown as it is, with 400.
func TestMountErrorsShowOnlyAReference(t *testing.T) {
	srv, h, log := errApp(t)
	for _, tc := range []struct {
		mode, logged string
		stack        bool
	}{
		{mode: "internal", logged: "dial tcp 10.1.2.3:5432: FATAL: " + mountSecret},
		{mode: "panic", logged: "lt: action panicked: Mount panicked: mount exploded: " + panicSecret, stack: true},
	} {
		for _, stream := range []bool{false, true} {
			is := is.New(t)
			req := mustGet(t, srv.URL+"/?mount="+tc.mode)
			if stream {
				req = streamRequest(t, srv.URL+"/?mount="+tc.mode)
			}
			a := send(t, nil, req)
			is.Equal(a.Status, http.StatusInternalServerError)
			noSecrets(t, "the error page", a.Body)
			ref := refOf(t, strings.TrimSuffix(a.Body, "\n"))
			rec := errorLogged(t, log, ref)
			is.Equal(rec.Msg, "lt: request refused")
			is.Equal(rec.Attrs["status"], "500")
			is.Equal(rec.Attrs["err"], tc.logged)
			is.Equal(contains(rec.Attrs["stack"], "attack.(*errCtrl).Mount"), tc.stack)
		}
	}
	is := is.New(t)
	a := send(t, nil, mustGet(t, srv.URL+"/?mount=user"))
	is.Equal(a.Status, http.StatusBadRequest)
	is.Equal(a.Body, "This board is archived\n")
	is.Equal(h.Streams(), 0)

	// A client-chosen request id becomes the reference: it is clipped.
	req := mustGet(t, srv.URL+"/?mount=internal")
	req.Header.Set("X-Request-Id", strings.Repeat("r", 1000))
	a = send(t, nil, req)
	is.Equal(a.Status, http.StatusInternalServerError)
	want := "Something went wrong; please try again (ref " + strings.Repeat("r", 64) + "…(1000 bytes))\n"
	is.Equal(a.Body, want)
	is.Equal(len(log.find(func(r record) bool { return len(r.Attrs["ref"]) > 100 })), 0)
	is.True(!errors.Is(nil, lt.ErrClosed))
}
