package pgnotify_test

import (
	"strings"
	"testing"

	"github.com/livesse/livesse/lt/lttest"
	"github.com/matryer/is"
)

// PublishTx delivers at commit, to every instance (the sender's too), and
// never after a rollback.
func TestPublishTx(t *testing.T) {
	is := is.New(t)
	db := newDB(t)
	a, b := newInstance(t, db, "a"), newInstance(t, db, "b")
	onA := lttest.Open(t, a.URL+"/page")
	onB := lttest.Open(t, b.URL+"/page")
	ctx := waitCtx(t)

	tx, err := a.Pool.Begin(ctx)
	is.NoErr(err)
	is.NoErr(a.L.PublishTx(ctx, tx, msgAll("add_item", map[string]any{"item": "rolled back"})))
	is.NoErr(tx.Rollback(ctx))

	tx, err = a.Pool.Begin(ctx)
	is.NoErr(err)
	_, err = tx.Exec(ctx, `UPDATE kv SET v = 'v2'`)
	is.NoErr(err)
	is.NoErr(a.L.PublishTx(ctx, tx, msgAll("refresh", nil)))
	is.NoErr(a.L.PublishTx(ctx, tx, msgAll("add_item", map[string]any{"item": "committed"})))
	// Published after PublishTx but committed before tx: delivered first.
	is.NoErr(a.L.Publish(ctx, msgAll("add_item", map[string]any{"item": "outside"})))
	is.NoErr(tx.Commit(ctx))

	ev := onB.WaitFor("<li>committed</li>")
	is.True(strings.Contains(ev.HTML, "<ul><li>outside</li><li>committed</li></ul>")) // in commit order, no rolled-back item
	is.True(strings.Contains(ev.HTML, "db=v2"))                                       // the refresh saw the committed data

	// The sender's own tab got the transaction's messages (and not the
	// plain Publish, which lt applies locally itself).
	ev = onA.WaitFor("<li>committed</li>")
	is.True(strings.Contains(ev.HTML, "<ul><li>committed</li></ul>"))
	is.True(strings.Contains(ev.HTML, "db=v2"))
}
