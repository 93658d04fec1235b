// Command auth is a page for signed-in users: private notes that follow a
// user across their devices. An lt.Authenticator reads a signed session
// cookie; the Identity it returns has only a UserID, so all of a user's
// tabs and devices form one session: a note added on the phone shows
// up on the laptop at once (Sync), and no other user ever sees it.
//
//	go run ./examples/auth               # http://localhost:8080/
//
// A demo: anyone can sign in with any name, no password. What it does show
// for real is the cookie: HMAC-signed, so it cannot be forged or edited,
// HttpOnly, SameSite=Lax, with an expiry inside the signature; and the
// sign-in and sign-out forms refuse cross-site posts (middleware.CheckOrigin).
package main

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
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

//go:embed auth.html
var files embed.FS

// Note is one private note.
type Note struct {
	ID   int
	Text string
}

// State is one tab's state.
type State struct {
	User  string // "" when signed out
	Notes []Note
}

// Notes holds every user's notes. Shared by all tabs, so it locks.
type Notes struct {
	mu     sync.Mutex
	lastID int
	byUser map[string][]Note
}

const maxNotes = 50

func (n *Notes) Add(user, text string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.byUser == nil {
		n.byUser = map[string][]Note{}
	}
	if len(n.byUser[user]) >= maxNotes {
		return lt.UserError("you have 50 notes; delete one first")
	}
	n.lastID++
	n.byUser[user] = append(n.byUser[user], Note{ID: n.lastID, Text: text})
	return nil
}

func (n *Notes) Delete(user string, id int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.byUser[user] = slices.DeleteFunc(n.byUser[user], func(x Note) bool { return x.ID == id })
}

func (n *Notes) List(user string) []Note {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.byUser[user])
}

// Page is the controller; Notes is shared by every tab's copy.
type Page struct {
	Notes *Notes
}

// Mount reads the signed-in user's notes. ctx.UserID() is what the
// Authenticator said for this request: "" for a visitor.
func (p *Page) Mount(s State, ctx *lt.Context) (State, error) {
	s.User = ctx.UserID()
	s.Notes = p.Notes.List(s.User)
	return s, nil
}

var errSignedOut = lt.UserError("sign in first")

// AddNote adds a note for the signed-in user. The user's other tabs and
// devices, the rest of the session, get Sync.
func (p *Page) AddNote(s State, ctx *lt.Context) (State, error) {
	if s.User == "" {
		return s, errSignedOut
	}
	text := strings.TrimSpace(ctx.GetString("text"))
	switch {
	case text == "":
		return s, lt.UserError("write something first")
	case utf8.RuneCountInString(text) > 200:
		return s, lt.UserError("200 characters at most")
	}
	if err := p.Notes.Add(s.User, text); err != nil {
		return s, err
	}
	s.Notes = p.Notes.List(s.User)
	return s, nil
}

func (p *Page) DeleteNote(s State, ctx *lt.Context) (State, error) {
	if s.User == "" {
		return s, errSignedOut
	}
	p.Notes.Delete(s.User, ctx.GetInt("delete_note"))
	s.Notes = p.Notes.List(s.User)
	return s, nil
}

// Sync runs on the user's other tabs and devices after an action.
func (p *Page) Sync(s State, ctx *lt.Context) (State, error) {
	s.Notes = p.Notes.List(s.User)
	return s, nil
}

// Sessions signs and checks the session cookie: "user.expiry.signature",
// base64url, with an HMAC-SHA256 over the user and the expiry.
type Sessions struct {
	Key    []byte        // at least 32 random bytes; keep it secret
	MaxAge time.Duration // how long a sign-in lasts
}

const sessionCookie = "auth"

