// Command notifyuser pushes a notification to a user from anywhere in the
// application: from another user's page, or from any program through
// POST /notify. It does it two ways, side by side: with the server-actions
// guide's registry (a sync.Map from user id to the Session stored in
// OnConnect; simple, but it works on one instance only and keeps one entry
// per user, see Registry), and with the library's own targeting,
// Handler.TriggerUser, which reaches every open tab of the user, on every
// instance, with no bookkeeping at all.
//
//	go run ./examples/notifyuser
//	# sign in as alice at http://localhost:8080/, then:
//	curl -d to=alice -d message=hello -d via=library localhost:8080/notify
//
// Users are identified by a "user" cookie that the sign-in form sets with
// whatever name you type: a demo, with no password.
package main

import (
	"cmp"
	"context"
	"embed"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
	chimw "github.com/go-chi/chi/v5/middleware"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/middleware"
)

//go:embed notifyuser.html
var files embed.FS

// Note is one notification received.
type Note struct {
	Key                    string // keys the list item, so a new one is inserted, not re-rendered
	Message, From, Via, At string
}

// State is one tab's state.
type State struct {
	User       string
	Inbox      []Note // newest first
	Received   int    // notifications received, for the keys
	Result     string // what happened to the last notification this tab sent
	Registered []string
}

// Registry is the guide's session registry: user id -> the lt.Session
// that the user's most recent OnConnect stored. It is here to show its
// limits, which the page spells out too:
//
//  1. It lives in this process. With several instances behind a load
//     balancer, a user whose tab is connected to another instance is not
//     in this instance's map, so NotifyUser silently does nothing.
//  2. It keeps one entry per user, while a user may have many tabs: every
//     OnConnect overwrites the entry and every OnDisconnect deletes it. When
//     a user closes one of two tabs, the entry is gone although the other
//     tab is still open, and that tab gets nothing more.
//  3. Anonymous visitors all have the user id "", so they are left out.
//
// Handler.TriggerUser has none of these problems: lt tracks every
// connection of every user, and a Broadcaster (package pgnotify) carries
// the action to the other instances.
//
// (The guide keeps the map in a package variable; here it hangs off the
// controller, which keeps the example testable, but the limits are the
// same.)
type Registry struct {
	sessions sync.Map // user id -> lt.Session
}

// NotifyUser is the guide's NotifyUser. It reports whether the user had
// an entry.
func (r *Registry) NotifyUser(userID string, data map[string]any) bool {
	session, ok := r.sessions.Load(userID)
	if ok {
		_ = session.(lt.Session).TriggerAction("notification", data)
	}
	return ok
}

// Users lists the users that have an entry, for the page.
func (r *Registry) Users() []string {
	var users []string
	r.sessions.Range(func(k, _ any) bool {
		users = append(users, k.(string))
		return true
	})
	slices.Sort(users)
	return users
}

// Notifier sends notifications either way. It holds the page's Handler,
// set once lt.New has made it.
type Notifier struct {
	Registry Registry
	page     *lt.Handler
}

// Via names how a notification is sent.
const (
	ViaRegistry = "registry"
	ViaLibrary  = "library"
)

// Send notifies user to with message, from user from, via ViaRegistry or
// ViaLibrary, and describes what happened.
func (n *Notifier) Send(ctx context.Context, to, message, from, via string) (string, error) {
	switch {
	case !validUser(to):
		return "", lt.UserError("to: name a user (1 to 32 letters, digits, '.', '_' or '-')")
	case strings.TrimSpace(message) == "":
		return "", lt.UserError("message: write something")
	case utf8.RuneCountInString(message) > 200:
		return "", lt.UserError("message: 200 characters at most")
	}
	data := map[string]any{"message": strings.TrimSpace(message), "from": from, "via": via, "at": time.Now().Format("15:04:05")}
	switch via {
	case ViaRegistry:
		if n.Registry.NotifyUser(to, data) {
			return fmt.Sprintf("Sent to %s through the registry.", to), nil
		}
		return fmt.Sprintf("Not delivered: %s has no entry in this instance's registry.", to), nil
	case ViaLibrary:
		if err := n.page.TriggerUser(ctx, to, "notification", data); err != nil {
			return "", err
		}
		return fmt.Sprintf("Sent to %s with TriggerUser: every tab %s has open gets it (none open: nothing happens).", to, to), nil
	}
	return "", lt.UserError(fmt.Sprintf("via: %q or %q", ViaRegistry, ViaLibrary))
}

