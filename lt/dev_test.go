package lt_test

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/matryer/is"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/lttest"
)

type devState struct{ N int }

type devCtrl struct{}

func (c *devCtrl) Inc(s devState, _ *lt.Context) (devState, error) { s.N++; return s, nil }

func (c *devCtrl) Fail(s devState, _ *lt.Context) (devState, error) {
	return s, errors.New("the database said no")
}

func (c *devCtrl) Boom(s devState, _ *lt.Context) (devState, error) {
	if s.N >= 0 {
		panic("out of cheese") // the line the page names
	}
	return s, nil
}

// lockedBuffer is a log that the test reads while handlers write it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// devPage serves a page parsed from a file in a temp dir, with the
// options opts makes for that file.
func devPage(t *testing.T, text string, opts func(file string) []lt.Option) (file, url string, logs *lockedBuffer) {
	t.Helper()
	is := is.New(t)
	file = filepath.Join(t.TempDir(), "page.html")
	is.NoErr(os.WriteFile(file, []byte(text), 0o644))
	logs = &lockedBuffer{}
	all := []lt.Option{lt.WithLogger(slog.New(slog.NewTextHandler(logs, nil)))}
	if opts != nil {
		all = append(all, opts(file)...)
	}
	h, err := lt.New(lt.Must(lt.ParseFiles(file)), &devCtrl{}, devState{}, all...)
	is.NoErr(err)
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		_ = h.Close()
	})
	return file, srv.URL, logs
}

func dev(file string) []lt.Option { return []lt.Option{lt.WithDevMode()} }

// writeNewer writes text to file with a modification time the poller
// cannot mistake for the old one's, however coarse the file system's
// clock.
func writeNewer(t *testing.T, file, text string) {
	t.Helper()
	is := is.New(t)
	fi, err := os.Stat(file)
	is.NoErr(err)
	is.NoErr(os.WriteFile(file, []byte(text), 0o644))
	next := fi.ModTime().Add(2 * time.Second)
	is.NoErr(os.Chtimes(file, next, next))
}

// In development mode a change to the template file reaches a connected
// tab as a full render with the new markup, without a restart; the
// state is kept, and the next action renders with the new template.
func TestDevModeReloadsTemplate(t *testing.T) {
	is := is.New(t)
	file, url, logs := devPage(t, `<body><p>old n={{.N}}</p></body>`, func(file string) []lt.Option {
		return []lt.Option{lt.WithDevMode(file), lt.WithDevPoll(5 * time.Millisecond)}
	})
	is.True(strings.Contains(logs.String(), "development mode"))
	tab := lttest.Open(t, url)
	defer tab.Close()
	is.Equal(tab.Act("inc", nil).Status, 200)
	is.True(strings.Contains(tab.HTML(), "old n=1"))

	writeNewer(t, file, `<body><h1>new</h1><p>new n={{.N}}</p></body>`)
	ev := tab.WaitFor("new n=1") // awaited: the poller notices, the tab gets the render
	is.Equal(ev.Type, "render")
	is.True(strings.Contains(tab.HTML(), "<h1>new</h1>"))
	is.True(!strings.Contains(tab.HTML(), "old"))
	is.Equal(tab.Act("inc", nil).Status, 200)
	is.True(strings.Contains(tab.HTML(), "new n=2"))

	// A template that no longer parses: logged, and shown in the page
	// with its file and line; fixed, the page comes back.
	writeNewer(t, file, `<body><p>{{.N</p></body>`)
	tab.WaitFor("page.html:1")
	is.True(strings.Contains(tab.HTML(), "lt-dev-error"))
	writeNewer(t, file, `<body><p>fixed n={{.N}}</p></body>`)
	tab.WaitFor("fixed n=2")
}

// In development mode an action's error shows what went wrong and where,
// in the page and the log; a panic shows the line that panicked. In
// production mode (the default) the page shows only the generic message.
func TestDevModeShowsErrors(t *testing.T) {
	is := is.New(t)
	_, url, logs := devPage(t, `<body><p>n={{.N}} err={{ltError}}</p></body>`, dev)
	tab := lttest.Open(t, url)
	defer tab.Close()
	r := tab.Act("fail", nil)
	is.True(strings.Contains(tab.HTML(), "the database said no"))
	is.True(strings.Contains(tab.HTML(), "Fail (")) // the method
	is.True(strings.Contains(tab.HTML(), "dev_test.go:"))
	is.True(!strings.Contains(tab.HTML(), "Something went wrong"))
	is.True(strings.Contains(r.Body, "the database said no"))
	is.True(strings.Contains(logs.String(), "the database said no"))

	tab.Act("boom", nil)
	is.True(strings.Contains(tab.HTML(), "panic at "))
	is.True(strings.Contains(tab.HTML(), "dev_test.go:35")) // the line that panicked
	is.True(strings.Contains(tab.HTML(), "out of cheese"))

	_, url, _ = devPage(t, `<body><p>n={{.N}} err={{ltError}}</p></body>`, nil) // production
	tab2 := lttest.Open(t, url)
	defer tab2.Close()
	r = tab2.Act("fail", nil)
	is.True(strings.Contains(tab2.HTML(), "Something went wrong"))
	is.True(!strings.Contains(tab2.HTML(), "database"))
	is.True(!strings.Contains(r.Body, "database"))
	tab2.Act("boom", nil)
	is.True(!strings.Contains(tab2.HTML(), "dev_test.go"))
}

// In development mode a template that fails to execute shows its error,
// with the file and line, on the page's GET; in production the generic
// message.
func TestDevModeShowsTemplateErrors(t *testing.T) {
	is := is.New(t)
	const page = `<body><p>{{.N.Missing}}</p></body>`
	for _, devMode := range []bool{true, false} {
		var opts func(string) []lt.Option
		if devMode {
			opts = dev
		}
		_, url, logs := devPage(t, page, opts)
		resp, err := http.Get(url)
		is.NoErr(err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		is.Equal(resp.StatusCode, http.StatusInternalServerError)
		is.Equal(strings.Contains(string(body), "page.html:1"), devMode)
		is.Equal(strings.Contains(string(body), "Something went wrong"), !devMode)
		is.True(strings.Contains(logs.String(), "page.html:1"))
	}
}
