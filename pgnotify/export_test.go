package pgnotify

import "context"

// WithReconnectHook calls f (in the listening goroutine) each time the
// listen connection is lost, before reconnecting; the reconnect waits for
// f to return.
func WithReconnectHook(f func(ctx context.Context)) Option {
	return func(c *config) { c.hooks.beforeReconnect = f }
}

// WithReceiveHook calls f after each notification is read and handed off
// (or dropped).
func WithReceiveHook(f func()) Option { return func(c *config) { c.hooks.received = f } }

// WithPingHook calls f after each successful ping of the listen
// connection.
func WithPingHook(f func()) Option { return func(c *config) { c.hooks.pinged = f } }
