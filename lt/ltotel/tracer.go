package ltotel

import (
	"context"

	"github.com/livesse/livesse/lt"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// The names of the spans lt starts (see lt.Tracer).
const (
	SpanAction       = "lt.action"        // an action POST
	SpanCall         = "lt.call"          // the action method's call
	SpanRender       = "lt.render"        // a render and its diff
	SpanPublish      = "lt.publish"       // an update for a tab's stream, or a message to the other instances
	SpanServerAction = "lt.server_action" // TriggerSession, TriggerUser, TriggerAll
	SpanDeliver      = "lt.deliver"       // a message from another instance
)

// Tracer makes lt's spans with OpenTelemetry (pass it to lt.WithTracer),
// and carries their trace context in HTTP headers and inside each lt.Message
// with a propagation.TextMapPropagator. It is safe for concurrent use.
//
// Spans get the kind their role has in OpenTelemetry's conventions:
// "lt.action" is a server span when the context holds no local span (the
// request was not traced by a middleware such as otelhttp, and the span
// continues the trace context of its headers, if any), else internal;
// "lt.publish" is a producer span, "lt.deliver" a consumer span; the
// others are internal.
type Tracer struct {
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
}

// NewTracer returns a Tracer that starts spans with a Tracer of tp named
// ScopeName and propagates their context with prop. A nil tp is
// otel.GetTracerProvider(), a nil prop otel.GetTextMapPropagator(), as
// they are when NewTracer is called (until they are set, otel's globals
// forward to the first ones set). Mind that the global propagator
// propagates nothing until one is set (for instance
// propagation.TraceContext{}): traces would stop at each instance's edge.
func NewTracer(tp trace.TracerProvider, prop propagation.TextMapPropagator) *Tracer {
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	if prop == nil {
		prop = otel.GetTextMapPropagator()
	}
	return &Tracer{tracer: tp.Tracer(ScopeName), prop: prop}
}

// Start starts the span named name, a child of the span in ctx if any,
// with attrs as string attributes.
func (t *Tracer) Start(ctx context.Context, name string, attrs ...lt.Attr) (context.Context, lt.Span) {
	var kvs []attribute.KeyValue
	if len(attrs) > 0 {
		kvs = make([]attribute.KeyValue, len(attrs))
		for i, a := range attrs {
			kvs[i] = attribute.String(a.Key, a.Value)
		}
	}
	ctx, s := t.tracer.Start(ctx, name, trace.WithSpanKind(kind(ctx, name)), trace.WithAttributes(kvs...))
	return ctx, span{s}
}

// kind is the kind of the span named name started in ctx.
func kind(ctx context.Context, name string) trace.SpanKind {
	switch name {
	case SpanAction:
		if parent := trace.SpanContextFromContext(ctx); !parent.IsValid() || parent.IsRemote() {
			return trace.SpanKindServer
		}
	case SpanPublish:
		return trace.SpanKindProducer
	case SpanDeliver:
		return trace.SpanKindConsumer
	}
	return trace.SpanKindInternal
}

// Inject writes the trace context of ctx into carrier with the Tracer's
// propagator.
func (t *Tracer) Inject(ctx context.Context, carrier lt.Carrier) { t.prop.Inject(ctx, carrier) }

// Extract returns ctx with the trace context carrier holds, read with the
// Tracer's propagator.
func (t *Tracer) Extract(ctx context.Context, carrier lt.Carrier) context.Context {
	return t.prop.Extract(ctx, carrier)
}

// span is an OpenTelemetry span as an lt.Span.
type span struct{ s trace.Span }

// End ends the span; an error is recorded as an exception event and sets
// the span's status to Error.
func (s span) End(err error) {
	if err != nil {
		s.s.RecordError(err)
		s.s.SetStatus(codes.Error, err.Error())
	}
	s.s.End()
}
