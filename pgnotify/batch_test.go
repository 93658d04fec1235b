package pgnotify_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/livesse/livesse/internal/test/pgtest"
	"github.com/livesse/livesse/pgnotify"
	"github.com/matryer/is"
)

// Many goroutines publishing at once share statements: every message
// arrives once, each publisher's in the order it published them, and the
// sender counts fewer statements than messages.
func TestConcurrentPublishesShareStatements(t *testing.T) {
	pgtest.Require(t)
	is := is.New(t)
	db := pgtest.Pool(t)
	a := newListener(t, db, "a")
	b := newListener(t, db, "b")
	rec := newRecorder(t, b)
	const publishers, each = 32, 25
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Go(func() {
			for i := range each {
				if err := a.Publish(t.Context(), msgAll(fmt.Sprintf("p%d", p), map[string]any{"i": i})); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	next := make([]int, publishers)
	for range publishers * each {
		m := rec.next(t)
		var p int
		_, err := fmt.Sscanf(m.Action, "p%d", &p)
		is.NoErr(err)
		i := int(m.Data["i"].(float64))
		if i != next[p] {
			t.Fatalf("publisher %d: message %d arrived when %d was due", p, i, next[p])
		}
		next[p]++
	}
	rec.none(t)
	h, err := a.Health(t.Context())
	is.NoErr(err)
	is.Equal(h.Published, int64(publishers*each))
	t.Logf("%d messages in %d statements", h.Published, h.Batches)
	is.True(h.Batches < h.Published) // shared
}

// A Publish whose context ends while it waits for its batch returns the
// context's error; one after Close returns ErrClosed; neither hangs, and
// the Listener goes on sending the others.
func TestPublishCancelledOrClosed(t *testing.T) {
	pgtest.Require(t)
	is := is.New(t)
	db := pgtest.Pool(t)
	a := newListener(t, db, "a")
	b := newListener(t, db, "b")
	rec := newRecorder(t, b)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	is.True(errors.Is(a.Publish(ctx, msgAll("never", nil)), context.Canceled))
	is.NoErr(a.Publish(t.Context(), msgAll("after", nil)))
	is.Equal(rec.next(t).Action, "after") // the cancelled one was not sent
	rec.none(t)

	// Close while many publish: each returns nil (sent) or ErrClosed.
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 64 {
		wg.Go(func() { errs <- a.Publish(t.Context(), msgAll("racing", nil)) })
	}
	is.NoErr(a.Close())
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil && !errors.Is(err, pgnotify.ErrClosed) {
			t.Fatalf("Publish racing Close: %v", err)
		}
	}
	is.Equal(a.Publish(t.Context(), msgAll("closed", nil)), pgnotify.ErrClosed)
}
