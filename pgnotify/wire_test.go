package pgnotify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/livesse/livesse/lt"
	"github.com/matryer/is"
)

// t0 is the tests' fixed clock.
var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// offline makes a Listener that is not connected: its receiving path
// works, on a fixed clock, and stored messages come from rows.
func offline(t testing.TB, id string, rows map[string]string, opts ...Option) *Listener {
	t.Helper()
	opts = append([]Option{WithSecret(testSecret), WithInstance(id), WithClock(func() time.Time { return t0 }),
		WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	l, err := newListener(nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	l.fetchRow = func(_ context.Context, digest []byte, take bool) (string, error) {
		p, ok := rows[hex.EncodeToString(digest)]
		if !ok {
			return "", pgx.ErrNoRows
		}
		return p, nil
	}
	return l
}

func mustEncode(t testing.TB, e envelope) []byte {
	t.Helper()
	b, err := encode(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSealOpen(t *testing.T) {
	is := is.New(t)
	a, b := offline(t, "a", nil), offline(t, "b", nil)
	body := []byte(`{"v":2,"i":"a","k":"all","a":"x"}`)
	p := a.keys.seal("livesse", t0.UnixMicro(), body)
	is.True(strings.HasPrefix(p, "2i"+a.keys.current.instKID))
	o, err := b.keys.open("livesse", p)
	is.NoErr(err)
	is.Equal(o.body, body)
	is.Equal(o.time, t0.UnixMicro())
	is.True(!o.signed)
	p2 := a.keys.seal("livesse", t0.UnixMicro(), body)
	o2, err := b.keys.open("livesse", p2)
	is.NoErr(err)
	is.True(o.id != o2.id) // every message its own id
	is.True(p != p2)

	// Any change to any character, or to the channel, fails.
	for i := range p {
		for _, c := range []byte{'A', '_', '2', 'i', 's'} {
			if p[i] == c {
				continue
			}
			q := p[:i] + string(c) + p[i+1:]
			if _, err := b.keys.open("livesse", q); !errors.Is(err, errUnauthenticated) {
				t.Fatalf("changed at %d to %c: %v", i, c, err)
			}
		}
	}
	for _, q := range []string{p[:len(p)-1], p + "A", p[:prefixLen+10], "", "2", "2i", "{}", `{"v":1,"k":"all","a":"x"}`, "3" + p[1:],
		p[:40] + "\r" + p[40:], p[:40] + "\n" + p[40:], p + "\n"} { // base64 decoders skip CR and LF
		if _, err := b.keys.open("livesse", q); !errors.Is(err, errUnauthenticated) {
			t.Errorf("%.40q: %v", q, err)
		}
	}
	_, err = b.keys.open("other", p)
	is.True(errors.Is(err, errUnauthenticated))

	// Another secret: unknown key; a previous secret: accepted.
	other := []byte(strings.Repeat("o", 40))
	c := offline(t, "c", nil, WithSecret(other))
	_, err = b.keys.open("livesse", c.keys.seal("livesse", t0.UnixMicro(), body))
	is.True(errors.Is(err, errUnauthenticated))
	is.True(strings.Contains(err.Error(), "unknown key"))
	d := offline(t, "d", nil, WithSecret(testSecret, other))
	_, err = d.keys.open("livesse", c.keys.seal("livesse", t0.UnixMicro(), body))
	is.NoErr(err)
}

func TestSignedSQL(t *testing.T) {
	is := is.New(t)
	b := offline(t, "b", nil)
	k := deriveSubkeys(testSecret)
	body := `{"a": "refresh", "k": "all", "p": "", "t": "", "v": 2}`
	p := signSQL(k.sql, k.sqlKID, "livesse", t0.UnixMicro(), strings.Repeat("ab", 16), body)
	is.Equal(len(p), signedHeaderLen+len(body))
	o, err := b.keys.open("livesse", p)
	is.NoErr(err)
	is.True(o.signed)
	is.Equal(string(o.body), body)
	is.Equal(o.time, t0.UnixMicro())
	for i := range p {
		q := []byte(p)
		q[i] ^= 1
		if _, err := b.keys.open("livesse", string(q)); !errors.Is(err, errUnauthenticated) {
			t.Fatalf("changed at %d: %v", i, err)
		}
	}
	// Upper-case hex is another payload, not the same one.
	q := p[:prefixLen] + strings.ToUpper(p[prefixLen:prefixLen+sigHexLen]) + p[prefixLen+sigHexLen:]
	if q != p {
		_, err = b.keys.open("livesse", q)
		is.True(errors.Is(err, errUnauthenticated))
	}
	_, err = b.keys.open("elsewhere", p)
	is.True(errors.Is(err, errUnauthenticated))
	// The instance key cannot sign SQL messages, nor the other way round.
	inst := k.inst
	_, err = b.keys.open("livesse", signSQL(inst, k.sqlKID, "livesse", t0.UnixMicro(), strings.Repeat("ab", 16), body))
	is.True(errors.Is(err, errUnauthenticated))
}

// The key blocks stored for SQL compute the same HMAC as crypto/hmac.
func TestHMACPads(t *testing.T) {
	is := is.New(t)
	k := deriveSubkeys(testSecret)
	ipad, opad := hmacPads(k.sql)
	msg := []byte("livesse\n2s" + k.sqlKID + "payload")
	inner := sha256.Sum256(append(bytes.Clone(ipad), msg...))
	outer := sha256.Sum256(append(bytes.Clone(opad), inner[:]...))
	h := hmac.New(sha256.New, k.sql[:])
	h.Write(msg)
	is.Equal(outer[:], h.Sum(nil))
	is.True(k.instKID != k.sqlKID)
	is.Equal(len(k.instKID), keyIDLen)
}

func TestReplayGuard(t *testing.T) {
	is := is.New(t)
	us := func(d time.Duration) int64 { return t0.Add(d).UnixMicro() }
	g := newReplayGuard(t0.Add(-time.Hour), 4)
	is.NoErr(g.check(1, us(0), t0))
	is.True(errors.Is(g.check(1, us(0), t0), errReplayed))
	is.True(errors.Is(g.check(1, us(time.Second), t0), errReplayed)) // the id, whatever the time
	is.NoErr(g.check(2, us(-MessageWindow), t0))                     // just inside, both ways
	is.NoErr(g.check(3, us(MessageWindow), t0))
	is.True(errors.Is(g.check(4, us(-MessageWindow-time.Microsecond), t0), errStale))
	is.True(errors.Is(g.check(5, us(MessageWindow+time.Microsecond), t0), errStale))

	// Ids are forgotten once out of the window, and their replays are then
	// stale.
	later := t0.Add(MessageWindow + time.Second)
	is.NoErr(g.check(6, later.UnixMicro(), later))
	is.True(errors.Is(g.check(1, us(0), later), errStale))

	// Full: the oldest is forgotten, and messages as old are refused.
	g = newReplayGuard(t0.Add(-time.Hour), 3)
	for i := range 3 {
		is.NoErr(g.check(uint64(10+i), us(time.Duration(i)*time.Second), t0))
	}
	is.NoErr(g.check(20, us(10*time.Second), t0)) // forgets 10 (made at t0)
	is.True(errors.Is(g.check(10, us(0), t0), errStale))
	is.True(errors.Is(g.check(99, us(0), t0), errStale)) // as old as what was forgotten
	is.True(errors.Is(g.check(11, us(time.Second), t0), errReplayed))
	is.NoErr(g.check(21, us(500*time.Millisecond), t0)) // newer than the forgotten one

	// Nothing made well before the guard started is accepted: it could be
	// a replay of what was sent before.
	g = newReplayGuard(t0, 10)
	is.True(errors.Is(g.check(1, us(-startSlack-time.Microsecond), t0), errStale))
	is.NoErr(g.check(2, us(-startSlack+time.Millisecond), t0))
}

// A reason's warnings are logged once per refusalLogEvery, saying how many
// were left out.
func TestRefusalLogRateLimited(t *testing.T) {
	is := is.New(t)
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	var r refusalLog
	err := errors.New("bad")
	for i := range 5 {
		r.note(log, t0.Add(time.Duration(i)*time.Second), "unauthenticated", "refused", err, strings.Repeat("p", 1000))
	}
	r.note(log, t0, "stale", "refused", err, "x")
	is.Equal(strings.Count(buf.String(), "\n"), 2)
	r.note(log, t0.Add(refusalLogEvery+time.Second), "unauthenticated", "refused", err, "y")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	is.Equal(len(lines), 3)
	is.True(strings.Contains(lines[2], "suppressed=4"))
	is.True(!strings.Contains(lines[0], "suppressed"))
	is.True(len(lines[0]) < 300) // the payload is clipped
}

// A stored message is accepted only if it is the one its (authentic)
// reference names, of the same type, and not itself a reference.
func TestStoredMessageBound(t *testing.T) {
	is := is.New(t)
	rows := map[string]string{}
	a := offline(t, "a", nil)
	b := offline(t, "b", rows)
	seal := func(e envelope) string { return a.keys.seal("livesse", t0.UnixMicro(), mustEncode(t, e)) }
	store := func(payload string) string {
		sum := sha256.Sum256([]byte(payload))
		rows[hex.EncodeToString(sum[:])] = payload
		return hex.EncodeToString(sum[:])
	}
	msg := func(action string) envelope {
		return envelope{V: 2, Instance: "a", Message: lt.Must(lt.ServerAction("", lt.ToAll, "", action, nil))}
	}
	ref := func(digest string) string {
		return seal(envelope{V: 2, Instance: "a", Ref: digest})
	}

	good := store(seal(msg("big")))
	m, _, ok := b.receive(t.Context(), ref(good))
	is.True(ok)
	is.Equal(View(t, m).Action, "big")

	// The row was replaced by another authentic message: refused.
	other := seal(msg("other"))
	rows[good] = other
	_, _, ok = b.receive(t.Context(), ref(good))
	is.True(!ok)
	is.Equal(b.stats.unauthenticated.Load(), int64(1))

	// A reference to a reference, or to a signed message: refused.
	inner := store(ref(store(seal(msg("deep")))))
	_, _, ok = b.receive(t.Context(), ref(inner))
	is.True(!ok)
	k := deriveSubkeys(testSecret)
	signed := store(signSQL(k.sql, k.sqlKID, "livesse", t0.UnixMicro(), strings.Repeat("cd", 16), `{"v":2,"k":"all","a":"x"}`))
	_, _, ok = b.receive(t.Context(), ref(signed))
	is.True(!ok)
	is.Equal(b.stats.malformed.Load(), int64(2))

	// A missing row: the message is lost, and pages resync.
	_, _, ok = b.receive(t.Context(), ref(strings.Repeat("0", 64)))
	is.True(!ok)
	is.Equal(b.stats.dropped.Load(), int64(1))
	is.Equal(len(b.resync), 1)

	// A reference for another instance is not even fetched; one for b is.
	fetched := 0
	b.fetchRow = func(context.Context, []byte, bool) (string, error) { fetched++; return "", pgx.ErrNoRows }
	_, _, ok = b.receive(t.Context(), seal(envelope{V: 2, Instance: "a", To: "c", Ref: good}))
	is.True(!ok)
	is.Equal(fetched, 0)
	_, _, _ = b.receive(t.Context(), seal(envelope{V: 2, Instance: "a", To: "b", Ref: good}))
	is.Equal(fetched, 1)
}

// The receiving path of one small message, without the database:
// authenticate (AES-GCM), check time and replay, decode.
func BenchmarkReceive(b *testing.B) {
	a := offline(b, "a", nil, WithClock(time.Now))
	l := offline(b, "b", nil, WithClock(time.Now))
	payloads := make([]string, b.N)
	for i := range payloads {
		payloads[i] = a.keys.seal("livesse", time.Now().UnixMicro(), mustEncode(b, envelope{V: 2, Instance: "a", Message: lt.Must(lt.ServerAction(
			"page", lt.ToSession, "anon:0123456789abcdef", "tick", map[string]any{"n": i}))}))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, _, ok := l.receive(b.Context(), payloads[i]); !ok {
			b.Fatal("refused")
		}
	}
}

// Sealing one small message, as Publish does before sending it.
func BenchmarkSeal(b *testing.B) {
	a := offline(b, "a", nil)
	body := mustEncode(b, envelope{V: 2, Instance: "a", Message: lt.Must(lt.ServerAction(
		"page", lt.ToSession, "anon:0123456789abcdef", "tick", map[string]any{"n": 1}))})
	b.ReportAllocs()
	for b.Loop() {
		_ = a.keys.seal("livesse", time.Now().UnixMicro(), body)
	}
}

// For comparison: decoding the same message's JSON alone, all that
// version 1 did.
func BenchmarkDecodeOnly(b *testing.B) {
	body := mustEncode(b, envelope{V: 2, Instance: "a", Message: lt.Must(lt.ServerAction(
		"page", lt.ToSession, "anon:0123456789abcdef", "tick", map[string]any{"n": 1}))})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decode(body); err != nil {
			b.Fatal(err)
		}
	}
}
