// Command signup is a sign-up form validated as the user types: each
// field's errors show once the user has used that field (ctx.Used), all of
// them after a submit; a server-side check refuses a username that is
// taken; a success clears the form and greets the new member with a
// flash message. With JavaScript off, the same form posts and comes back
// as a 422 page with its errors and what was typed, or redirects (303) to
// the page with the flash.
//
//	go run ./examples/signup             # http://localhost:8080/
//
// Validation is github.com/go-playground/validator's struct tags, turned
// into lt.FieldErrors by lt/ltvalidator. Members live in a mutex-guarded
// map that every tab's controller shares through a pointer field; "admin"
// and "root" are taken from the start.
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
	"strings"
	"sync"
	"syscall"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/go-playground/validator/v10"
	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/ltvalidator"
)

//go:embed signup.html
var files embed.FS

// Form is what the sign-up form posts. Its tags name the form's fields
// (ctx.Bind and ltvalidator read form tags) and give the rules.
type Form struct {
	Username string `form:"username" validate:"required,min=3,max=20,alphanum"`
	Email    string `form:"email" validate:"required,email"`
	// Password is echoed into the page so that an error never wipes what
	// was typed; a real app stores only its hash, once signed up.
	Password string `form:"password" validate:"required,min=8"`
}

// State is one tab's state. Form holds what the user typed, valid or not:
// an action that returns field errors keeps the state it returns on its
// tab (never saved for the session), so the page shows the input with its
// errors.
type State struct {
	Form    Form
	Members int
}

// Members is the member list: usernames, compared without case.
type Members struct {
	mu    sync.Mutex
	names map[string]bool
}

// NewMembers returns a list holding names.
func NewMembers(names ...string) *Members {
	m := &Members{names: map[string]bool{}}
	for _, n := range names {
		m.names[strings.ToLower(n)] = true
	}
	return m
}

// Taken reports whether name is a member's.
func (m *Members) Taken(name string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.names[strings.ToLower(name)]
}

// Add adds name unless it is taken, and returns the number of members and
// whether it added it: checking and adding at once, two sign-ups for one
// name cannot both succeed.
func (m *Members) Add(name string) (int, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.names[strings.ToLower(name)] {
		return len(m.names), false
	}
	m.names[strings.ToLower(name)] = true
	return len(m.names), true
}

// Count is the number of members.
func (m *Members) Count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.names)
}

// Signup is the controller; its copies share the member list and the
// validator.
type Signup struct {
	members  *Members
	validate *validator.Validate
}

// Mount shows the member count.
func (p *Signup) Mount(s State, ctx *lt.Context) (State, error) {
	s.Members = p.members.Count()
	return s, nil
}

// Validate runs as the user types (sent by a field's event): it checks
// the form and shows the errors of the fields the user has used.
func (p *Signup) Validate(s State, ctx *lt.Context) (State, error) {
	fe, err := p.check(&s, ctx)
	if err != nil {
		return s, err
	}
	return s, fe.Err()
}

// SignUp is the submit: every field is checked, and a valid form adds the
// member, clears the form and shows a flash.
func (p *Signup) SignUp(s State, ctx *lt.Context) (State, error) {
	fe, err := p.check(&s, ctx)
	if err != nil {
		return s, err
	}
	if len(fe) == 0 {
		n, added := p.members.Add(s.Form.Username)
		if !added { // taken since the check: another sign-up won
			fe.Add("username", "This username is taken")
		} else {
			ctx.Flash("success", fmt.Sprintf("Welcome, %s! Your account is ready.", s.Form.Username))
			if err := ctx.PushEvent("signed-up", map[string]string{"username": s.Form.Username}); err != nil {
				return s, err
			}
			s.Form, s.Members = Form{}, n
		}
	}
	return s, fe.Err()
}

// check binds the form into s and validates it: Bind's and validator's
// field errors, and, once the user has used the username field and it is
// otherwise valid, whether it is taken.
func (p *Signup) check(s *State, ctx *lt.Context) (lt.FieldErrors, error) {
	fe := lt.FieldErrors{}
	if err := fe.Merge(ctx.Bind(&s.Form)); err != nil {
		return nil, err
	}
	if err := fe.Merge(ltvalidator.Errors(p.validate.Struct(s.Form))); err != nil {
		return nil, err
	}
	if _, bad := fe["username"]; !bad && ctx.Used("username") && p.members.Taken(s.Form.Username) {
		fe.Add("username", "This username is taken")
	}
	s.Members = p.members.Count()
	return fe, nil
}

// newRouter builds the app around members.
func newRouter(members *Members) (http.Handler, *lt.Handler, error) {
	page, err := lt.ParseFS(files, "signup.html")
	if err != nil {
		return nil, nil, err
	}
	h, err := lt.New(page, &Signup{members: members, validate: ltvalidator.New()}, State{}, lt.WithName("signup"))
	if err != nil {
		return nil, nil, err
	}
	r := chi.NewRouter()
	r.Use(middleware.Logger, middleware.Recoverer)
	r.Handle("/", h)
	return r, h, nil
}

func main() {
	addr := flag.String("addr", ":"+cmp.Or(os.Getenv("PORT"), "8080"), "listen address (the default port is $PORT, when set)")
	flag.Parse()
	r, h, err := newRouter(NewMembers("admin", "root"))
	if err == nil {
		err = serve(*addr, r, h)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "signup:", err)
		os.Exit(1)
	}
}

// serve serves r on addr until SIGINT or SIGTERM, then shuts down
// gracefully (lt.Serve ends the live page's streams).
func serve(addr string, r http.Handler, h *lt.Handler) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("signup: serving http://localhost:%d/\n", ln.Addr().(*net.TCPAddr).Port)
	return lt.Serve(ctx, lt.NewServer(r), ln, h)
}
