package pgnotify_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/livesse/livesse/pgnotify"
	"github.com/matryer/is"
)

// userAuth signs the visitor in as ?user=.
var userAuth = []lt.Option{lt.WithAuthenticator(lt.AuthenticatorFunc(func(r *http.Request) (lt.Identity, error) {
	return lt.Identity{UserID: r.URL.Query().Get("user")}, nil
}))}

// nonce32 is a random nonce as lt_notify makes them: 32 hex digits.
func nonce32() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// notifyAs sends each payload on the channel from conn, as plain
// pg_notify, each in its own transaction.
func notifyAs(t *testing.T, conn *pgx.Conn, payloads ...string) {
	t.Helper()
	for _, p := range payloads {
		if _, err := conn.Exec(waitCtx(t), "SELECT pg_notify('livesse', $1)", p); err != nil {
			t.Fatalf("pg_notify(%.40q): %v", p, err)
		}
	}
}

// attack is a page whose tab belongs to user ann on instance b, while
// instance a also runs; a role with nothing granted is connected.
type attack struct {
	db     *pgxpool.Pool
	a, b   *instance
	ann    *lttest.Tab
	logs   *syncBuffer
	role   string
	pw     string
	rep    *pgx.Conn // connected as the role
	onA    *recorder // what a delivers
	onB    *recorder // what b delivers
	marker int
}

func newAttack(t *testing.T) *attack {
	t.Helper()
	db := newDB(t)
	at := &attack{db: db, logs: &syncBuffer{}}
	at.a = newInstanceWith(t, db, "a", nil, userAuth)
	at.b = newInstanceWith(t, db, "b", []pgnotify.Option{pgnotify.WithLogger(slog.New(slog.NewTextHandler(at.logs, nil)))}, userAuth)
	awaitPeers(t, at.a.L, at.b.L)
	at.onA, at.onB = newRecorder(t, at.a.L), newRecorder(t, at.b.L)
	at.ann = lttest.Open(t, at.b.URL+"/page?user=ann")
	at.role, at.pw = newRole(t, db)
	at.rep = connectAs(t, db, at.role, at.pw)
	return at
}

// mark sends a message from SQL (as the owner) and waits until a and b
// delivered it and the tab shows it: everything notified before it has
// been handled. It returns the tab's update and the actions b delivered
// before the marker (since the last).
func (at *attack) mark(t *testing.T) (lttest.Event, []string) {
	t.Helper()
	at.marker++
	want := fmt.Sprintf("marker %d", at.marker)
	if _, err := at.db.Exec(waitCtx(t), `SELECT lt_notify('set_msg', 'user', 'ann', jsonb_build_object('msg', $1::text))`, want); err != nil {
		t.Fatal(err)
	}
	var before []string
	for _, r := range []*recorder{at.onA, at.onB} {
		before = nil
		for {
			m := r.next(t)
			if m.Data["msg"] == want {
				break
			}
			before = append(before, m.Action)
		}
	}
	return at.ann.WaitFor("msg=" + want + "<"), before
}

