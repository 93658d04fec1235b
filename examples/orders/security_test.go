package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/livesse/livesse/internal/test/pgtest"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
)

// newRole creates a login role (pgtest.Role) with grants, and returns a
// connection made as it over TCP.
func newRole(t *testing.T, db *pgxpool.Pool, grants ...string) *pgx.Conn {
	t.Helper()
	name, password := pgtest.Role(t, db)
	for _, g := range grants {
		if _, err := db.Exec(t.Context(), g+" TO "+name); err != nil {
			t.Fatal(err)
		}
	}
	return pgtest.ConnectAs(t, db, name, password)
}

// A role that can merely connect NOTIFYs what used to make the app insert
// rows it may not insert itself (a client's add_order forwarded to a
// tab's connection, a server action for every tab): nothing is inserted,
// and both instances count every payload as unauthenticated.
func TestForgedNotificationsInsertNothing(t *testing.T) {
	is := is.New(t)
	db := pgtest.Pool(t)
	a, b := startApp(t, db, "a"), startApp(t, db, "b")
	srvA, srvB := serveApp(t, a), serveApp(t, b)
	onA := lttest.Open(t, srvA.URL+"/")
	onB := lttest.Open(t, srvB.URL+"/")
	rep := newRole(t, db)
	ctx := t.Context()
	_, err := rep.Exec(ctx, "INSERT INTO orders (customer, amount) VALUES ('Mallory', 1)")
	is.Equal(sqlState(err), "42501") // it may not insert itself

	order := `"a":"add_order","d":{"customer":"Mallory","amount":"666"}`
	forged := []string{
		`{"v":1,"i":"b","p":"orders","k":"conn","t":"` + onA.Conn() + `",` + order + `,"id":{"g":"x"}}`,
		`{"v":1,"i":"@sql","e":true,"p":"orders","k":"all",` + order + `}`,
		`{"v":2,"i":"b","p":"orders","k":"all",` + order + `}`,
		"2s00000000" + strings.Repeat("0", 64+16+32) + `{"v":2,"p":"orders","k":"all",` + order + `}`,
	}
	for _, p := range forged {
		_, err := rep.Exec(ctx, "SELECT pg_notify('livesse', $1)", p)
		is.NoErr(err)
	}
	// An insert by the owner: its trigger's refresh is handled after the
	// forged payloads, on both instances.
	_, err = db.Exec(ctx, "INSERT INTO orders (customer, amount) VALUES ('Ada', 12.50)")
	is.NoErr(err)
	for _, tab := range []*lttest.Tab{onA, onB} {
		ev := tab.WaitFor(`<output id="count">1</output>`)
		is.Equal(ev.Seq, uint64(1))
	}
	var n int
	is.NoErr(db.QueryRow(ctx, "SELECT count(*) FROM orders").Scan(&n))
	is.Equal(n, 1)
	for _, app := range []*app{a, b} {
		h, err := app.listener.Health(ctx)
		is.NoErr(err)
		is.Equal(h.Unauthenticated, int64(len(forged)))
		is.Equal(h.Delivered, int64(1)) // the refresh
	}
}

// A role allowed to insert orders, and granted nothing on pgnotify,
// refreshes every dashboard: the triggers run as the table's owner.
func TestInsertByAnotherRoleRefreshes(t *testing.T) {
	is := is.New(t)
	db := pgtest.Pool(t)
	a := startApp(t, db, "a")
	tab := lttest.Open(t, serveApp(t, a).URL+"/")
	clerk := newRole(t, db, "GRANT INSERT ON orders")
	_, err := clerk.Exec(t.Context(), "SELECT lt_notify('refresh', 'all')")
	is.Equal(sqlState(err), "42501")
	_, err = clerk.Exec(t.Context(), "INSERT INTO orders (customer, amount) VALUES ('Cy', 3)")
	is.NoErr(err)
	ev := tab.WaitFor(`<output id="count">1</output>`)
	is.True(strings.Contains(ev.HTML, "1 new order"))
}

// sqlState is the SQLSTATE of err, or "".
func sqlState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}
