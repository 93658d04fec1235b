package attack

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livesse/livesse/lt"
)

// fuzzState holds what one session must never see of another's.
type fuzzState struct {
	N      int
	Note   string
	Secret string
}

const fuzzPage = `<body><p>n={{.N}}</p><p>note={{.Note}}</p><p>secret={{.Secret}}</p><p>err={{ltError}}</p></body>`

// fuzzCtrl's actions cover the outcomes an action has; internal details
// in its errors must never reach a client.
type fuzzCtrl struct {
	victimActs *atomic.Int64 // actions run in the victim's session
	victim     *atomic.Value // the victim's group
}

func (c *fuzzCtrl) count(ctx *lt.Context) {
	if g, _ := c.victim.Load().(string); g != "" && ctx.SessionID() == g {
		c.victimActs.Add(1)
	}
}

func (c *fuzzCtrl) Bump(s fuzzState, ctx *lt.Context) (fuzzState, error) {
	c.count(ctx)
	s.N++
	return s, nil
}

func (c *fuzzCtrl) Note(s fuzzState, ctx *lt.Context) (fuzzState, error) {
	c.count(ctx)
	s.Note = ctx.GetString("note")
	return s, nil
}

// Keep stores the session's secret: only the victim calls it, once.
func (c *fuzzCtrl) Keep(s fuzzState, ctx *lt.Context) (fuzzState, error) {
	c.count(ctx)
	s.Secret = ctx.GetString("secret")
	return s, nil
}

func (c *fuzzCtrl) Fail(s fuzzState, ctx *lt.Context) (fuzzState, error) {
	c.count(ctx)
	return s, errors.New("INTERNAL-DETAIL of " + ctx.GetString("note"))
}

func (c *fuzzCtrl) Refuse(s fuzzState, ctx *lt.Context) (fuzzState, error) {
	c.count(ctx)
	return s, lt.UserError("refused")
}

func (c *fuzzCtrl) Explode(s fuzzState, ctx *lt.Context) (fuzzState, error) {
	c.count(ctx)
	panic("PANIC-DETAIL")
}

// Fuzz input modes: bits of the mode byte.
const (
	modeURLEncoded = 1 << iota // body, then _lt_conn and _lt_action urlencoded
	modeMultipart              // the fields and body as a multipart form
	modeVictimConn             // _lt_conn is the victim tab's connection
	modeOwnConn                // _lt_conn is the attacker's own
	modeJSON                   // Accept: application/json
)

