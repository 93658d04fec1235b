// Command chat is a chat with rooms: several users, each with several tabs
// or devices, see the same conversation, live.
//
// The Authenticator puts everyone in a room in one session (the
// SessionID is the room), so lt's multi-tab machinery keeps the whole room
// consistent:
//
//   - after a client action in one tab (Send), every other tab of the
//     group gets Sync, which reads the room's messages again;
//   - Wave uses ctx.BroadcastAction for an explicit event that is not in
//     the message store: the other tabs run Waved and show who waved.
//
// The messages live in a mutex-guarded store that every tab's controller
// copy shares through a pointer field.
//
//	go run ./examples/chat               # http://localhost:8080/rooms/lobby
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
	"net/url"
	"os"
	"os/signal"
	"regexp"
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

//go:embed chat.html
var files embed.FS

// Message is one chat message.
type Message struct {
	ID   int
	From string
	Text string
	At   string
}

// State is one tab's state.
type State struct {
	Room     string
	Me       string // "" until signed in
	Messages []Message
	Notice   string // who waved
}

// Rooms holds every room's recent messages. It is shared by all tabs, so
// it guards itself with a mutex.
type Rooms struct {
	mu     sync.Mutex
	lastID int
	rooms  map[string][]Message
}

// keepMessages is how many messages a room keeps.
const keepMessages = 100

// Post adds a message to room.
func (r *Rooms) Post(room, from, text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rooms == nil {
		r.rooms = map[string][]Message{}
	}
	r.lastID++
	list := append(r.rooms[room], Message{ID: r.lastID, From: from, Text: text, At: time.Now().Format("15:04")})
	if len(list) > keepMessages {
		list = list[len(list)-keepMessages:]
	}
	r.rooms[room] = list
}

// Recent returns a copy of room's messages, oldest first.
func (r *Rooms) Recent(room string) []Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Message(nil), r.rooms[room]...)
}

// Chat is the controller. Rooms is shared by every tab's copy.
type Chat struct {
	Rooms *Rooms
}

// notFound is a Mount error that answers 404 (lt uses an error's
// StatusCode method for the page's status).
type notFound string

func (e notFound) Error() string   { return string(e) }
func (e notFound) StatusCode() int { return http.StatusNotFound }

var validRoom = regexp.MustCompile(`^[a-z0-9-]{1,32}$`)

// Mount runs on every page load and stream connection. lt starts it from
// the session's last saved state; here the session is the whole room,
// so the fields that belong to this user are set afresh.
func (c *Chat) Mount(s State, ctx *lt.Context) (State, error) {
	room := ctx.URLParam("room")
	if !validRoom.MatchString(room) {
		return s, notFound("no such room: use lowercase letters, digits and '-'")
	}
	s.Room, s.Me, s.Notice = room, ctx.UserID(), ""
	s.Messages = c.Rooms.Recent(room)
	return s, nil
}

// Send posts a message. The other tabs of the room catch up in Sync.
func (c *Chat) Send(s State, ctx *lt.Context) (State, error) {
	if s.Me == "" {
		return s, lt.UserError("sign in to chat")
	}
	text := strings.TrimSpace(ctx.GetString("text"))
	switch {
	case text == "":
		return s, lt.UserError("write something first")
	case utf8.RuneCountInString(text) > 500:
		return s, lt.UserError("500 characters at most")
	}
	c.Rooms.Post(s.Room, s.Me, text)
	s.Messages = c.Rooms.Recent(s.Room)
	return s, nil
}

// Sync runs on every other tab of the room after a client action in one of
// them. ctx.Action() names that action; here any action may have changed
// the room, so Sync just reads it again.
func (c *Chat) Sync(s State, ctx *lt.Context) (State, error) {
	s.Messages = c.Rooms.Recent(s.Room)
	return s, nil
}

// Wave tells the room's other tabs that this user waved. It is not stored:
// BroadcastAction runs Waved on every other tab of the session, once this
// method has returned.
func (c *Chat) Wave(s State, ctx *lt.Context) (State, error) {
	if s.Me == "" {
		return s, lt.UserError("sign in to wave")
	}
	if err := ctx.BroadcastAction("waved", map[string]any{"from": s.Me}); err != nil {
		return s, err
	}
	s.Notice = "You waved at the room."
	return s, nil
}

// Waved shows who waved. It runs because of BroadcastAction, never because
// a browser posted it (ctx.FromClient() is false for server actions): anyone
// could otherwise post waved with any name. It does not broadcast in turn,
// which would bounce between the tabs forever.
func (c *Chat) Waved(s State, ctx *lt.Context) (State, error) {
	if ctx.FromClient() {
		return s, lt.UserError("waved is sent by the server; post wave instead")
	}
	from := ctx.GetString("from")
	if from == s.Me {
		s.Notice = "You waved at the room (from another tab)."
	} else {
		s.Notice = from + " waved 👋"
	}
	return s, nil
}

// inRoom is the chat's Authenticator: the demo sign-in cookie
// (signedIn; a demo, not real authentication) names the user, and the
// room in the URL is the session, so that Sync and BroadcastAction
// reach everyone in the room. Without the cookie the visitor is anonymous,
// in a session of their own.
var inRoom = lt.AuthenticatorFunc(func(r *http.Request) (lt.Identity, error) {
	user, ok := signedIn(r)
	if !ok {
		return lt.Identity{}, nil
	}
	return lt.Identity{UserID: user, SessionID: "room:" + chi.URLParam(r, "room")}, nil
})

// backToRoom is where signing in or out leads: the room the form was in.
func backToRoom(r *http.Request) string { return roomURL(r.PostFormValue("room")) }

// roomURL is the page of room, or of the lobby for anything that is not a
// room name (so a form cannot redirect elsewhere).
func roomURL(room string) string {
	if !validRoom.MatchString(room) {
		room = "lobby"
	}
	return "/rooms/" + url.PathEscape(room)
}

// newRouter builds the app; options go to lt.New.
func newRouter(opts ...lt.Option) (http.Handler, *lt.Handler, error) {
	tmpl, err := lt.ParseFS(files, "chat.html")
	if err != nil {
		return nil, nil, err
	}
	h, err := lt.New(tmpl, &Chat{Rooms: &Rooms{}}, State{}, append([]lt.Option{lt.WithAuthenticator(inRoom)}, opts...)...)
	if err != nil {
		return nil, nil, err
	}
	r := chi.NewRouter()
	r.Use(chimw.Logger, chimw.Recoverer)
	r.Get("/", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, roomURL(""), http.StatusSeeOther) })
	r.Handle("/rooms/{room}", h)
	r.Group(func(r chi.Router) {
		r.Use(middleware.CheckOrigin())
		r.Post("/signin", signInTo(backToRoom))
		r.Post("/signout", signOutTo(backToRoom))
	})
	return r, h, nil
}

func main() {
	addr := flag.String("addr", ":"+cmp.Or(os.Getenv("PORT"), "8080"), "listen address (the default port is $PORT, when set)")
	flag.Parse()
	r, h, err := newRouter()
	if err == nil {
		err = serve(*addr, r, h)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "chat:", err)
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
	fmt.Printf("chat: serving http://localhost:%d/\n", ln.Addr().(*net.TCPAddr).Port)
	return lt.Serve(ctx, lt.NewServer(r), ln, h)
}
