package pgnotify_test

import (
	"errors"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/livesse/livesse/internal/test/pgtest"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/livesse/livesse/pgnotify"
	"github.com/matryer/is"
)

// Setup can run again, and from several instances at once.
func TestSetupIdempotent(t *testing.T) {
	is := is.New(t)
	db := newDB(t) // ran Setup once
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = pgnotify.Setup(waitCtx(t), db, pgnotify.WithSecret(secret)) })
	}
	wg.Wait()
	for _, err := range errs {
		is.NoErr(err)
	}
	err := pgnotify.Setup(waitCtx(t), db, pgnotify.WithSecret(secret), pgnotify.WithChannel("Bad-Name"))
	is.True(errors.Is(err, pgnotify.ErrInvalidConfig))
	err = pgnotify.Setup(waitCtx(t), db) // no secret
	is.True(errors.Is(err, pgnotify.ErrInvalidConfig))
	is.True(strings.Contains(err.Error(), "WithSecret"))
}

// Setup makes lt_notify a definer function with a pinned search_path that
// only chosen roles may call, keeps lt_messages and lt_keys to their
// owner, and migrates a version-1 installation (lt_send gone, the table
// made anew). lt_notify without a stored key says what to do.
func TestSetupSecuresAndMigrates(t *testing.T) {
	is := is.New(t)
	db := pgtest.Pool(t)
	ctx := waitCtx(t)
	v1, err := os.ReadFile("testdata/schema_v1.sql")
	is.NoErr(err)
	_, err = db.Exec(ctx, strings.ReplaceAll(string(v1), "__CHANNEL__", "'livesse'"))
	is.NoErr(err)
	_, err = db.Exec(ctx, `SELECT lt_send('livesse', '{"v": 1, "k": "all", "a": "x", "d": {"big": "`+strings.Repeat("x", 9000)+`"}}')`)
	is.NoErr(err)

	// Applied with a migration tool: SQL() holds no secret, so lt_notify
	// cannot sign until SetupKey stores the key.
	sql, err := pgnotify.SQL()
	is.NoErr(err)
	_, err = db.Exec(ctx, sql)
	is.NoErr(err)
	_, err = db.Exec(ctx, `SELECT lt_notify('refresh', 'all')`)
	var pgErr *pgconn.PgError
	is.True(errors.As(err, &pgErr))
	is.Equal(pgErr.Code, "55000")
	is.True(strings.Contains(pgErr.Hint, "WithSecret"))
	is.NoErr(pgnotify.SetupKey(ctx, db, pgnotify.WithSecret(secret)))
	_, err = db.Exec(ctx, `SELECT lt_notify('refresh', 'all')`)
	is.NoErr(err)
	is.NoErr(pgnotify.Setup(ctx, db, pgnotify.WithSecret(secret))) // and again, as every instance does

	var ltSend *string
	is.NoErr(db.QueryRow(ctx, `SELECT to_regprocedure('lt_send(text, jsonb)')::text`).Scan(&ltSend))
	is.True(ltSend == nil)
	var idType, payloadType string
	is.NoErr(db.QueryRow(ctx, `SELECT format_type(i.atttypid, NULL), format_type(p.atttypid, NULL)
		FROM pg_attribute i, pg_attribute p
		WHERE i.attrelid = 'lt_messages'::regclass AND i.attname = 'id' AND p.attrelid = i.attrelid AND p.attname = 'payload'`).Scan(&idType, &payloadType))
	is.Equal(idType, "bytea")
	is.Equal(payloadType, "text")

	var definer, public bool
	var config []string
	is.NoErr(db.QueryRow(ctx, `SELECT prosecdef, proconfig, has_function_privilege('public', oid, 'EXECUTE') FROM pg_proc
		WHERE oid = 'lt_notify(text, text, text, jsonb, text)'::regprocedure`).Scan(&definer, &config, &public))
	is.True(definer)
	is.Equal(config, []string{"search_path=public, pg_temp"})
	is.True(!public) // PUBLIC may not execute it
	for _, table := range []string{"lt_messages", "lt_keys"} {
		is.NoErr(db.QueryRow(ctx, `SELECT has_table_privilege('public', $1, 'SELECT') OR has_table_privilege('public', $1, 'INSERT')`, table).Scan(&public))
		is.True(!public)
	}
	var kid string
	is.NoErr(db.QueryRow(ctx, `SELECT kid FROM lt_keys WHERE channel = 'livesse'`).Scan(&kid))
	_, sqlKID := pgnotify.KeyIDs(secret)
	is.Equal(kid, sqlKID)
}

