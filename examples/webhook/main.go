// Command webhook shows notifications pushed by an external service. A
// service (a CI server, a payment provider) POSTs JSON to /webhook naming a
// user; every open tab of that user shows the notification at once, on any
// device, through Handler.TriggerUser. No registry of sessions is needed.
//
//	go run ./examples/webhook
//	# sign in as alice at http://localhost:8080/, then:
//	curl -d '{"user":"alice","message":"Build 42 passed"}' localhost:8080/webhook
//
// Users are identified by a "user" cookie that the sign-in form sets with
// whatever name you type: a demo, with no password. See examples/auth for
// a signed cookie.
package main

import (
	"cmp"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
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

//go:embed webhook.html
var files embed.FS

// Notification is one message received for a user.
type Notification struct {
	ID      int // keys the list item, so a new one is inserted, not re-rendered
	Message string
	At      string
}

// State is one tab's state.
type State struct {
	User          string // "" until signed in
	Notifications []Notification
	Latest        string // the message of the last webhook, as it arrived
	Origin        string // for the curl example on the page
}

// Inbox keeps each user's recent notifications, so that a page opened
// after a webhook arrived still shows it: TriggerUser reaches only the
// tabs open at the time. Safe for concurrent use.
type Inbox struct {
	mu     sync.Mutex
	lastID int
	byUser map[string][]Notification
}

// keep is how many notifications an inbox keeps.
const keep = 50

func (in *Inbox) Add(user string, n Notification) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.byUser == nil {
		in.byUser = map[string][]Notification{}
	}
	in.lastID++
	n.ID = in.lastID
	list := append(in.byUser[user], n)
	if len(list) > keep {
		list = list[len(list)-keep:]
	}
	in.byUser[user] = list
}

// List returns user's notifications, newest first.
func (in *Inbox) List(user string) []Notification {
	in.mu.Lock()
	defer in.mu.Unlock()
	list := in.byUser[user]
	out := make([]Notification, len(list))
	for i, n := range list {
		out[len(list)-1-i] = n
	}
	return out
}

func (in *Inbox) Clear(user string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	delete(in.byUser, user)
}

// Page is the controller. Its Inbox pointer is shared by every tab's copy.
type Page struct {
	Inbox *Inbox
}

// Mount runs for every page load and stream connection: it reads the
// user's inbox, so a page opened later shows what arrived before.
func (p *Page) Mount(s State, ctx *lt.Context) (State, error) {
	s.User = ctx.UserID()
	s.Notifications = p.Inbox.List(s.User)
	if r := ctx.Request(); r != nil {
		s.Origin = "http://" + r.Host
	}
	return s, nil
}

// Notified is the action the webhook handler triggers on the user's tabs.
// It reads the inbox again rather than appending ctx's message to the
// tab's list: a tab whose page was rendered after the webhook stored the
// message, but before the trigger, would otherwise show it twice.
func (p *Page) Notified(s State, ctx *lt.Context) (State, error) {
	s.Notifications = p.Inbox.List(s.User)
	s.Latest = ctx.GetString("message")
	return s, nil
}

// Clear empties the user's inbox; Sync then clears the user's other tabs.
func (p *Page) Clear(s State, ctx *lt.Context) (State, error) {
	p.Inbox.Clear(s.User)
	s.Notifications, s.Latest = nil, ""
	return s, nil
}

// Sync runs on the user's other tabs after an action in one of them.
func (p *Page) Sync(s State, ctx *lt.Context) (State, error) {
	s.Notifications = p.Inbox.List(s.User)
	if len(s.Notifications) == 0 {
		s.Latest = ""
	}
	return s, nil
}

// Webhook payload limits.
const (
	maxWebhookBytes   = 4 << 10
	maxMessageRunes   = 500
	webhookTimeFormat = "15:04:05"
)

