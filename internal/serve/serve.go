// Package serve runs the example apps: it picks the listen address (-addr,
// else $PORT, else :8080), prints the URL, and shuts down gracefully on
// SIGINT or SIGTERM, closing the live handlers so their streams end.
package serve

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Fatal reports a start-up error and exits.
func Fatal(name string, err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
	os.Exit(1)
}

// ParseFlags defines -addr on the command line's flag set, unless it is
// defined, and parses the command line, unless it is parsed. Main calls
// it; an example with flags of its own that it needs before calling Main
// defines them, calls ParseFlags, then reads them.
func ParseFlags() {
	if flag.Lookup("addr") == nil {
		flag.String("addr", "", "listen address (default $PORT or :8080)")
	}
	if !flag.Parsed() {
		flag.Parse()
	}
}

// Main serves h until a signal arrives. Each closer is closed when the
// server shuts down (lt.Handler.Close ends the event streams, which never
// end by themselves), and Main returns once they are closed.
func Main(name string, h http.Handler, closers ...io.Closer) {
	ParseFlags()
	addr := flag.Lookup("addr").Value.String()
	if addr == "" {
		addr = ":8080"
		if p := os.Getenv("PORT"); p != "" {
			addr = ":" + p
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		Fatal(name, err)
	}
	srv := NewServer(h)
	for _, c := range closers {
		srv.RegisterOnShutdown(func() { _ = c.Close() })
	}
	fmt.Printf("%s: serving %s\n", name, URL(ln.Addr()))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		// Shutdown runs the closers without waiting for them, and streams
		// taken from net/http are not its to wait for: close them here too
		// (Close is idempotent and returns when the streams have ended).
		for _, c := range closers {
			_ = c.Close()
		}
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		Fatal(name, err)
	}
	<-done // Serve returns as soon as Shutdown starts
}

// NewServer is the server the examples run, with the timeouts
// docs/deploying.md recommends: a client that sends its headers or body
// slowly is cut rather than held (event streams, which lt takes over or
// lifts the deadlines of, are not affected).
func NewServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second, // bounds request bodies; streams have none
		WriteTimeout:      30 * time.Second, // lifted for each stream by lt
		IdleTimeout:       2 * time.Minute,
	}
}

// URL is the address a browser on this machine opens for a listener.
func URL(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "http://" + a.String() + "/"
	}
	if ip := net.ParseIP(host); host == "" || ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}
