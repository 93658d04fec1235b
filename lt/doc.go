// Package lt makes live, server-rendered pages: an html/template page, a
// state struct and a controller whose exported methods are actions. The
// page GET is real HTML (it works with JavaScript off); the small client
// the page loads then opens a Server-Sent Events stream for updates, which
// carry only the values that changed, and sends actions as form POSTs.
//
// Where to start:
//
//   - Parse (or ParseFiles, ParseFS) a template, and Must for brevity.
//   - Write a controller: methods func (c *C) Name(s S, ctx *Context) (S,
//     error) are actions, called by wire name ("increment", "add_item");
//     Mount, OnConnect, Sync and OnDisconnect are lifecycle methods. Each
//     tab gets a copy of the controller and a state of its own. Context
//     reads the posted fields (GetString, Bind, ...) and names the Session.
//   - New makes a Handler, an http.Handler that serves the page, its
//     stream and its actions at one URL: mount it on chi (r.Handle("/",
//     h)) or on a ServeMux, behind the middleware you use for any request
//     (the middleware package has session, authentication and origin
//     checks). NewServer and Serve run it with sound timeouts and a
//     shutdown that ends its streams.
//   - Push from outside a request (timers, webhooks, jobs):
//     Session.TriggerAction from a controller that kept its session, or
//     Handler.TriggerSession, TriggerUser and TriggerAll from anywhere.
//     WithAuthenticator groups a user's devices; otherwise a session
//     cookie groups a browser's tabs.
//   - Several instances: pass WithBroadcaster a broadcaster from package
//     pgnotify (Postgres LISTEN/NOTIFY) so that triggers and actions reach
//     tabs on every instance.
//
// Tests drive pages over the real wire with package lttest; metrics and
// traces come through WithMetrics and WithTracer (packages ltprom and
// ltotel). The repository's docs/ directory has the guides: getting
// started, controllers and state, server actions, deploying, many
// instances, testing, and the wire protocol.
package lt
