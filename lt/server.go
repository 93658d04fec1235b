package lt

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// ShutdownGrace is how long Serve lets requests in flight, and then the
// live Handlers' running actions and OnDisconnects, finish once its
// context is done.
const ShutdownGrace = 10 * time.Second

// NewServer returns an http.Server for h with the timeouts that
// docs/deploying.md recommends: a client that sends its headers (10 s) or
// its request (30 s) slowly, or whose response takes over 30 s, is cut
// rather than held, and an idle keep-alive connection is closed after 2
// minutes. Event streams are not affected: lt lifts the write deadline of
// each stream (and bounds each of its writes instead, WithWriteTimeout),
// and a stream's request is only its headers. Set Addr to use the
// server's ListenAndServe; Serve takes a listener.
func NewServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second, // bounds request bodies; streams have none
		WriteTimeout:      30 * time.Second, // lifted for each stream by lt
		IdleTimeout:       2 * time.Minute,
	}
}

// Serve serves srv on ln until ctx is done (for example
// signal.NotifyContext's for SIGINT and SIGTERM), then shuts down
// gracefully: srv stops accepting and waits for the requests in flight,
// and each of the live Handlers, the ones srv serves, is closed, which
// ends their event streams (http.Server.Shutdown neither ends streams nor
// waits for them: without this, streams hold a shutdown up until they
// are cut), runs OnDisconnect and waits for the actions still running.
// Clients reconnect, to this process's successor or another instance, and
// resume. Each stage has ShutdownGrace.
//
// Serve returns nil after a shutdown that finished in time; the error of
// srv.Serve if serving failed (the live Handlers are closed then too); or
// the shutdown's error, context.DeadlineExceeded when requests or actions
// outlasted the grace. It registers the Handlers' Close with
// srv.RegisterOnShutdown, so a Shutdown called by other code ends their
// streams too.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener, live ...*Handler) error {
	for _, h := range live {
		srv.RegisterOnShutdown(func() { _ = h.Close() })
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	var err error
	select {
	case err = <-served: // Serve failed, or other code shut srv down
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		} else {
			err = fmt.Errorf("lt: serve: %w", err)
		}
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownGrace)
		if serr := srv.Shutdown(sctx); serr != nil {
			err = fmt.Errorf("lt: shutting the server down: %w", serr)
		}
		cancel()
		<-served // ErrServerClosed, returned as soon as Shutdown started
	}
	// Shutdown starts each Close without waiting for it, and streams taken
	// from net/http are not its to wait for: wait here.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownGrace)
	defer cancel()
	for _, h := range live {
		if herr := h.Shutdown(sctx); herr != nil && err == nil {
			err = fmt.Errorf("lt: closing the live pages: %w", herr)
		}
	}
	return err
}