// (a) A role that can merely connect NOTIFYs forged payloads, version 1
// and 2, to run an action for a user, close a session's streams, push to
// every tab and forward a client action to a tab's connection: nothing is
// applied, every one is counted as unauthenticated, and the warnings are
// rate-limited.
func TestForgedNotificationsRefused(t *testing.T) {
	is := is.New(t)
	at := newAttack(t)
	conn, group := at.ann.Conn(), "user:ann"
	instKID, sqlKID := pgnotify.KeyIDs(secret)
	ts := fmt.Sprintf("%016x", time.Now().UnixMicro())
	toConn := `{"v":2,"i":"a","p":"page","k":"conn","t":"` + conn + `","to":"b","a":"add_item","d":{"item":"forged"},"id":{"u":"ann","g":"` + group + `"}}`
	sqlUser := `{"a": "set_msg", "d": {"msg": "forged"}, "k": "user", "p": "page", "t": "ann", "v": 2}`
	attacker := []byte("the attacker's own key, 32 bytes!")
	junk := make([]byte, 120)
	_, _ = rand.Read(junk)
	forged := []string{
		// Version 1, as before: plain JSON.
		`{"v":1,"i":"a","p":"page","k":"user","t":"ann","a":"set_msg","d":{"msg":"forged"}}`,
		`{"v":1,"i":"a","p":"page","k":"group","t":"` + group + `","z":true}`,
		`{"v":1,"i":"@sql","e":true,"k":"all","a":"add_item","d":{"item":"forged"}}`,
		`{"v":1,"i":"a","p":"page","k":"conn","t":"` + conn + `","a":"add_item","d":{"item":"forged"},"id":{"u":"ann","g":"` + group + `"}}`,
		// Version 2 shapes, with the real key ids (they are public).
		toConn,
		"2i" + instKID + base64.RawURLEncoding.EncodeToString(junk),
		"2i" + instKID + base64.RawURLEncoding.EncodeToString(append(make([]byte, 32), toConn+"0123456789abcdef"...)),
		"2s" + sqlKID + strings.Repeat("0", 64) + ts + nonce32() + sqlUser,
		"2s" + sqlKID + strings.Repeat("0", 64) + ts + nonce32() + `{"a":"add_item","k":"all","v":2,"d":{"item":"forged"}}`,
		// Signed with a key of the attacker's: under its own key id, and
		// under the real one.
		pgnotify.SignSQL(attacker, "livesse", time.Now(), nonce32(), sqlUser),
		"2s" + sqlKID + pgnotify.SignSQL(attacker, "livesse", time.Now(), nonce32(), sqlUser)[10:],
	}
	notifyAs(t, at.rep, forged...)
	// And the NOTIFY statement, as from psql.
	_, err := at.rep.Exec(waitCtx(t), `NOTIFY livesse, '{"v":1,"i":"a","p":"page","k":"all","a":"increment"}'`)
	is.NoErr(err)

	ev, before := at.mark(t)
	is.Equal(len(before), 0)
	is.Equal(ev.Seq, uint64(1)) // the marker is the tab's first update: nothing else was applied
	is.True(strings.Contains(ev.HTML, "n=0"))
	is.True(strings.Contains(ev.HTML, "<ul></ul>"))
	for _, l := range []*pgnotify.Listener{at.a.L, at.b.L} {
		h := health(t, l)
		is.Equal(h.Unauthenticated, int64(len(forged)+1))
		is.Equal(h.Delivered, int64(1)) // the marker
		is.Equal(h.Malformed+h.Replayed+h.Stale+h.Dropped, int64(0))
	}
	// One warning for them all (at most one per reason every 10 s), with
	// a clipped payload.
	is.Equal(strings.Count(at.logs.String(), "notification refused"), 1)
	is.True(strings.Contains(at.logs.String(), "reason=unauthenticated"))
	is.True(strings.Contains(at.logs.String(), "version-1 payload"))

	// The tab's stream was not closed: it still gets updates.
	at.mark(t)
}

// (b) A role that LISTENs captures legitimate payloads (from an instance,
// from lt_notify, a reference to a stored large message, beacons) and
// NOTIFYs them again: each is refused as a replay; nothing runs twice.
func TestCapturedPayloadsReplayRefused(t *testing.T) {
	is := is.New(t)
	at := newAttack(t)
	ctx := waitCtx(t)
	listen := connectAs(t, at.db, at.role, at.pw)
	_, err := listen.Exec(ctx, "LISTEN livesse")
	is.NoErr(err)

	is.NoErr(at.a.H.TriggerUser(ctx, "ann", "add_item", map[string]any{"item": "from a"}))
	_, err = at.db.Exec(ctx, `SELECT lt_notify('add_item', 'user', 'ann', '{"item": "from sql"}')`)
	is.NoErr(err)
	big := strings.Repeat("B", 10000)
	is.NoErr(at.a.H.TriggerUser(ctx, "ann", "add_item", map[string]any{"item": big}))
	_, err = at.db.Exec(ctx, `SELECT lt_notify('add_item', 'user', 'ann', jsonb_build_object('item', repeat('S', 10000)))`)
	is.NoErr(err)
	ev, before := at.mark(t)
	is.Equal(before, []string{"add_item", "add_item", "add_item", "add_item"})
	items := "<ul><li>from a</li><li>from sql</li><li>" + big + "</li><li>" + strings.Repeat("S", 10000) + "</li></ul>"
	is.True(strings.Contains(ev.HTML, items))

	// Everything the role heard up to the marker (which is signed, so
	// readable).
	var captured []string
	for {
		n, err := listen.WaitForNotification(ctx)
		is.NoErr(err)
		captured = append(captured, n.Payload)
		if strings.Contains(n.Payload, `"marker 1"`) {
			break
		}
	}
	is.True(len(captured) >= 5)
	was := health(t, at.b.L)
	notifyAs(t, at.rep, captured...)
	ev, before = at.mark(t)
	is.Equal(len(before), 0)
	is.True(strings.Contains(ev.HTML, items)) // nothing added twice
	is.True(strings.Contains(ev.HTML, "msg=marker 2<"))
	h := health(t, at.b.L)
	is.Equal(h.Replayed-was.Replayed, int64(len(captured)))
	is.Equal(h.Delivered-was.Delivered, int64(1)) // marker 2
	is.Equal(h.Unauthenticated+h.Malformed+h.Stale+h.Dropped, int64(0))
}

