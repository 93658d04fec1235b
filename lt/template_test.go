package lt

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/matryer/is"
)

func TestSplitPageAndWriteDocument(t *testing.T) {
	const script = `<script data-x></script>`
	for _, tc := range []struct {
		name, in, region, doc string
	}{
		{
			name:   "head and body",
			in:     `<html><head><title>t</title></head><body class="a"><p>x</p></body></html>`,
			region: `<p>x</p>`,
			doc:    `<html><head><title>t</title>` + script + `</head><body class="a"><p>x</p></body></html>`,
		},
		{
			name:   "upper case tags",
			in:     `<HTML><HEAD></HEAD><BODY><p>x</p></BODY></HTML>`,
			region: `<p>x</p>`,
			doc:    `<HTML><HEAD>` + script + `</HEAD><BODY><p>x</p></BODY></HTML>`,
		},
		{
			name:   "no head",
			in:     `<!DOCTYPE html><body><p>x</p></body>`,
			region: `<p>x</p>`,
			doc:    `<!DOCTYPE html>` + script + `<body><p>x</p></body>`,
		},
		{
			name:   "a tag that only starts like body",
			in:     `<head></head><bodyguard></bodyguard><body>y</body>`,
			region: `y`,
			doc:    `<head>` + script + `</head><bodyguard></bodyguard><body>y</body>`,
		},
		{
			name:   "fragment",
			in:     `<p>only a fragment</p>`,
			region: `<p>only a fragment</p>`,
			doc:    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">" + script + "</head><body><p>only a fragment</p></body></html>\n",
		},
		{
			name:   "unclosed body",
			in:     `<head></head><body><p>x</p>`,
			region: `<p>x</p>`,
			doc:    `<head>` + script + `</head><body><p>x</p>`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			is := is.New(t)
			p := splitPage([]byte(tc.in))
			is.Equal(string(p.region), tc.region)
			var buf bytes.Buffer
			p.writeDocument(&buf, script)
			is.Equal(buf.String(), tc.doc)
		})
	}
}

// Each render sees its own {{ltError}}, even when many run at once on the
// pooled template clones.
func TestRenderersBindErrorPerRender(t *testing.T) {
	is := is.New(t)
	tmpl, err := Parse("p", `<body>{{.}}:{{ltError}}</body>`)
	is.NoErr(err)
	rs, err := newRenderers(tmpl)
	is.NoErr(err)
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range 200 {
		wg.Go(func() {
			msg := fmt.Sprintf("err-%d", i)
			tree, _, err := rs.render(i, errView(msg))
			if err != nil {
				errs <- err
				return
			}
			if got, want := tree.Render(rs.st), fmt.Sprintf("<body>%d:%s</body>", i, msg); got != want {
				errs <- fmt.Errorf("got %q, want %q", got, want)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestRenderersRefuseExecutedTemplate(t *testing.T) {
	is := is.New(t)
	tmpl, err := Parse("p", `x`)
	is.NoErr(err)
	is.NoErr(tmpl.Execute(&strings.Builder{}, nil))
	_, err = newRenderers(tmpl)
	is.True(err != nil && strings.Contains(err.Error(), "not been executed"))
}

func TestRenderEscapesErrorText(t *testing.T) {
	is := is.New(t)
	tmpl, err := Parse("p", `<p title="{{ltError}}">{{ltError}}</p>`)
	is.NoErr(err)
	rs, err := newRenderers(tmpl)
	is.NoErr(err)
	tree, _, err := rs.render(nil, errView(`<script>"x"</script>`))
	is.NoErr(err)
	is.True(!strings.Contains(tree.Render(rs.st), "<script>"))
}

// A new renderer escapes its template by executing it once on the zero
// state: a template that fails on the zero state still renders real
// states, and one that cannot be escaped still fails.
func TestRendererWarmUp(t *testing.T) {
	is := is.New(t)
	type items struct{ Items []string }
	rs, err := newRenderers(Must(Parse("p", `<body><p>{{index .Items 0}}</p></body>`)))
	is.NoErr(err)
	tree, _, err := rs.render(items{Items: []string{"first"}}, view{})
	is.NoErr(err) // index out of range on the zero state did not matter
	is.True(strings.Contains(tree.Render(rs.st), "<p>first</p>"))

	rs, err = newRenderers(Must(Parse("p", `<body>{{if .}}<a href="{{end}}x"></a></body>`)))
	is.NoErr(err)
	_, _, err = rs.render(true, view{})
	is.True(err != nil) // {{if}} branches end in different contexts
	is.True(strings.Contains(err.Error(), "branches end in different contexts"))
}
