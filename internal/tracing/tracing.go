// Package tracing sets up OpenTelemetry tracing. It is off unless the
// standard OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
// variable is set; then every data-plane call gets a server span, each
// upstream attempt a client span under it, and the W3C traceparent header
// is taken from the client and passed upstream. The exporter reads the
// other standard OTEL_* variables itself (headers, protocol, timeout), and
// OTEL_SERVICE_NAME names the service (default "sluice").
//
// Nothing is registered globally: the provider and propagator are passed
// to the server and the upstream client explicitly.
package tracing

import (
	"context"
	"fmt"
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
)

// Tracing is an enabled tracer set-up.
type Tracing struct {
	// Provider makes the tracers.
	Provider trace.TracerProvider
	// Propagator reads and writes traceparent/tracestate (and baggage).
	Propagator propagation.TextMapPropagator
	shutdown   func(context.Context) error
}

// Enabled reports whether env asks for tracing.
func Enabled(env func(string) (string, bool)) bool {
	if v, _ := env("OTEL_SDK_DISABLED"); v == "true" {
		return false
	}
	for _, k := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"} {
		if v, ok := env(k); ok && v != "" {
			return true
		}
	}
	return false
}

// Setup returns the tracing set-up asked for by env, or nil when tracing
// is off.
func Setup(ctx context.Context, env func(string) (string, bool), version string) (*Tracing, error) {
	if !Enabled(env) {
		return nil, nil
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT: %w", err)
	}
	return New(sdktrace.NewBatchSpanProcessor(exp), version), nil
}

// New builds a set-up around a span processor (tests pass a recorder).
func New(sp sdktrace.SpanProcessor, version string) *Tracing {
	res, _ := resource.Merge(resource.Default(), resource.NewSchemaless(
		semconv.ServiceName("sluice"), semconv.ServiceVersion(version)))
	if fromEnv, err := resource.New(context.Background(), resource.WithFromEnv()); err == nil {
		if merged, err := resource.Merge(res, fromEnv); err == nil {
			res = merged
		}
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sp), sdktrace.WithResource(res))
	return &Tracing{
		Provider:   tp,
		Propagator: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
		shutdown:   tp.Shutdown,
	}
}

// Transport wraps an upstream transport so each attempt is a client span
// and carries traceparent upstream.
func (t *Tracing) Transport(base http.RoundTripper) http.RoundTripper {
	return otelhttp.NewTransport(base, otelhttp.WithTracerProvider(t.Provider), otelhttp.WithPropagators(t.Propagator),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return "upstream " + r.Method + " " + r.URL.Host }))
}

// Shutdown flushes pending spans.
func (t *Tracing) Shutdown(ctx context.Context) error { return t.shutdown(ctx) }