// (c) A role that cannot read lt_messages NOTIFYs references to a stored
// large message (knowing even its digest): refused, nothing fetched.
func TestForgedReferencesRefused(t *testing.T) {
	is := is.New(t)
	at := newAttack(t)
	ctx := waitCtx(t)
	is.NoErr(at.a.H.TriggerUser(ctx, "ann", "add_item", map[string]any{"item": strings.Repeat("L", 10000)}))
	at.ann.WaitFor("LLL</li>")
	var digest string
	is.NoErr(at.db.QueryRow(ctx, "SELECT encode(id, 'hex') FROM lt_messages").Scan(&digest))
	_, sqlKID := pgnotify.KeyIDs(secret)
	instKID, _ := pgnotify.KeyIDs(secret)
	forged := []string{
		`{"v":1,"i":"a","r":1}`,
		`{"v":1,"i":"a","e":true,"r":1}`,
		`{"v":2,"i":"a","r":"` + digest + `"}`,
		"2s" + sqlKID + strings.Repeat("0", 64) + fmt.Sprintf("%016x", time.Now().UnixMicro()) + nonce32() + `{"r": "` + digest + `", "v": 2}`,
		"2i" + instKID + base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("\x00", 32)+`{"v":2,"i":"a","r":"`+digest+`"}`+strings.Repeat("\x00", 16))),
	}
	is.Equal(at.onB.next(t).Action, "add_item")
	notifyAs(t, at.rep, forged...)
	ev, before := at.mark(t)
	is.Equal(len(before), 0)
	is.Equal(strings.Count(ev.HTML, "<li>"), 1)
	h := health(t, at.b.L)
	is.Equal(h.Unauthenticated, int64(len(forged)))
	is.Equal(h.Dropped+h.Malformed, int64(0))
}

// (d) The role cannot call lt_notify (nor lt_send, which is gone), nor
// read or write lt_messages and lt_keys.
func TestRoleWithoutGrantsHasNoAccess(t *testing.T) {
	is := is.New(t)
	db := newDB(t)
	role, pw := newRole(t, db)
	rep := connectAs(t, db, role, pw)
	for _, c := range []struct{ sql, state string }{
		{`SELECT lt_notify('refresh', 'all')`, "42501"},
		{`SELECT lt_notify('add_item', 'user', 'ann', '{"item": "x"}', 'page')`, "42501"},
		{`SELECT lt_send('livesse', '{"v":1,"k":"all","a":"x"}')`, "42883"}, // no such function
		{`SELECT * FROM lt_messages`, "42501"},
		{`SELECT * FROM lt_keys`, "42501"},
		{`INSERT INTO lt_messages (id, payload) VALUES ('\x00', 'x')`, "42501"},
		{`DELETE FROM lt_messages`, "42501"},
		{`UPDATE lt_keys SET kid = '00000000'`, "42501"},
	} {
		_, err := rep.Exec(waitCtx(t), c.sql)
		if sqlState(err) != c.state {
			t.Errorf("%s: %v, want SQLSTATE %s", c.sql, err, c.state)
		}
	}
	// Nor through a definer function of its own: it runs as the role.
	_, err := rep.Exec(waitCtx(t), `CREATE FUNCTION pg_temp.push() RETURNS void LANGUAGE sql SECURITY DEFINER AS $$ SELECT lt_notify('refresh', 'all') $$`)
	is.NoErr(err)
	_, err = rep.Exec(waitCtx(t), `SELECT pg_temp.push()`)
	is.Equal(sqlState(err), "42501")
}

