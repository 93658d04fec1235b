package pgnotify

import (
	"math/rand/v2"
	"time"
)

// backoff yields jittered, exponentially growing delays between min and
// max: attempt n waits a random time between half and all of
// min·2ⁿ (capped at max), so instances that lost the database together do
// not reconnect together.
type backoff struct {
	min, max time.Duration
	attempt  int
}

func (b *backoff) next() time.Duration {
	d := b.min
	for i := 0; i < b.attempt && d < b.max; i++ {
		d *= 2
	}
	d = min(d, b.max)
	b.attempt++
	return d/2 + rand.N(d/2+1)
}