// Page is the controller. Notifier is shared by every tab's copy of the
// prototype; userID is this tab's own.
type Page struct {
	Notifier *Notifier
	userID   string
}

func (p *Page) Mount(s State, ctx *lt.Context) (State, error) {
	s.User = ctx.UserID()
	s.Registered = p.Notifier.Registry.Users()
	return s, nil
}

// OnConnect stores the tab's Session in the registry, as the guide does.
func (p *Page) OnConnect(s State, ctx *lt.Context) (State, error) {
	p.userID = ctx.UserID()
	if p.userID != "" {
		p.Notifier.Registry.sessions.Store(p.userID, ctx.Session())
	}
	s.Registered = p.Notifier.Registry.Users()
	return s, nil
}

// OnDisconnect deletes the user's entry, as the guide does, even if the
// user has other tabs open: limit 2 of Registry.
func (p *Page) OnDisconnect() {
	if p.userID != "" {
		p.Notifier.Registry.sessions.Delete(p.userID)
	}
}

// Notification is the action both ways trigger.
func (p *Page) Notification(s State, ctx *lt.Context) (State, error) {
	if ctx.FromClient() {
		return s, lt.UserError("notifications come from the server")
	}
	n := Note{Message: ctx.GetString("message"), From: ctx.GetString("from"), Via: ctx.GetString("via"), At: ctx.GetString("at")}
	s.Received++
	n.Key = strconv.Itoa(s.Received)
	s.Inbox = append([]Note{n}, s.Inbox...)
	if len(s.Inbox) > 20 {
		s.Inbox = s.Inbox[:20]
	}
	s.Registered = p.Notifier.Registry.Users()
	return s, nil
}

// Send is the page's form: notify another user.
func (p *Page) Send(s State, ctx *lt.Context) (State, error) {
	if s.User == "" {
		return s, lt.UserError("sign in first")
	}
	result, err := p.Notifier.Send(ctx, ctx.GetString("to"), ctx.GetString("message"), s.User, ctx.GetString("via"))
	if err != nil {
		return s, err
	}
	s.Result = result
	s.Registered = p.Notifier.Registry.Users()
	return s, nil
}

// notifyEndpoint is POST /notify for other programs: form fields to,
// message and via. It answers 200 with what happened, or 400.
func notifyEndpoint(n *Notifier) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
		result, err := n.Send(r.Context(), r.PostFormValue("to"), r.PostFormValue("message"), "the /notify endpoint", r.PostFormValue("via"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, result)
	}
}

// newRouter builds one instance of the app; options go to lt.New (the
// tests pass lt.WithBroadcaster to run two instances).
func newRouter(n *Notifier, opts ...lt.Option) (http.Handler, *lt.Handler, error) {
	tmpl, err := lt.ParseFS(files, "notifyuser.html")
	if err != nil {
		return nil, nil, err
	}
	h, err := lt.New(tmpl, &Page{Notifier: n}, State{}, append([]lt.Option{lt.WithAuthenticator(lt.AuthenticatorFunc(authenticate))}, opts...)...)
	if err != nil {
		return nil, nil, err
	}
	n.page = h
	r := chi.NewRouter()
	r.Use(chimw.Logger, chimw.Recoverer)
	r.Handle("/", h)
	r.Group(func(r chi.Router) {
		// Browsers must not post here from other sites; curl and other
		// programs send no Origin and pass.
		r.Use(middleware.CheckOrigin())
		r.Post("/notify", notifyEndpoint(n))
		r.Post("/signin", signInTo(home))
		r.Post("/signout", signOutTo(home))
	})
	return r, h, nil
}

func main() {
	addr := flag.String("addr", ":"+cmp.Or(os.Getenv("PORT"), "8080"), "listen address (the default port is $PORT, when set)")
	flag.Parse()
	r, h, err := newRouter(&Notifier{})
	if err == nil {
		err = serve(*addr, r, h)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "notifyuser:", err)
		os.Exit(1)
	}
}

// serve serves r on addr until SIGINT or SIGTERM, then shuts down
// gracefully: lt.Serve ends the live page's streams, which
// http.Server.Shutdown alone does not, and waits for its actions.
func serve(addr string, r http.Handler, h *lt.Handler) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("notifyuser: serving http://localhost:%d/\n", ln.Addr().(*net.TCPAddr).Port)
	return lt.Serve(ctx, lt.NewServer(r), ln, h)
}