// (e) Granted EXECUTE on lt_notify, the role pushes server actions, which
// are applied; it cannot make a message for a connection or carry an
// identity, a recipient or a request. Even the owner, who can read the
// signing key in lt_keys, can sign nothing but server actions.
func TestGrantedRolePushesServerActionsOnly(t *testing.T) {
	is := is.New(t)
	at := newAttack(t)
	ctx := waitCtx(t)
	_, err := at.db.Exec(ctx, "GRANT EXECUTE ON FUNCTION lt_notify(text, text, text, jsonb, text) TO "+at.role)
	is.NoErr(err)

	_, err = at.rep.Exec(ctx, `SELECT lt_notify('set_msg', 'user', 'ann', '{"msg": "from the reporter"}', 'page')`)
	is.NoErr(err)
	m := at.onB.next(t)
	is.Equal(m, pgnotify.Msg{Page: "page", Kind: lt.ToUser, Target: "ann", Action: "set_msg", Data: map[string]any{"msg": "from the reporter"}})
	at.ann.WaitFor("msg=from the reporter<")

	// No connection messages; envelope keys in the data stay data, and in
	// the page they stay the page.
	_, err = at.rep.Exec(ctx, `SELECT lt_notify('add_item', 'conn', $1)`, at.ann.Conn())
	is.Equal(sqlState(err), "22023")
	_, err = at.rep.Exec(ctx, `SELECT lt_notify('add_item', 'all', '', '{"item": "x", "id": {"u": "ann"}, "to": "b", "rq": {"m": "POST"}, "k": "conn", "z": true}', 'page", "k": "conn')`)
	is.NoErr(err)
	m = at.onB.next(t)
	is.Equal(m.Kind, lt.ToAll)
	is.Equal(m.Page, `page", "k": "conn`) // no page of that name: lt ignores it
	is.True(m.Identity == nil && m.Request == nil && m.To == "" && !m.Close && !m.Sync && m.Except == "")

	// The owner signs with the key blocks of lt_keys, exactly as
	// lt_notify does (HMAC-SHA256 from sha256 alone), whatever it likes:
	// all but server actions are refused.
	var kid string
	var ipad, opad []byte
	is.NoErr(at.db.QueryRow(ctx, "SELECT kid, ipad, opad FROM lt_keys WHERE channel = 'livesse'").Scan(&kid, &ipad, &opad))
	sign := func(body string) string {
		rest := fmt.Sprintf("%016x", time.Now().UnixMicro()) + nonce32() + body
		inner := sha256.Sum256(append(append([]byte{}, ipad...), "livesse\n2s"+kid+rest...))
		outer := sha256.Sum256(append(append([]byte{}, opad...), inner[:]...))
		return "2s" + kid + hex.EncodeToString(outer[:]) + rest
	}
	conn := at.ann.Conn()
	notifyAs(t, at.rep, sign(`{"v":2,"k":"user","t":"ann","a":"set_msg","d":{"msg":"signed by the owner"}}`))
	is.Equal(at.onB.next(t).Data["msg"], "signed by the owner") // the HMAC is right
	refused := []string{
		sign(`{"v":2,"k":"conn","t":"` + conn + `","a":"add_item","d":{"item":"forged"}}`),
		sign(`{"v":2,"k":"all","a":"add_item","d":{"item":"forged"},"id":{"u":"ann","g":"user:ann"}}`),
		sign(`{"v":2,"k":"all","a":"add_item","d":{"item":"forged"},"i":"a"}`),
		sign(`{"v":2,"k":"all","a":"add_item","d":{"item":"forged"},"to":"b"}`),
		sign(`{"v":2,"k":"all","a":"add_item","d":{"item":"forged"},"rq":{"m":"POST","u":"/page"}}`),
		sign(`{"v":2,"k":"group","t":"user:ann","z":true}`),
		sign(`{"v":2,"k":"all","a":"add_item","s":true}`),
		sign(`{"v":2,"k":"all","a":"add_item","b":true}`),
		sign(`{"v":2,"k":"all","a":"add_item","x":"` + conn + `"}`),
		sign(`{"v":2,"i":"a","bc":"bye","ev":1000}`), // not even a beacon
	}
	notifyAs(t, at.rep, refused...)
	ev, before := at.mark(t)
	is.Equal(len(before), 0)
	is.True(strings.Contains(ev.HTML, "<ul></ul>"))
	h := health(t, at.b.L)
	is.Equal(h.Malformed, int64(len(refused)))
	is.Equal(h.Unauthenticated, int64(0))
	is.NoErr(at.b.L.AwaitPeer(ctx, "a")) // the forged bye did not stop a being live
}

