package livetree

import (
	"bytes"
	"errors"
	"html/template"
	"testing"

	"github.com/matryer/is"
)

// Escaping removes NUL bytes, so only trusted content (template.HTML) can
// carry marker-like bytes. Without the handler's secret nonce they are
// plain content; a value that breaks the structure with it fails the parse,
// and the caller falls back to whole HTML.
func TestSpoofedMarkersFallBack(t *testing.T) {
	is := is.New(t)
	tm := template.Must(template.New("p").Parse(`<p>{{.}}</p><i>{{.}}</i>`))
	var buf bytes.Buffer
	_ = tm.Execute(&buf, template.HTML(""))
	marks, err := Instrument(tm, "N0NCE")
	is.NoErr(err)
	st := NewStatics()
	for _, v := range []template.HTML{"ok", "\x00", "\x00OTHERv9\x00", "\x00N0NC"} {
		buf.Reset()
		is.NoErr(tm.Execute(&buf, v))
		f, err := marks.Parse(buf.Bytes(), st)
		is.NoErr(err)
		is.Equal(f.Render(st), "<p>"+string(v)+"</p><i>"+string(v)+"</i>")
	}
	for _, v := range []template.HTML{"a\x00N0NCEXe\x00", "\x00N0NCEe\x00", "\x00N0NCEv9\x00", "\x00N0NCE"} {
		buf.Reset()
		is.NoErr(tm.Execute(&buf, v))
		f, err := marks.Parse(buf.Bytes(), st)
		if err == nil {
			t.Fatalf("value %q parsed; renders %q", v, f.Render(st))
		}
		is.True(errors.Is(err, ErrMarkers))
	}
}

func TestItemKey(t *testing.T) {
	for html, want := range map[string]string{
		`<li data-key="7">x</li>`:           "7",
		`<tr id="row-3" data-key='k'>`:      "k",
		`  <!-- c --><li id=abc class="x">`: "abc",
		`<li class="x">`:                    "",
		`text only`:                         "",
		`</b><p id="q">`:                    "q",
		`<li data-key="a>b" id="z">`:        "a>b",
		`<input disabled id="i1">`:          "i1",
	} {
		if got := itemKey(html); got != want {
			t.Errorf("itemKey(%q) = %q, want %q", html, got, want)
		}
	}
}

func TestLIS(t *testing.T) {
	for _, tc := range []struct {
		seq []int
		n   int
	}{
		{nil, 0}, {[]int{0}, 1}, {[]int{1, 2, 0}, 2}, {[]int{3, 0, 1, 2}, 3}, {[]int{2, 1, 0}, 1}, {[]int{0, 1, 2, 3}, 4},
	} {
		got := lis(tc.seq)
		if len(got) != tc.n {
			t.Errorf("lis(%v) = %v, want length %d", tc.seq, got, tc.n)
		}
		for i := 1; i < len(got); i++ {
			if got[i] <= got[i-1] || tc.seq[got[i]] <= tc.seq[got[i-1]] {
				t.Errorf("lis(%v) = %v is not increasing", tc.seq, got)
			}
		}
	}
}
