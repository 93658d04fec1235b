package pgnotify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Resyncer is a page that re-renders its tabs after messages were lost:
// *lt.Handler is one.
type Resyncer interface {
	// Resyncing reports whether it is still re-rendering them.
	Resyncing() bool
}

// probeTimeout bounds the database queries of a readiness probe.
const probeTimeout = 2 * time.Second

// ReadyHandler answers readiness probes (Kubernetes' readinessProbe, a
// load balancer's health check): 200 "ready" while this instance serves
// live pages correctly, else 503 with what is wrong, one reason a line.
// It is not ready while the LISTEN connection is down or has not proved
// alive for three ping intervals (messages from other instances and SQL
// would be missed), while the server's notification queue is half full or
// more, and while any of pages is re-rendering its tabs after the
// listener reconnected (they may show what the lost messages changed).
// Use it for readiness only: see LiveHandler.
func (l *Listener) ReadyHandler(pages ...Resyncer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), probeTimeout)
		defer cancel()
		h, err := l.Health(ctx)
		if err == nil {
			err = h.Ready()
		}
		for _, p := range pages {
			if p.Resyncing() {
				err = errors.Join(err, errors.New("pages re-rendering after lost messages"))
				break
			}
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, err)
			return
		}
		fmt.Fprintln(w, "ready")
	})
}

// LiveHandler answers liveness probes (Kubernetes' livenessProbe): 200
// "live" whenever the process can answer at all. It does not look at the
// database: a liveness probe that failed while PostgreSQL is away would
// restart every instance during the outage, for nothing, since each
// Listener reconnects by itself; ReadyHandler takes the instance out of
// the load balancer meanwhile.
func LiveHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintln(w, "live")
	})
}
