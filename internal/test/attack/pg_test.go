package attack

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/livesse/livesse/internal/test/pgtest"
	"github.com/livesse/livesse/lt/lttest"
	"github.com/livesse/livesse/pgnotify"
	"github.com/matryer/is"
)

// pgListener starts instance id's pgnotify Listener on its own pool of
// db's database, closed when the test ends (after the Handlers on it,
// whose cleanups run first).
func pgListener(t *testing.T, db *pgxpool.Pool, id string) *pgnotify.Listener {
	t.Helper()
	l, err := pgnotify.New(t.Context(), pgtest.Reopen(t, db), pgnotify.WithSecret(secret), pgnotify.WithInstance(id))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// awaitPeer waits until l has heard that instance id is live, so that it
// forwards to it.
func awaitPeer(t *testing.T, l *pgnotify.Listener, id string) {
	t.Helper()
	waitUntil(t, l.Instance()+" to hear from "+id, func() bool {
		h, err := l.Health(t.Context())
		return err == nil && slices.Contains(h.Peers, id)
	})
}

// sniffer LISTENs on the channel as any database role that can connect
// may, and keeps every payload it sees.
type sniffer struct {
	mu       sync.Mutex
	payloads []string
}

func sniff(t *testing.T, db *pgxpool.Pool, channel string) *sniffer {
	t.Helper()
	conn, err := pgx.ConnectConfig(t.Context(), db.Config().ConnConfig.Copy())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(t.Context(), "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	s := &sniffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			n, err := conn.WaitForNotification(ctx)
			if err != nil {
				return
			}
			s.mu.Lock()
			s.payloads = append(s.payloads, n.Payload)
			s.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = conn.Close(context.Background())
	})
	return s
}

func (s *sniffer) all() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.payloads)
}

// The forwarding probes of TestForwardedPostIsAClientAction, with the
// instances joined by pgnotify over a real PostgreSQL. Also: a database
// role that LISTENs on the channel reads none of what a forwarded POST
// carries (its session cookie, its form).
func TestForwardedPostIsAClientActionOverPostgres(t *testing.T) {
	is := is.New(t)
	db := pgtest.Pool(t)
	is.NoErr(pgnotify.Setup(t.Context(), db, pgnotify.WithSecret(secret)))
	spy := sniff(t, db, pgnotify.DefaultChannel)
	// And a copy of every message stored for being too large to notify.
	_, err := db.Exec(t.Context(), `CREATE TABLE spy (payload text);
CREATE FUNCTION spy_copy() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN INSERT INTO spy VALUES (NEW.payload); RETURN NEW; END$$;
CREATE TRIGGER spy AFTER INSERT ON lt_messages FOR EACH ROW EXECUTE FUNCTION spy_copy();`)
	is.NoErr(err)
	la, lb := pgListener(t, db, "a"), pgListener(t, db, "b")
	a, b := newFwdInstance(t, la), newFwdInstance(t, lb)
	awaitPeer(t, la, "b")
	awaitPeer(t, lb, "a")

	testForwarding(t, a, b)

	// A forwarded POST through b, with a note the spy looks for.
	tab := lttest.Open(t, a.URL+"/boards/9")
	jar := tab.Jar()
	shareSession(jar, a.URL, b.URL)
	const note = "confidential-note-4711"
	r := postAs(t, jar, b.URL+"/boards/9", tab.Conn(), "echo", map[string][]string{"note": {note}, "pad": {strings.Repeat("p", 9000)}}, nil)
	is.Equal(r.Status, http.StatusAccepted)
	tab.WaitFor("note=" + note)
	cookie := cookieOf(t, jar, a.URL)
	payloads := spy.all()
	is.True(len(payloads) > 0) // it heard the channel
	for _, p := range payloads {
		for _, secretText := range []string{cookie, note, tab.Conn()} {
			if strings.Contains(p, secretText) {
				t.Errorf("a listener on the channel reads %q in a notification: %.200s", secretText, p)
			}
		}
	}
	var stored, leaked int
	is.NoErr(db.QueryRow(t.Context(), `SELECT count(*), count(*) FILTER (WHERE strpos(payload, $1) > 0 OR strpos(payload, $2) > 0) FROM spy`,
		cookie, note).Scan(&stored, &leaked))
	is.True(stored > 0) // the large forward went through the table
	is.Equal(leaked, 0)
}