// lt_notify drives pages from SQL, on every instance, the sender's
// included; a page-less message reaches every page that has the action.
func TestSQLNotify(t *testing.T) {
	is := is.New(t)
	db := newDB(t)
	a, b := newInstance(t, db, "a"), newInstance(t, db, "b")
	t1 := lttest.Open(t, a.URL+"/page")
	t2 := lttest.Open(t, b.URL+"/page")
	ctx := waitCtx(t)

	_, err := db.Exec(ctx, `UPDATE kv SET v = 'v2'; SELECT lt_notify('refresh', 'all')`)
	is.NoErr(err)
	t1.WaitFor("db=v2")
	t2.WaitFor("db=v2")

	_, err = db.Exec(ctx, `SELECT lt_notify('set_msg', 'all', data => '{"msg": "to this page"}', page => 'page')`)
	is.NoErr(err)
	_, err = db.Exec(ctx, `SELECT lt_notify('set_msg', 'all', data => '{"msg": "to another page"}', page => 'other')`)
	is.NoErr(err)
	_, err = db.Exec(ctx, `SELECT lt_notify('increment', 'all')`)
	is.NoErr(err)
	ev := t2.WaitFor("n=1")
	is.True(strings.Contains(ev.HTML, "msg=to this page")) // the other page's message was not applied

	// lt_notify refuses what cannot be a message.
	_, err = db.Exec(ctx, `SELECT lt_notify('refresh', 'everyone')`)
	var pgErr *pgconn.PgError
	is.True(errors.As(err, &pgErr))
	is.Equal(pgErr.Code, "22023")
	for _, bad := range []string{
		`SELECT lt_notify('refresh', 'all', '', '[1, 2]')`,
		`SELECT lt_notify('refresh', 'conn', 'a.b')`,
		`SELECT lt_notify('refresh', NULL)`,
		`SELECT lt_notify('refresh', 'user')`,
		`SELECT lt_notify('', 'all')`,
		`SELECT lt_notify(NULL, 'all')`,
		`SELECT lt_notify(repeat('a', 129), 'all')`,
		`SELECT lt_notify('refresh', 'all', '', NULL, repeat('p', 129))`,
		`SELECT lt_notify('refresh', 'group', repeat('g', 513))`,
	} {
		_, err = db.Exec(ctx, bad)
		is.True(errors.As(err, &pgErr))
		is.Equal(pgErr.Code, "22023")
	}
}

// The documented statement-level trigger: an INSERT of many rows sends one
// notification per affected user, and each user's page updates.
func TestStatementTriggerRecipe(t *testing.T) {
	is := is.New(t)
	recipe, err := os.ReadFile("testdata/trigger_recipe.sql")
	is.NoErr(err)
	doc, err := os.ReadFile("../docs/multi-instance.md")
	is.NoErr(err)
	is.True(strings.Contains(string(doc), strings.TrimSpace(string(recipe[strings.Index(string(recipe), "CREATE OR REPLACE FUNCTION"):])))) // the doc shows the tested recipe

	auth := lt.AuthenticatorFunc(func(r *http.Request) (lt.Identity, error) {
		return lt.Identity{UserID: r.URL.Query().Get("user")}, nil
	})
	db := newDB(t)
	ctx := waitCtx(t)
	_, err = db.Exec(ctx, string(recipe))
	is.NoErr(err)
	a := newInstanceWith(t, db, "a", nil, []lt.Option{lt.WithAuthenticator(auth)})
	b := newInstanceWith(t, db, "b", nil, []lt.Option{lt.WithAuthenticator(auth)})
	rec := newRecorder(t, a.L)
	ann := lttest.Open(t, a.URL+"/page?user=ann")
	bob := lttest.Open(t, b.URL+"/page?user=bob")

	_, err = db.Exec(ctx, `INSERT INTO orders (user_id, amount) VALUES
		('ann', 10), ('bob', 20), ('ann', 30), ('carol', 5), ('ann', 1), ('bob', 2)`)
	is.NoErr(err)
	ann.WaitFor("msg=3 new orders")
	bob.WaitFor("msg=2 new orders")

	// Exactly one notification per user for the statement: the next one
	// delivered after them is the marker sent after the INSERT.
	_, err = db.Exec(ctx, `SELECT lt_notify('marker', 'all')`)
	is.NoErr(err)
	got := map[string]float64{}
	for {
		m := rec.next(t)
		if m.Action == "marker" {
			break
		}
		is.Equal(m.Action, "order_added")
		is.Equal(m.Kind, lt.ToUser)
		is.Equal(m.Instance, "") // from SQL: no instance
		_, dup := got[m.Target]
		is.True(!dup) // one notification per user
		got[m.Target] = m.Data["count"].(float64)
	}
	is.Equal(got, map[string]float64{"ann": 3, "bob": 2, "carol": 1})

	// An INSERT of no rows sends nothing.
	_, err = db.Exec(ctx, `INSERT INTO orders (user_id, amount) SELECT 'x', 1 WHERE false; SELECT lt_notify('marker', 'all')`)
	is.NoErr(err)
	is.Equal(rec.next(t).Action, "marker")
}
