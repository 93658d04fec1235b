package ltprom_test

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/livesse/livesse/internal/test/pgtest"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/ltprom"
	"github.com/livesse/livesse/pgnotify"
	"github.com/matryer/is"
	"github.com/prometheus/client_golang/prometheus"
)

var secret = []byte("ltprom test secret, 32 bytes or more")

// inbox is an lt.Subscriber that hands on what it gets.
type inbox chan lt.Message

func (in inbox) Deliver(m lt.Message) { in <- m }
func (in inbox) Resync()              {}

func (in inbox) next(t *testing.T) lt.Message {
	t.Helper()
	select {
	case m := <-in:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no message delivered")
		return lt.Message{}
	}
}

// Two instances, each with its own registry, exchange a small and a large
// message: the sender counts them by the way they went, the receiver
// their lag, and its Listener's Health (read at the scrape) the delivered
// messages and the row in lt_messages.
func TestListenerMetrics(t *testing.T) {
	is := is.New(t)
	db := pgtest.Pool(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	is.NoErr(pgnotify.Setup(ctx, db, pgnotify.WithSecret(secret)))
	instance := func(id string) (*prometheus.Registry, *pgnotify.Listener) {
		reg := prometheus.NewPedanticRegistry()
		m := ltprom.New(reg)
		l, err := pgnotify.New(ctx, pgtest.Reopen(t, db), pgnotify.WithSecret(secret), pgnotify.WithInstance(id), pgnotify.WithMetrics(m))
		is.NoErr(err)
		t.Cleanup(func() { _ = l.Close() })
		is.NoErr(m.RegisterListener(l))
		return reg, l
	}
	regA, a := instance("a")
	regB, b := instance("b")
	got := inbox(make(chan lt.Message, 10))
	defer b.Subscribe(got)()

	small := lt.Must(lt.ServerAction("p", lt.ToAll, "", "set", map[string]any{"v": "small"}))
	large := lt.Must(lt.ServerAction("p", lt.ToAll, "", "set", map[string]any{"v": strings.Repeat("z", 9000)}))
	is.NoErr(a.Publish(ctx, small))
	is.NoErr(a.Publish(ctx, large))
	is.Equal(got.next(t).String(), small.String())
	is.Equal(got.next(t).String(), large.String())

	sa := scrape(t, regA)
	is.Equal(sa[`livesse_pgnotify_published_messages_total{via="notify"}`], 1.0)
	is.Equal(sa[`livesse_pgnotify_published_messages_total{via="table"}`], 1.0)
	is.True(sa[`livesse_pgnotify_published_bytes_total{via="notify"}`] > 0)
	is.True(sa[`livesse_pgnotify_published_bytes_total{via="table"}`] > 9000)
	is.Equal(sa[`livesse_pgnotify_delivery_lag_seconds_count`], 0.0) // a received nothing
	is.Equal(sa[`livesse_pgnotify_connected{channel="livesse"}`], 1.0)

	sb := scrape(t, regB)
	is.Equal(sb[`livesse_pgnotify_delivered_total{channel="livesse"}`], 2.0)
	is.Equal(sb[`livesse_pgnotify_delivery_lag_seconds_count`], 2.0)
	is.True(sb[`livesse_pgnotify_delivery_lag_seconds_sum`] < 10) // sealed within the test
	is.Equal(sb[`livesse_pgnotify_published_messages_total{via="notify"}`], 0.0)
	is.True(sb[`livesse_pgnotify_received_total{channel="livesse"}`] >= 2) // and beacons
	is.Equal(sb[`livesse_pgnotify_refused_total{channel="livesse",reason="unauthenticated"}`], 0.0)
	is.Equal(sb[`livesse_pgnotify_large_messages{channel="livesse"}`], 1.0) // kept until it expires
	is.True(sb[`livesse_pgnotify_large_messages_bytes{channel="livesse"}`] > 9000)
	is.Equal(sb[`livesse_pgnotify_large_messages_bytes{channel="livesse"}`], sa[`livesse_pgnotify_published_bytes_total{via="table"}`])
	is.True(sb[`livesse_pgnotify_queue_usage_ratio{channel="livesse"}`] >= 0)

	// Junk on the channel is refused and counted; the scrape shows it once
	// the Listener has read it, which a message sent after it proves.
	_, err := db.Exec(ctx, `SELECT pg_notify('livesse', 'junk')`)
	is.NoErr(err)
	is.NoErr(a.Publish(ctx, small))
	got.next(t)
	sb = scrape(t, regB)
	is.Equal(sb[`livesse_pgnotify_refused_total{channel="livesse",reason="unauthenticated"}`], 1.0)
	is.Equal(sb[`livesse_pgnotify_delivered_total{channel="livesse"}`], 3.0)
	for _, k := range slices.Sorted(maps.Keys(sb)) {
		if strings.HasPrefix(k, "livesse_pgnotify") && !strings.Contains(k, "_bucket") {
			t.Logf("b: %s %v", k, sb[k])
		}
	}
}
