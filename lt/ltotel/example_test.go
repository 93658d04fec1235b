package ltotel_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"

	"github.com/livesse/livesse/lt"
	"github.com/livesse/livesse/lt/ltotel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

type Count struct{ N int }

type Counter struct{}

func (c *Counter) Increment(s Count, ctx *lt.Context) (Count, error) { s.N++; return s, nil }

// A page reporting its metrics and traces to OpenTelemetry. An app builds
// its MeterProvider and TracerProvider with the exporters it uses (OTLP,
// Prometheus...); this one reads them back to show what a page GET and a
// click report.
func Example() {
	ctx := context.Background()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { _ = mp.Shutdown(ctx) }()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer func() { _ = tp.Shutdown(ctx) }()

	m, err := ltotel.NewMetrics(mp)
	if err != nil {
		log.Fatal(err)
	}
	page := lt.Must(lt.Parse("counter", `<p>{{.N}}</p><form method="post"><button name="increment">+</button></form>`))
	h := lt.Must(lt.New(page, &Counter{}, Count{},
		lt.WithMetrics(m),
		lt.WithTracer(ltotel.NewTracer(tp, propagation.TraceContext{}))))
	defer h.Close()
	srv := httptest.NewServer(h)
	defer srv.Close()

	// A browser without JavaScript loads the page and clicks "+".
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, do := range []func() (*http.Response, error){
		func() (*http.Response, error) { return browser.Get(srv.URL) },
		func() (*http.Response, error) { return browser.PostForm(srv.URL, url.Values{"increment": {""}}) },
	} {
		res, err := do()
		if err != nil {
			log.Fatal(err)
		}
		res.Body.Close()
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		log.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, mt := range sm.Metrics {
			if s, ok := mt.Data.(metricdata.Sum[int64]); ok && (mt.Name == "livesse.connections" || mt.Name == "livesse.actions") {
				for _, dp := range s.DataPoints {
					fmt.Printf("%s{%s} %d\n", mt.Name, dp.Attributes.Encoded(attribute.DefaultEncoder()), dp.Value)
				}
			}
		}
	}
	for _, s := range spans.Ended() {
		fmt.Println("span", s.Name(), s.SpanKind())
	}
	// Output:
	// livesse.connections{livesse.page=counter} 1
	// livesse.actions{livesse.action=Increment,livesse.origin=client,livesse.outcome=ok,livesse.page=counter} 1
	// span lt.action server
}
