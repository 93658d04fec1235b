package ltbrowser

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"
)

// Logs records what an app logs at Info and above, one line per record:
// the message, then " key=value" for each attribute named in keys, so
// that a test can wait for a line the app logs from a goroutine of its
// own (a timer, a job).
type Logs struct {
	keys  []string
	lines chan string
}

// NewLogs returns a Logs that keeps the attributes named in keys. Use
// Logger for the app.
func NewLogs(keys ...string) *Logs { return &Logs{keys: keys, lines: make(chan string, 100)} }

// Logger returns a logger that writes to l.
func (l *Logs) Logger() *slog.Logger { return slog.New(logsHandler{l}) }

// Await reads the recorded lines until want, for at most Timeout, and
// says which lines came instead when it does not come.
func (l *Logs) Await(want string) error {
	timeout := time.After(Timeout)
	var seen []string
	for {
		select {
		case line := <-l.lines:
			if line == want {
				return nil
			}
			seen = append(seen, line)
		case <-timeout:
			return fmt.Errorf("no log line %q; saw %q", want, seen)
		}
	}
}

// logsHandler keeps slog's Handler methods off the exported Logs.
type logsHandler struct{ l *Logs }

func (h logsHandler) Enabled(_ context.Context, lv slog.Level) bool { return lv >= slog.LevelInfo }
func (h logsHandler) WithAttrs([]slog.Attr) slog.Handler            { return h }
func (h logsHandler) WithGroup(string) slog.Handler                 { return h }

func (h logsHandler) Handle(_ context.Context, r slog.Record) error {
	line := r.Message
	r.Attrs(func(a slog.Attr) bool {
		if slices.Contains(h.l.keys, a.Key) {
			line += " " + a.Key + "=" + a.Value.String()
		}
		return true
	})
	select {
	case h.l.lines <- line:
	default: // a test that logs this much has failed anyway
	}
	return nil
}