// FuzzActionPost feeds a real Handler action POSTs with arbitrary
// Content-Type, body, _lt_conn and _lt_action from an attacker's session,
// next to a victim session holding a secret. Whatever comes in: no panic,
// no 5xx, no internal error text, nothing of the victim's in the answer,
// and no action runs in the victim's session.
func FuzzActionPost(f *testing.F) {
	var victimActs atomic.Int64
	var victimGroup atomic.Value
	h, err := lt.New(lt.Must(lt.Parse("fuzz", fuzzPage)), &fuzzCtrl{victimActs: &victimActs, victim: &victimGroup}, fuzzState{},
		lt.WithLogger(slog.New(slog.DiscardHandler)), lt.WithConnectTimeout(time.Hour), lt.WithMaxBodyBytes(64<<10))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = h.Close() })
	const page = "http://app.example/board"

	// The victim: a tab whose state holds a secret, made with its cookie.
	var sb [16]byte
	_, _ = rand.Read(sb[:])
	secretValue := "VICTIM-" + hex.EncodeToString(sb[:])
	victimCookie, victimConn := pageOf(f, h, page, "")
	victimGroup.Store(lt.AnonymousIdentity(victimCookie).SessionID)
	w := serve(h, postReq(page, victimCookie, "application/x-www-form-urlencoded",
		url.Values{"_lt_conn": {victimConn}, "_lt_action": {"keep"}, "secret": {secretValue}}.Encode(), true))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), secretValue) {
		f.Fatalf("the victim's secret was not stored: %d %s", w.Code, w.Body)
	}
	// The attacker: a session and a tab of its own.
	attackerCookie, attackerConn := pageOf(f, h, page, "")

	seeds := []struct {
		ct, body, conn, action string
		mode                   uint8
	}{
		{"application/x-www-form-urlencoded", "bump=", "", "", 0},
		{"application/x-www-form-urlencoded", "note=hi", "", "note", modeURLEncoded | modeOwnConn | modeJSON},
		{"application/x-www-form-urlencoded", "note=x", "", "bump", modeURLEncoded | modeVictimConn | modeJSON},
		{"application/x-www-form-urlencoded", "", "", "keep", modeURLEncoded | modeVictimConn},
		{"", "note=multi", "", "note", modeMultipart | modeOwnConn | modeJSON},
		{"", "file body", "", "explode", modeMultipart | modeVictimConn},
		{"multipart/form-data; boundary=xyz", "--xyz\r\nContent-Disposition: form-data; name=\"bump\"\r\n\r\n\r\n--xyz--\r\n", "", "", 0},
		{"multipart/form-data", "--\r\n", "", "", 0},
		{"application/x-www-form-urlencoded", "fail=&note=%zz", "", "", 0},
		{"application/x-www-form-urlencoded", "explode=", "", "", modeJSON},
		{"application/x-www-form-urlencoded", "", "a.b.c", "bump", modeURLEncoded | modeJSON},
		{"application/x-www-form-urlencoded", "", "", "Mount", modeURLEncoded | modeOwnConn},
		{"application/x-www-form-urlencoded", "", "", strings.Repeat("x", 300), modeURLEncoded | modeOwnConn},
		{"application/x-www-form-urlencoded", "bump=&note=&refuse=", "", "", 0},
		{"application/x-www-form-urlencoded", strings.Repeat("a=1&", 1200), "", "bump", modeURLEncoded},
		{"text/plain", "bump=", "", "", 0},
		{"application/x-www-form-urlencoded; charset=\x00", "bump=", "", "", 0},
		{"application/x-www-form-urlencoded", "bump=;x", "", "", 0},
		{"application/json", `{"_lt_action":"bump"}`, "", "", modeJSON},
		{"multipart/form-data; boundary=" + strings.Repeat("b", 80), "", "", "", 0},
		{"application/x-www-form-urlencoded", "_lt_conn=" + strings.Repeat("%41", 100), "", "bump", 0},
	}
	for _, s := range seeds {
		f.Add(s.ct, []byte(s.body), s.conn, s.action, s.mode)
	}

	f.Fuzz(func(t *testing.T, ct string, body []byte, conn, action string, mode uint8) {
		before := victimActs.Load()
		switch {
		case mode&modeVictimConn != 0:
			conn = victimConn
		case mode&modeOwnConn != 0:
			conn = attackerConn
		}
		fields := url.Values{}
		if conn != "" {
			fields.Set("_lt_conn", conn)
		}
		if action != "" {
			fields.Set("_lt_action", action)
		}
		payload := string(body)
		switch {
		case mode&modeMultipart != 0:
			var b bytes.Buffer
			mw := multipart.NewWriter(&b)
			for k, vs := range fields {
				for _, v := range vs {
					_ = mw.WriteField(k, v)
				}
			}
			if vs, err := url.ParseQuery(string(body)); err == nil {
				for k, v := range vs {
					_ = mw.WriteField(k, strings.Join(v, ","))
				}
			} else if fw, err := mw.CreateFormFile("upload", "f.txt"); err == nil {
				_, _ = fw.Write(body)
			}
			_ = mw.Close()
			ct, payload = mw.FormDataContentType(), b.String()
		case mode&modeURLEncoded != 0:
			if len(fields) > 0 {
				if payload != "" {
					payload += "&"
				}
				payload += fields.Encode()
			}
		}
		w := serve(h, postReq(page, attackerCookie, ct, payload, mode&modeJSON != 0))
		answer := w.Body.String()
		if w.Code >= 500 {
			t.Fatalf("status %d for Content-Type %q body %q: %s", w.Code, ct, clipText(payload, 200), clipText(answer, 300))
		}
		for _, leak := range []string{secretValue, "INTERNAL-DETAIL", "PANIC-DETAIL", "goroutine "} {
			if strings.Contains(answer, leak) || strings.Contains(w.Header().Get("Location"), leak) {
				t.Fatalf("the answer (%d) shows %q: %s", w.Code, leak, clipText(answer, 300))
			}
		}
		if got := victimActs.Load(); got != before {
			t.Fatalf("an action ran in the victim's session (status %d): %s", w.Code, clipText(answer, 300))
		}
		if w.Code == http.StatusSeeOther {
			if loc := w.Header().Get("Location"); !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") {
				t.Fatalf("redirect to %q", loc)
			}
		}
	})
}

// serve runs one request through h.
func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func postReq(u, cookie, ct, body string, asJSON bool) *http.Request {
	req := httptest.NewRequest(http.MethodPost, u, strings.NewReader(body))
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if asJSON {
		req.Header.Set("Accept", "application/json")
	}
	req.Header.Set("Cookie", "lt_session="+cookie)
	return req
}

// pageOf loads the page (with cookie, or as a new visitor) and returns the
// session cookie and the page's connection id.
func pageOf(tb testing.TB, h http.Handler, u, cookie string) (string, string) {
	tb.Helper()
	req := httptest.NewRequest(http.MethodGet, u, nil)
	if cookie != "" {
		req.Header.Set("Cookie", "lt_session="+cookie)
	}
	w := serve(h, req)
	if w.Code != http.StatusOK {
		tb.Fatalf("page: %d %s", w.Code, w.Body)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == "lt_session" {
			cookie = c.Value
		}
	}
	body := w.Body.String()
	i := strings.Index(body, `data-lt-conn="`)
	if i < 0 {
		tb.Fatalf("page without a connection: %s", body)
	}
	rest := body[i+len(`data-lt-conn="`):]
	conn := rest[:strings.IndexByte(rest, '"')]
	if cookie == "" || conn == "" {
		tb.Fatalf("no cookie (%q) or connection (%q)", cookie, conn)
	}
	return cookie, conn
}
