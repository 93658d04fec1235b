package pgnotify

import (
	"log/slog"
	"sync"
	"time"
)

// refusalLogEvery is the least time between two log lines of one reason:
// anyone who can connect to the database can NOTIFY, as fast as they like.
const refusalLogEvery = 10 * time.Second

// refusalLog rate-limits the warnings about refused payloads (and failed
// beacons): at most one line per reason every refusalLogEvery, saying how
// many were left out since the last.
type refusalLog struct {
	mu      sync.Mutex
	reasons map[string]*refusalCount
}

type refusalCount struct {
	last       time.Time
	suppressed int
}

// note logs msg for reason, unless a line of that reason was logged less
// than refusalLogEvery ago. payload, if any, is clipped.
func (r *refusalLog) note(log *slog.Logger, now time.Time, reason, msg string, err error, payload string) {
	r.mu.Lock()
	if r.reasons == nil {
		r.reasons = map[string]*refusalCount{}
	}
	c := r.reasons[reason]
	if c == nil {
		c = &refusalCount{}
		r.reasons[reason] = c
	}
	if !c.last.IsZero() && now.Sub(c.last) < refusalLogEvery {
		c.suppressed++
		r.mu.Unlock()
		return
	}
	suppressed := c.suppressed
	c.last, c.suppressed = now, 0
	r.mu.Unlock()
	args := []any{"reason", reason, "err", err}
	if payload != "" {
		args = append(args, "payload", clip(payload))
	}
	if suppressed > 0 {
		args = append(args, "suppressed", suppressed)
	}
	log.Warn(msg, args...)
}
