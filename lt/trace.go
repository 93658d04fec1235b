package lt

import (
	"context"
	"net/http"
)

// mapCarrier is a Message's Trace as a Carrier.
type mapCarrier map[string]string

func (m mapCarrier) Get(k string) string { return m[k] }
func (m mapCarrier) Set(k, v string)     { m[k] = v }
func (m mapCarrier) Keys() []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// headerCarrier is a request's headers as a Carrier.
type headerCarrier http.Header

func (h headerCarrier) Get(k string) string { return http.Header(h).Get(k) }
func (h headerCarrier) Set(k, v string)     { http.Header(h).Set(k, v) }
func (h headerCarrier) Keys() []string {
	ks := make([]string, 0, len(h))
	for k := range h {
		ks = append(ks, k)
	}
	return ks
}

// startAction starts the span of a client action: a child of the trace
// the request is in (middleware's span, or the context its headers
// carry). Without a Tracer it returns a nil context and span.
func (h *Handler) startAction(r *http.Request, action, connID string) (context.Context, Span) {
	if h.tr == nil {
		return nil, nil
	}
	ctx := h.tr.Extract(r.Context(), headerCarrier(r.Header))
	return h.tr.Start(ctx, "lt.action", Attr{"livesse.page", h.name}, Attr{"livesse.action", action}, Attr{"livesse.conn", connID})
}

// endSpan ends span, if there is one.
func endSpan(span Span, err error) {
	if span != nil {
		span.End(err)
	}
}
