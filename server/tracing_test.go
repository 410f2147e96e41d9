package server

import (
	"io"
	"net/http"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluicehq/sluice/admin"
	"github.com/sluicehq/sluice/internal/tracing"
)

// TestTraceparentFromClientToUpstream: the client's trace continues
// through the gateway's server span and each upstream attempt's client
// span, and the upstream receives a traceparent of the same trace.
func TestTraceparentFromClientToUpstream(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tr := tracing.New(rec, "test")
	g := newGatewayTraced(t, admin.Limits{}, nil, tr)

	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	req, _ := http.NewRequest("POST", g.url+"/v1/chat/completions",
		strings.NewReader(`{"model":"gpt-4o","messages":[{"role":"user","content":"trace me"}]}`))
	req.Header.Set("Authorization", "Bearer "+g.f.Key)
	req.Header.Set("Traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}

	up := g.fake.Requests()
	tp := up[len(up)-1].Header.Get("Traceparent")
	if !strings.HasPrefix(tp, "00-"+traceID+"-") {
		t.Fatalf("upstream traceparent %q does not continue trace %s", tp, traceID)
	}
	spans := rec.Ended()
	var server, client sdktrace.ReadOnlySpan
	for _, s := range spans {
		switch s.SpanKind() {
		case trace.SpanKindServer:
			server = s
		case trace.SpanKindClient:
			client = s
		}
	}
	if server == nil || client == nil {
		t.Fatalf("spans: %d, server %v, client %v", len(spans), server != nil, client != nil)
	}
	if server.SpanContext().TraceID().String() != traceID || server.Parent().SpanID().String() != "00f067aa0ba902b7" {
		t.Fatalf("server span not under the client's: %v parent %v", server.SpanContext().TraceID(), server.Parent().SpanID())
	}
	if client.Parent().SpanID() != server.SpanContext().SpanID() {
		t.Fatal("upstream attempt span is not a child of the call's span")
	}
	if !strings.Contains(tp, client.SpanContext().SpanID().String()) {
		t.Fatalf("upstream traceparent %q does not name the attempt span", tp)
	}
	attrs := map[string]string{}
	for _, a := range server.Attributes() {
		attrs[string(a.Key)] = a.Value.Emit()
	}
	if attrs["gen_ai.request.model"] != "gpt-4o" || attrs["http.response.status_code"] != "200" || attrs["sluice.provider"] != "openai-main" {
		t.Fatalf("server span attributes %v", attrs)
	}
}

func TestTracingOffByDefault(t *testing.T) {
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	if tracing.Enabled(env(nil)) {
		t.Fatal("tracing on without OTEL_EXPORTER_OTLP_ENDPOINT")
	}
	if !tracing.Enabled(env(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"})) {
		t.Fatal("tracing off with an endpoint")
	}
	if tracing.Enabled(env(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x", "OTEL_SDK_DISABLED": "true"})) {
		t.Fatal("OTEL_SDK_DISABLED ignored")
	}
}
