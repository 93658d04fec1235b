package sse

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"testing"
)

// dialStream opens an event stream on addr as a bare client (over TLS with
// conf, if not nil), so that the test decides when it reads and when it
// hangs up, and reads until a line equal to until ("" reads nothing). The
// connection is closed when the test ends, if the test has not closed it.
func dialStream(t *testing.T, addr string, conf *tls.Config, until string) (net.Conn, *bufio.Reader) {
	t.Helper()
	var c net.Conn
	var err error
	if conf != nil {
		c, err = tls.Dial("tcp", addr, conf)
	} else {
		c, err = net.Dial("tcp", addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
	r := bufio.NewReaderSize(c, 1<<16)
	for until != "" {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the stream until %q: %v", until, err)
		}
		if strings.TrimRight(line, "\r\n") == until {
			break
		}
	}
	return c, r
}