var validUser = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,32}$`)

func (s *Sessions) sign(payload string) string {
	m := hmac.New(sha256.New, s.Key)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Issue returns the cookie value for user, valid until now+MaxAge.
func (s *Sessions) Issue(user string, now time.Time) string {
	payload := base64.RawURLEncoding.EncodeToString([]byte(user)) + "." + strconv.FormatInt(now.Add(s.MaxAge).Unix(), 10)
	return payload + "." + s.sign(payload)
}

// User checks a cookie value and returns its user.
func (s *Sessions) User(value string, now time.Time) (string, error) {
	i := strings.LastIndexByte(value, '.')
	if i < 0 {
		return "", errors.New("malformed session cookie")
	}
	payload, sig := value[:i], value[i+1:]
	if !hmac.Equal([]byte(sig), []byte(s.sign(payload))) {
		return "", errors.New("session cookie with a bad signature")
	}
	name, exp, _ := strings.Cut(payload, ".")
	user, err := base64.RawURLEncoding.DecodeString(name)
	if err != nil {
		return "", errors.New("malformed session cookie")
	}
	if sec, err := strconv.ParseInt(exp, 10, 64); err != nil || now.Unix() > sec {
		return "", errors.New("session expired")
	}
	return string(user), nil
}

// Identify implements lt.Authenticator. A visitor without a valid cookie is
// anonymous (an empty Identity, for which lt uses its own session cookie):
// the page then shows the sign-in form. An expired or forged cookie is
// treated the same way rather than refused with 401, so the visitor can
// sign in again.
func (s *Sessions) Identify(r *http.Request) (lt.Identity, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return lt.Identity{}, nil
	}
	user, err := s.User(c.Value, time.Now())
	if err != nil {
		return lt.Identity{}, nil
	}
	// Only a UserID: the session defaults to the user, so every tab and
	// device of the user acts together.
	return lt.Identity{UserID: user}, nil
}

func (s *Sessions) signIn(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	if !validUser.MatchString(name) {
		http.Error(w, "name: use 1 to 32 letters, digits, '.', '_' or '-'", http.StatusBadRequest)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: s.Issue(name, time.Now()), Path: "/",
		MaxAge: int(s.MaxAge.Seconds()), HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil,
	})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// signOut ends the sign-in of this browser. Its other open tabs keep their
// live connection (and the notes it shows) until they reload, but their
// actions are refused from now on: lt only accepts a connection's actions
// from the identity that opened it.
func (s *Sessions) signOut(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// whoami answers with the Identity that middleware.Authenticate found:
// the same Authenticator serves the live page and ordinary handlers.
func whoami(w http.ResponseWriter, r *http.Request) {
	id, _ := lt.IdentityFrom(r.Context())
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"user": id.UserID})
}

// newRouter builds the app; options go to lt.New.
func newRouter(sessions *Sessions, opts ...lt.Option) (http.Handler, *lt.Handler, error) {
	if len(sessions.Key) < 32 {
		return nil, nil, errors.New("auth: the session key needs at least 32 bytes")
	}
	tmpl, err := lt.ParseFS(files, "auth.html")
	if err != nil {
		return nil, nil, err
	}
	h, err := lt.New(tmpl, &Page{Notes: &Notes{}}, State{}, append([]lt.Option{lt.WithAuthenticator(sessions)}, opts...)...)
	if err != nil {
		return nil, nil, err
	}
	r := chi.NewRouter()
	r.Use(chimw.Logger, chimw.Recoverer)
	r.Handle("/", h)
	r.With(middleware.Authenticate(sessions)).Get("/whoami", whoami)
	r.Group(func(r chi.Router) {
		r.Use(middleware.CheckOrigin())
		r.Post("/signin", sessions.signIn)
		r.Post("/signout", sessions.signOut)
	})
	return r, h, nil
}

func main() {
	addr := flag.String("addr", ":"+cmp.Or(os.Getenv("PORT"), "8080"), "listen address (the default port is $PORT, when set)")
	flag.Parse()
	// A fresh key per run signs everyone out at restart; a real app loads
	// a persistent one from its secret store.
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	r, h, err := newRouter(&Sessions{Key: key, MaxAge: 7 * 24 * time.Hour})
	if err == nil {
		err = serve(*addr, r, h)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "auth:", err)
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
	fmt.Printf("auth: serving http://localhost:%d/\n", ln.Addr().(*net.TCPAddr).Port)
	return lt.Serve(ctx, lt.NewServer(r), ln, h)
}
