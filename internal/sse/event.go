// Package ssehub is the Server-Sent Events transport of livesse: an event
// writer on net/http and a bounded, sequence-numbered event log per
// connection that doubles as the replay buffer for resumed streams.
//
// ssehub knows nothing of templates. A Source (implemented by package lt)
// supplies the events after a sequence number, or a snapshot when the events
// a client missed are no longer buffered; Serve writes them to one response.
package sse

import (
	"bytes"
	"strconv"
	"strings"
	"time"
)

// Event is one Server-Sent Event. Seq becomes the event's "id:" field; a
// client that reconnects with it (Last-Event-ID) resumes after it.
type Event struct {
	Seq   uint64 // written as id:, unless NoID
	NoID  bool   // a control event outside the sequence (a heartbeat): no id:
	Type  string // written as event:; empty means the default "message"
	Data  []byte // split on newlines into data: lines
	Retry time.Duration
}

// size is what an event costs the log's byte budget.
func (e Event) size() int { return len(e.Type) + len(e.Data) + 16 }

// appendTo frames e in the text/event-stream format. Data is split on every
// line ending the spec recognises, so multi-line data survives the trip.
func (e Event) appendTo(b []byte) []byte {
	if !e.NoID {
		b = append(b, "id: "...)
		b = strconv.AppendUint(b, e.Seq, 10)
		b = append(b, '\n')
	}
	if e.Type != "" {
		b = append(b, "event: "...)
		b = append(b, sanitizeField(e.Type)...)
		b = append(b, '\n')
	}
	if e.Retry > 0 {
		b = append(b, "retry: "...)
		b = strconv.AppendInt(b, e.Retry.Milliseconds(), 10)
		b = append(b, '\n')
	}
	data := e.Data
	for {
		i := lineBreak(data)
		if i < 0 {
			break
		}
		b = append(b, "data: "...)
		b = append(b, data[:i]...)
		b = append(b, '\n')
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
		}
		data = data[i+1:]
	}
	b = append(b, "data: "...)
	b = append(b, data...)
	return append(b, '\n', '\n')
}

// appendComment frames a comment line, with e's retry: field if set and
// nothing else: a keep-alive that also sets the reconnection time.
func (e Event) appendComment(b []byte, text string) []byte {
	b = append(append(append(b, ": "...), sanitizeField(text)...), '\n')
	if e.Retry > 0 {
		b = append(b, "retry: "...)
		b = strconv.AppendInt(b, e.Retry.Milliseconds(), 10)
		b = append(b, '\n')
	}
	return append(b, '\n')
}

// lineBreak returns the index of the first CR or LF in b, or -1. Two
// vectorised byte searches beat bytes.IndexAny, which looks at one byte at
// a time, on every event a fan-out frames.
func lineBreak(b []byte) int {
	i := bytes.IndexByte(b, '\n')
	before := b
	if i >= 0 {
		before = b[:i]
	}
	if j := bytes.IndexByte(before, '\r'); j >= 0 {
		return j
	}
	return i
}

// sanitizeField drops line breaks from single-line fields so that a bad
// event type cannot inject fields of its own.
func sanitizeField(s string) string {
	if strings.IndexByte(s, '\n') < 0 && strings.IndexByte(s, '\r') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '\r' && s[i] != '\n' {
			b = append(b, s[i])
		}
	}
	return string(b)
}
