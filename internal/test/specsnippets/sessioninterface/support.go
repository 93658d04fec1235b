package sessioninterface

import "github.com/livesse/livesse/lt"

// The doc's Session and lt.Session have exactly the same method set: each
// is assignable to the other (so neither has a method the other lacks), and
// lt.Session satisfies the literal one-method interface.
var (
	_ Session    = lt.Session(nil)
	_ lt.Session = Session(nil)
	_ interface {
		TriggerAction(string, map[string]interface{}) error
	} = lt.Session(nil)
)

// NoticeState is what the notification page shows: every message received.
type NoticeState struct {
	Notices []string
}

// NoticeController has the "notification" action the first snippet
// triggers. OnConnect hands each connection's Session to sessions (when
// set), the way an app keeps it for a webhook or a background job; the
// tests receive it there.
type NoticeController struct {
	sessions chan<- lt.Session
}

func (c *NoticeController) OnConnect(state NoticeState, ctx *lt.Context) (NoticeState, error) {
	if c.sessions != nil {
		select {
		case c.sessions <- ctx.Session():
		default:
		}
	}
	return state, nil
}

func (c *NoticeController) Notification(state NoticeState, ctx *lt.Context) (NoticeState, error) {
	state.Notices = append(state.Notices, ctx.GetString("message"))
	return state, nil
}

// ScopeState is shown by the controllers of the document's closing section
// ("Session is scoped to the current user", Sync and BroadcastAction).
type ScopeState struct {
	Clicks   int
	Synced   int
	LastSync string
	Heard    []string
}

// SyncController implements Sync: after a client action in one tab, the
// other tabs of the session get a Sync dispatch.
type SyncController struct{}

func (c *SyncController) Click(state ScopeState, ctx *lt.Context) (ScopeState, error) {
	state.Clicks++
	return state, nil
}

func (c *SyncController) Sync(state ScopeState, ctx *lt.Context) (ScopeState, error) {
	state.Synced++
	state.LastSync = ctx.Action()
	return state, nil
}

// BroadcastController has no Sync and uses ctx.BroadcastAction for explicit
// cross-tab updates.
type BroadcastController struct{}

func (c *BroadcastController) Say(state ScopeState, ctx *lt.Context) (ScopeState, error) {
	return state, ctx.BroadcastAction("hear", map[string]interface{}{"what": ctx.GetString("what")})
}

func (c *BroadcastController) Hear(state ScopeState, ctx *lt.Context) (ScopeState, error) {
	state.Heard = append(state.Heard, ctx.GetString("what"))
	return state, nil
}