// (f) The definer function cannot be fooled by temporary tables named
// like its own: it signs with the real key and stores in the real table.
func TestDefinerIgnoresTempTables(t *testing.T) {
	is := is.New(t)
	at := newAttack(t)
	ctx := waitCtx(t)
	_, err := at.db.Exec(ctx, "GRANT EXECUTE ON FUNCTION lt_notify(text, text, text, jsonb, text) TO "+at.role)
	is.NoErr(err)
	_, err = at.rep.Exec(ctx, `
		CREATE TEMP TABLE lt_keys (channel text, kid text, ipad bytea, opad bytea, updated_at timestamptz);
		INSERT INTO lt_keys VALUES ('livesse', 'deadbeef', decode(repeat('36', 64), 'hex'), decode(repeat('5c', 64), 'hex'), now());
		CREATE TEMP TABLE lt_messages (id bytea, created_at timestamptz DEFAULT now(), payload text);`)
	is.NoErr(err)
	// Without the definer's pinned search_path, these are what the
	// role's own statements find.
	var kid string
	is.NoErr(at.rep.QueryRow(ctx, "SELECT kid FROM lt_keys").Scan(&kid))
	is.Equal(kid, "deadbeef")

	_, err = at.rep.Exec(ctx, `SELECT lt_notify('set_msg', 'user', 'ann', '{"msg": "small"}')`)
	is.NoErr(err)
	is.Equal(at.onB.next(t).Data["msg"], "small")
	_, err = at.rep.Exec(ctx, `SELECT lt_notify('set_msg', 'user', 'ann', jsonb_build_object('msg', repeat('T', 9000)))`)
	is.NoErr(err)
	is.Equal(at.onB.next(t).Data["msg"], strings.Repeat("T", 9000))
	var temp int
	is.NoErr(at.rep.QueryRow(ctx, "SELECT count(*) FROM pg_temp.lt_messages").Scan(&temp))
	is.Equal(temp, 0)
	h := health(t, at.b.L)
	is.Equal(h.Unauthenticated+h.Dropped, int64(0))
}

// Rotation: instances on (new, old) accept what instances still on old
// send, instances on (old, new) accept what those on (new, old) send, and
// a message under a key nobody has is refused. lt_notify signs with the
// current secret of the last Setup.
func TestSecretRotation(t *testing.T) {
	is := is.New(t)
	db := newDB(t) // Setup with secret
	oldS, newS := secret, []byte("the new secret, also 32 bytes or more")
	ctx := waitCtx(t)
	recs, refused := map[string]*recorder{}, map[string]chan string{}
	start := func(id string, secrets ...[]byte) *pgnotify.Listener {
		refused[id] = make(chan string, 100)
		l := newListener(t, db, id, pgnotify.WithSecret(secrets[0], secrets[1:]...),
			pgnotify.WithoutBeacons(), // so that the counts are exact
			pgnotify.WithRefusedHook(func(reason string) { refused[id] <- reason }))
		recs[id] = newRecorder(t, l)
		return l
	}
	old := start("old", oldS)
	step1 := start("step1", oldS, newS)
	step2 := start("step2", newS, oldS)
	stranger := start("stranger", []byte("another app's secret, 32 bytes +"))
	send := func(l *pgnotify.Listener, action string) {
		t.Helper()
		is.NoErr(l.Publish(ctx, msgAll(action, nil)))
	}
	sql := func(action string) {
		t.Helper()
		_, err := db.Exec(ctx, `SELECT lt_notify($1, 'all')`, action)
		is.NoErr(err)
	}
	send(old, "from old")
	send(step1, "from step1")       // sealed with old
	send(step2, "from step2")       // sealed with new
	send(stranger, "from stranger") // nobody else has its key
	sql("sql old")                  // signed with old: Setup ran with it
	is.NoErr(pgnotify.Setup(ctx, db, pgnotify.WithSecret(newS, oldS)))
	sql("sql new")
	send(step1, "last from step1")
	sql("sql last")

	for id, want := range map[string][]string{
		"old":      {"from step1", "sql old", "last from step1"},
		"step1":    {"from old", "from step2", "sql old", "sql new", "sql last"},
		"step2":    {"from old", "from step1", "sql old", "sql new", "last from step1", "sql last"},
		"stranger": nil,
	} {
		for _, action := range want {
			is.Equal(recs[id].next(t).Action, action)
		}
	}
	// Refused: by old, what the new secret made (from step2, sql new, sql
	// last) and the stranger's message; by step1 and step2, the
	// stranger's; by the stranger, the seven others.
	for id, n := range map[string]int{"old": 4, "step1": 1, "step2": 1, "stranger": 7} {
		for range n {
			select {
			case reason := <-refused[id]:
				is.Equal(reason, "unauthenticated")
			case <-time.After(wait):
				t.Fatalf("%s refused fewer than %d", id, n)
			}
		}
		// Each has handled every notification now: its last was
		// delivered to it, or refused.
		is.Equal(health(t, map[string]*pgnotify.Listener{"old": old, "step1": step1, "step2": step2, "stranger": stranger}[id]).Unauthenticated, int64(n))
		recs[id].none(t)
	}
}
