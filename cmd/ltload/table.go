package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/livesse/livesse/lt"
)

// The table page (-page table): 1,000 rows of three cells, keyed by id,
// whose row 0 price cell shows the tick's stamp, so that a tick changes
// one cell of a large page (issue 16). With -states differ each stream
// asks for its own order (?sort=i rotates the rows by i), so that no two
// tabs render alike and every fan-out renders every tab.

// tableRowCount is the table's size.
const tableRowCount = 1000

type tableRow struct {
	ID    int
	Name  string
	Price string
}

// tableState is the table page's state: the order and the last tick.
type tableState struct {
	Sort int
	N    int
	Sent int64 // unix nanoseconds, taken before TriggerAll
}

// Stamp is what the changing cell shows.
func (s tableState) Stamp() string { return fmt.Sprintf("tick:%d:%d", s.N, s.Sent) }

type tableCtrl struct{}

// Mount reads the order the stream asked for.
func (*tableCtrl) Mount(s tableState, ctx *lt.Context) (tableState, error) {
	s.Sort, _ = strconv.Atoi(ctx.URL().Query().Get("sort"))
	return s, nil
}

// Tick is the server action: the changing cell shows tick n and its send
// time.
func (*tableCtrl) Tick(s tableState, ctx *lt.Context) (tableState, error) {
	s.N = ctx.GetInt("n")
	s.Sent, _ = ctx.Get("sent").(int64)
	return s, nil
}

// tableNames are the rows' names, made once.
var tableNames = func() []string {
	n := make([]string, tableRowCount)
	for i := range n {
		n[i] = "item " + strconv.Itoa(i)
	}
	return n
}()

// tableRows are the rows in the order sort gives, row 0 showing stamp.
func tableRows(sort int, stamp string) []tableRow {
	out := make([]tableRow, tableRowCount)
	for i := range out {
		id := (i + sort) % tableRowCount
		out[i] = tableRow{ID: id, Name: tableNames[id], Price: strconv.Itoa(id * 3)}
		if id == 0 {
			out[i].Price = stamp
		}
	}
	return out
}

const tableHTML = `<!doctype html><html><head><title>ltload table</title></head><body><h1>ltload table</h1>` +
	`<table>{{range rows .Sort .Stamp}}<tr id="r{{.ID}}"><td>{{.ID}}</td><td>{{.Name}}</td><td>{{.Price}}</td></tr>{{end}}</table></body></html>`

func tableTemplate() (*template.Template, error) {
	return template.New("table").Funcs(lt.Funcs()).Funcs(template.FuncMap{"rows": tableRows}).Parse(tableHTML)
}

func newTableHandler(opts []lt.Option) (*lt.Handler, error) {
	page, err := tableTemplate()
	if err != nil {
		return nil, fmt.Errorf("parsing the table page: %w", err)
	}
	return lt.New(page, &tableCtrl{}, tableState{}, opts...)
}

// bareTableHead is the bare writer's response head and first event for the
// table page: a render event that carries the page's HTML, so that each
// stream opens with as many bytes as lt's first render of it.
func bareTableHead() (string, error) {
	page, err := tableTemplate()
	if err != nil {
		return "", err
	}
	var html bytes.Buffer
	if err := page.Execute(&html, tableState{}); err != nil {
		return "", fmt.Errorf("rendering the table page: %w", err)
	}
	data, _ := json.Marshal(map[string]any{"c": "baseline", "s": 0, "html": html.String()})
	return "HTTP/1.1 200 OK\r\n" +
		"Content-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n" +
		"event: render\ndata: " + string(data) + "\n\n", nil
}

// ltOptions are the lt options of every page the child serves.
func ltOptions(heartbeat time.Duration, inHandler, gzip bool) []lt.Option {
	opts := []lt.Option{lt.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))}
	if heartbeat > 0 {
		opts = append(opts, lt.WithHeartbeat(heartbeat))
	}
	if inHandler {
		opts = append(opts, lt.WithStreamsInHandler())
	}
	if gzip {
		opts = append(opts, lt.WithStreamCompression())
	}
	return opts
}
