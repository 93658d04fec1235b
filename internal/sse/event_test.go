package sse

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/matryer/is"
)

func TestEventFraming(t *testing.T) {
	for _, tc := range []struct {
		name string
		e    Event
		want string
	}{
		{"plain", Event{Seq: 3, Type: "update", Data: []byte(`{"s":3}`)}, "id: 3\nevent: update\ndata: {\"s\":3}\n\n"},
		{"id zero is still sent", Event{Data: []byte("x")}, "id: 0\ndata: x\n\n"},
		{"multi-line data", Event{Seq: 1, Data: []byte("a\nb\r\nc\rd")}, "id: 1\ndata: a\ndata: b\ndata: c\ndata: d\n\n"},
		{"lone CR before LF", Event{Seq: 1, Data: []byte("a\rb\nc")}, "id: 1\ndata: a\ndata: b\ndata: c\n\n"},
		{"trailing newline", Event{Seq: 1, Data: []byte("a\n")}, "id: 1\ndata: a\ndata: \n\n"},
		{"empty data", Event{Seq: 1}, "id: 1\ndata: \n\n"},
		{"retry", Event{Seq: 1, Retry: 1500 * time.Millisecond, Data: []byte("x")}, "id: 1\nretry: 1500\ndata: x\n\n"},
		{"type cannot inject fields", Event{Seq: 1, Type: "update\ndata: evil", Data: []byte("x")}, "id: 1\nevent: updatedata: evil\ndata: x\n\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			is.New(t).Equal(string(tc.e.appendTo(nil)), tc.want)
		})
	}
}

func TestLogAppendSince(t *testing.T) {
	is := is.New(t)
	var l Log
	l.MaxEvents = 3
	evs, ok := l.AppendSince(nil, 0)
	is.True(ok)
	is.Equal(len(evs), 0)
	_, ok = l.AppendSince(nil, 1) // ahead of the log: a client of an earlier process
	is.True(!ok)

	for i := 1; i <= 5; i++ {
		is.Equal(l.Append(Event{Data: []byte{byte('0' + i)}}), uint64(i))
	}
	is.Equal(l.Head(), uint64(5))
	evs, ok = l.AppendSince(nil, 2) // 3, 4, 5 are kept
	is.True(ok)
	is.Equal(len(evs), 3)
	is.Equal(evs[0].Seq, uint64(3))
	is.Equal(string(evs[2].Data), "5")
	evs, ok = l.AppendSince(nil, 4)
	is.True(ok)
	is.Equal(len(evs), 1)
	_, ok = l.AppendSince(nil, 1) // 2 was dropped
	is.True(!ok)
	evs, ok = l.AppendSince(nil, 5)
	is.True(ok && len(evs) == 0)
}

func TestLogByteBound(t *testing.T) {
	is := is.New(t)
	l := Log{MaxBytes: 1000}
	big := make([]byte, 400)
	for range 10 {
		l.Append(Event{Data: big})
	}
	is.True(l.bytes <= 1000)
	evs, ok := l.AppendSince(nil, l.Head()-2)
	is.True(ok)
	is.Equal(len(evs), 2)
	_, ok = l.AppendSince(nil, l.Head()-3)
	is.True(!ok)

	huge := make([]byte, 5000) // larger than the bound: still kept alone
	l.Append(Event{Data: huge})
	evs, ok = l.AppendSince(nil, l.Head()-1)
	is.True(ok)
	is.Equal(len(evs[0].Data), 5000)
	is.Equal(l.n, 1)
}

// The ring keeps exactly what a plain slice with the same bounds would:
// the newest events within MaxEvents and MaxBytes (the newest always),
// in order, with their types and data, through growth, wrap-around, drops
// by size, and more types than a log names by index.
func TestLogMatchesModel(t *testing.T) {
	is := is.New(t)
	l := Log{MaxEvents: 8, MaxBytes: 300}
	var model []Event
	prefix := []Event{{Type: "kept"}}
	for i := range 200 {
		e := Event{Data: make([]byte, (i*37)%120)} // sizes 0..119, some over the byte bound together
		e.Data = append(e.Data[:0], strings.Repeat(strconv.Itoa(i), 120)[:len(e.Data)]...)
		e.Type = [...]string{"", "update", "render", "a", "b"}[(i/3)%5] // the fourth and fifth are kept per event
		e.Seq = l.Append(e)
		model = append(model, e)
		size := 0
		for j := len(model) - 1; j >= 0; j-- {
			size += model[j].size()
			if len(model)-j > 8 || (size > 300 && j < len(model)-1) {
				model = model[j+1:]
				break
			}
		}
		oldest := model[0].Seq
		for seq := oldest - 1; seq <= l.Head(); seq++ {
			got, ok := l.AppendSince(prefix, seq)
			is.True(ok)
			is.Equal(got[0].Type, "kept") // dst is extended, not replaced
			want := model[seq-(oldest-1):]
			is.Equal(len(got)-1, len(want))
			for k := range want {
				is.Equal(got[k+1].Seq, want[k].Seq)
				is.Equal(got[k+1].Type, want[k].Type)
				is.Equal(string(got[k+1].Data), string(want[k].Data))
			}
		}
		if oldest > 1 {
			_, ok := l.AppendSince(nil, oldest-2)
			is.True(!ok) // oldest-1 was dropped
		}
		is.True(len(l.more) <= len(model)) // the types of dropped events are dropped too
	}
}
