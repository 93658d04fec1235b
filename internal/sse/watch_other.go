//go:build !linux

package sse

// Watcher notices when the clients of taken streams close their
// connections. On this platform it watches nothing: a closed client is
// noticed at the stream's next heartbeat.
type Watcher struct{}

// NewWatcher returns a Watcher.
func NewWatcher() (*Watcher, error) { return &Watcher{}, nil }

// Watch does nothing here; see the Linux implementation.
func (*Watcher) Watch(*Stream, func()) (stop func(), err error) { return func() {}, nil }

// Close does nothing here.
func (*Watcher) Close() error { return nil }
