package periodic

import (
	"fmt"
	"sync/atomic"

	"github.com/livesse/livesse/lt"
)

// State is the dashboard's state: the latest data fetched.
type State struct {
	Data string
}

// Controller is the snippet's controller: session is the field the snippet
// uses; feed is where fetchLatestData reads from, a pointer shared by every
// connection's copy of the prototype.
type Controller struct {
	session lt.Session
	feed    *Feed
}

// Feed stands in for a data source: each read returns a new reading.
type Feed struct {
	reads atomic.Int64
}

// Reads is how many times the feed was read.
func (f *Feed) Reads() int64 { return f.reads.Load() }

func (c *Controller) fetchLatestData() string {
	return fmt.Sprintf("reading #%d", c.feed.reads.Add(1))
}