// webhook receives {"user": "...", "message": "..."} and notifies every
// open tab of that user. It answers 202 whether or not the user has a tab
// open: the notification is in their inbox either way. A malformed request
// gets 400 with a message saying what is wrong, and changes nothing.
//
// A real endpoint also checks that the sender is who it claims to be,
// typically an HMAC signature header computed with a shared secret.
func webhook(inbox *Inbox, page *lt.Handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var p struct {
			User    *string `json:"user"`
			Message *string `json:"message"`
		}
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxWebhookBytes))
		if err := dec.Decode(&p); err != nil {
			webhookError(w, describeJSONError(err))
			return
		}
		if _, err := dec.Token(); err != io.EOF {
			webhookError(w, "the body must be one JSON object, with nothing after it")
			return
		}
		switch {
		case p.User == nil:
			webhookError(w, `missing field "user"`)
			return
		case !validUser(*p.User):
			webhookError(w, `field "user" must be 1 to 32 letters, digits, '.', '_' or '-'`)
			return
		case p.Message == nil || strings.TrimSpace(*p.Message) == "":
			webhookError(w, `missing field "message"`)
			return
		case utf8.RuneCountInString(*p.Message) > maxMessageRunes:
			webhookError(w, fmt.Sprintf(`field "message" is over %d characters`, maxMessageRunes))
			return
		}
		user, msg := *p.User, strings.TrimSpace(*p.Message)
		inbox.Add(user, Notification{Message: msg, At: time.Now().Format(webhookTimeFormat)})
		// Every open tab of the user, on every instance. With no tab open
		// this does nothing; the inbox has the message for later.
		if err := page.TriggerUser(r.Context(), user, "notified", map[string]any{"message": msg}); err != nil {
			http.Error(w, "notifying the user's tabs: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, `{"status":"accepted"}`+"\n")
	}
}

func webhookError(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": "webhook: " + msg})
}

// describeJSONError turns a decoding error into a message for the sender.
func describeJSONError(err error) string {
	var tooBig *http.MaxBytesError
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooBig):
		return fmt.Sprintf("body over %d bytes", tooBig.Limit)
	case errors.Is(err, io.EOF):
		return "empty body; send a JSON object"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated JSON"
	case errors.As(err, &syntax):
		return fmt.Sprintf("malformed JSON at byte %d: %v", syntax.Offset, err)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q must be a JSON %s", typ.Field, "string")
	default:
		return "malformed JSON: " + err.Error()
	}
}

// newRouter builds the app; options go to lt.New.
func newRouter(opts ...lt.Option) (http.Handler, *lt.Handler, error) {
	tmpl, err := lt.ParseFS(files, "webhook.html")
	if err != nil {
		return nil, nil, err
	}
	inbox := &Inbox{}
	page, err := lt.New(tmpl, &Page{Inbox: inbox}, State{},
		append([]lt.Option{lt.WithAuthenticator(lt.AuthenticatorFunc(authenticate))}, opts...)...)
	if err != nil {
		return nil, nil, err
	}
	r := chi.NewRouter()
	r.Use(chimw.Logger, chimw.Recoverer)
	r.Handle("/", page)
	// Machine-to-machine: no cookies, no Origin check.
	r.Post("/webhook", webhook(inbox, page))
	// The browser forms: refuse cross-site posts.
	r.Group(func(r chi.Router) {
		r.Use(middleware.CheckOrigin())
		r.Post("/signin", signInTo(home))
		r.Post("/signout", signOutTo(home))
	})
	return r, page, nil
}

func main() {
	addr := flag.String("addr", ":"+cmp.Or(os.Getenv("PORT"), "8080"), "listen address (the default port is $PORT, when set)")
	flag.Parse()
	r, h, err := newRouter()
	if err == nil {
		err = serve(*addr, r, h)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "webhook:", err)
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
	fmt.Printf("webhook: serving http://localhost:%d/\n", ln.Addr().(*net.TCPAddr).Port)
	return lt.Serve(ctx, lt.NewServer(r), ln, h)
}
