// Package ltotel reports livesse's metrics and traces to OpenTelemetry.
//
// Metrics implements lt.Metrics and pgnotify.Metrics over a
// metric.MeterProvider, and observes a pgnotify.Listener's Health with
// ObserveListener; Tracer implements lt.Tracer over a trace.TracerProvider
// and a propagation.TextMapPropagator:
//
//	m, err := ltotel.NewMetrics(nil) // nil: otel.GetMeterProvider()
//	if err != nil {
//		return err
//	}
//	l, err := pgnotify.New(ctx, pool, pgnotify.WithSecret(secret), pgnotify.WithMetrics(m))
//	if err != nil {
//		return err
//	}
//	reg, err := m.ObserveListener(l)
//	if err != nil {
//		return err
//	}
//	defer reg.Unregister()
//	h, err := lt.New(page, &Controller{}, State{},
//		lt.WithBroadcaster(l),
//		lt.WithMetrics(m),
//		lt.WithTracer(ltotel.NewTracer(nil, nil)), // nil: otel's global provider and propagator
//	)
//
// # Metrics
//
// The names are those of package lt/ltprom as OpenTelemetry spells them:
// through OpenTelemetry's translation to Prometheus (dots become
// underscores, the unit a suffix, counters end in _total) they read as
// ltprom's, livesse.action.duration as livesse_action_duration_seconds,
// livesse.actions as livesse_actions_total. The attributes are namespaced
// like those of lt's spans: livesse.page where ltprom has the label page
// (in Prometheus, livesse_page). Durations are histograms in seconds,
// with ltprom's buckets (25 µs to 10 s; a View can change them).
//
// Every instrument of a page has the attribute livesse.page, the
// Handler's name (lt.WithName):
//
//	livesse.connections          UpDownCounter {connection}  live connections (a tab, or a rendered page whose stream has not opened yet)
//	livesse.streams              UpDownCounter {stream}      open event streams
//	livesse.stream.tabs          UpDownCounter {tab}         tabs carried by the open streams (over livesse.streams: tabs per stream)
//	livesse.actions              Counter {action}            actions run, by livesse.action, livesse.origin (client, server), livesse.outcome (ok, error)
//	livesse.action.duration      Histogram s                 their time: the method's call with its render and diff; by livesse.action, livesse.origin
//	livesse.refused_requests     Counter {request}           requests refused, by livesse.reason (lt's Refused constants), and livesse.action when the request named one
//	livesse.render.duration      Histogram s                 a render of the page and its diff
//	livesse.sent.events          Counter {event}             events written to streams, heartbeats included
//	livesse.sent.bytes           Counter By                  their bytes
//	livesse.heartbeats           Counter {heartbeat}         heartbeats written to idle streams
//	livesse.resumes              Counter {resume}            tabs reconnecting, by livesse.resume.mode: replay (from the log) or render (a full render)
//	livesse.queued_jobs          UpDownCounter {job}         jobs (actions, lifecycle calls) waiting on connections
//	livesse.queue.overflows      Counter {job}               jobs refused because their connection's queue was full
//	livesse.fanout.duration      Histogram s                 a server action's fan-out on this instance, from the call (or the message) until the last connection had run it
//	livesse.fanout.connections   Counter {connection}        connections those fan-outs reached
//
// A Listener's, from pgnotify.Metrics:
//
//	livesse.pgnotify.published.messages  Counter {message}  messages published, by livesse.pgnotify.via: notify, or table (through lt_messages, over 8000 bytes)
//	livesse.pgnotify.published.bytes     Counter By         their payloads' bytes, by via
//	livesse.pgnotify.delivery.lag        Histogram s        from a message's sealing (another instance, or lt_notify in SQL) to its hand-off to lt
//
// and from its Health, read at each collection (ObserveListener), with the
// attributes livesse.pgnotify.instance and livesse.pgnotify.channel:
//
//	livesse.pgnotify.connected              Gauge              1 if the LISTEN connection is up, else 0
//	livesse.pgnotify.last_ping.timestamp    Gauge s            when it last proved alive, in Unix seconds
//	livesse.pgnotify.reconnects             Counter {reconnect}
//	livesse.pgnotify.received               Counter {notification}  messages, beacons and refused payloads
//	livesse.pgnotify.delivered              Counter {message}  messages handed to lt
//	livesse.pgnotify.dropped                Counter {message}  messages lost on this side (each led to a resync)
//	livesse.pgnotify.refused                Counter {notification}  by livesse.reason: unauthenticated, stale, replayed, malformed
//	livesse.pgnotify.resyncs                Counter {resync}
//	livesse.pgnotify.queue.usage            Gauge 1            pg_notification_queue_usage(), 0 to 1
//	livesse.pgnotify.peers                  Gauge {instance}   other instances heard from lately
//	livesse.pgnotify.large_messages         Gauge {message}    rows of lt_messages (shared by every instance)
//	livesse.pgnotify.large_messages.bytes   Gauge By           bytes of their payloads
//
// # Traces
//
// lt starts these spans through Tracer (see lt.Tracer):
//
//	lt.action         an action POST: a child of the request's span (otelhttp's, say), else of the
//	                  trace context its headers carry; on the instance that holds the tab's connection
//	                  when the POST reached another (it continues the forwarding instance's trace).
//	                  Attributes livesse.page, livesse.action, livesse.conn.
//	  lt.call         the action method's call (livesse.method); its lt.Context holds the span, so the
//	                  method's own spans (a query) are its children
//	  lt.render       the render and its diff
//	  lt.publish      the update appended to the connection's log for its stream (livesse.seq)
//	lt.server_action  TriggerSession, TriggerUser, TriggerAll (livesse.page, livesse.action)
//	  lt.publish      the message sent to the other instances (also after an action that syncs other
//	                  tabs or broadcasts); the trace context travels inside the lt.Message, through
//	                  PostgreSQL with pgnotify
//	lt.deliver        on an instance that receives a message: a child of the sender's lt.publish, in
//	                  its trace (livesse.page, livesse.action, livesse.from: the sending instance)
//
// Tracer makes "lt.action" a server span when the context holds no local
// span, "lt.publish" a producer span, "lt.deliver" a consumer span, the
// others internal. A span whose work failed has the status Error and the
// error as an exception event.
package ltotel
