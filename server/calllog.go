package server

import (
	"time"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluicehq/sluice/internal/calllog"
)

// CallLog takes one record per data-plane call. Log must not block.
type CallLog interface {
	Log(r *calllog.Record)
}

// endpoints names each data-plane route in the call log.
var endpoints = map[string]string{
	"/v1/chat/completions": "chat",
	"/v1/embeddings":       "embeddings",
	"/v1/messages":         "messages",
	"/v1/models":           "models",
	"/v1/subscriptions":    "subscriptions",
	"/v1/prompts/:slug":    "prompt",
}

// record is the first step of every data-plane route: it starts the call's
// clock and, when every later step is done (answered, refused or failed),
// hands one record with its waterfall to the call log.
func (s *Server) record(c *gin.Context) {
	cl, span := s.startRecord(c)
	c.Next()
	s.endRecord(c, cl, span)
}

// startRecord is record's first half: the call, and its trace span when
// tracing is on. The halves are apart so that record's stack frame, which
// stays under every later step for the whole call, is small.
//
//go:noinline
func (s *Server) startRecord(c *gin.Context) (*call, trace.Span) {
	cl := callOf(c)
	cl.endpoint = endpoints[c.FullPath()]
	var span trace.Span
	if t := s.deps.Tracing; t != nil {
		// The client's traceparent, if any, is the parent; the relay's
		// upstream requests carry this span's context onward.
		ctx := t.Propagator.Extract(c.Request.Context(), propagation.HeaderCarrier(c.Request.Header))
		ctx, span = t.Provider.Tracer("sluice").Start(ctx, c.Request.Method+" "+c.FullPath(), trace.WithSpanKind(trace.SpanKindServer))
		c.Request = c.Request.WithContext(ctx)
	}
	return cl, span
}

// endRecord is record's second half: the record goes to the call log.
//
//go:noinline
func (s *Server) endRecord(c *gin.Context, cl *call, span trace.Span) {
	if s.deps.CallLog == nil && span == nil {
		return
	}
	r := s.recordOf(c, cl)
	if span != nil {
		endSpan(span, r)
	}
	if s.deps.CallLog != nil {
		s.deps.CallLog.Log(r)
	}
}

// endSpan annotates the call's span with what the call log records.
func endSpan(span trace.Span, r *calllog.Record) {
	span.SetAttributes(
		attribute.Int("http.response.status_code", r.Status),
		attribute.String("sluice.request_id", r.RequestID),
		attribute.String("sluice.endpoint", r.Endpoint),
		attribute.String("gen_ai.request.model", r.Model),
		attribute.String("sluice.provider", r.Provider),
		attribute.String("gen_ai.response.model", r.UpstreamModel),
		attribute.Int64("gen_ai.usage.input_tokens", r.TokensIn),
		attribute.Int64("gen_ai.usage.output_tokens", r.TokensOut),
		attribute.Int64("sluice.consumer_id", int64(r.ConsumerID)),
		attribute.Int64("sluice.service_id", int64(r.ServiceID)),
	)
	if r.PromptSlug != "" {
		span.SetAttributes(attribute.String("sluice.prompt", r.PromptSlug), attribute.Int("sluice.prompt_version", r.PromptVersion))
	}
	if r.Status >= 500 || r.Status == 499 {
		span.SetStatus(codes.Error, r.Error)
	}
	span.End()
}

// recordOf builds the call's log record.
func (s *Server) recordOf(c *gin.Context, cl *call) *calllog.Record {
	end := time.Now()
	r := &calllog.Record{
		RequestID: RequestID(c), StartedAt: cl.start,
		ConsumerID: cl.consumerID, KeyID: cl.keyID, Endpoint: cl.endpoint,
		Model: cl.model, Status: c.Writer.Status(), Error: cl.errMsg, Stream: cl.stream,
		BytesIn: int64(len(cl.body)), BytesOut: int64(max(c.Writer.Size(), 0)), ClientAddr: c.ClientIP(),
		Total: end.Sub(cl.start),
	}
	r.PromptSlug, r.PromptVersion = cl.promptSlug, cl.promptVersion
	if !cl.authDone.IsZero() {
		r.Auth = cl.authDone.Sub(cl.start)
		if !cl.checksDone.IsZero() {
			r.Routing = cl.checksDone.Sub(cl.authDone)
		}
	} else {
		r.Auth = r.Total // refused at the key
	}
	if svc := cl.grant.Service; svc != nil {
		r.ServiceID, r.TeamID = svc.ID, svc.TeamID
		loggedBodies(r, cl)
	} else if snap := s.deps.Access.Snapshots.Current(); snap != nil && cl.consumerID != 0 {
		r.TeamID = snap.ConsumerTeam(cl.consumerID)
	}
	res := cl.result
	if res == nil {
		return r
	}
	r.Status = res.Status
	if res.ErrMessage != "" {
		r.Error = res.ErrMessage
	}
	r.TokensIn, r.TokensOut = int64(res.Usage.PromptTokens), int64(res.Usage.CompletionTokens)
	r.UsageEstimated = res.UsageEstimated
	r.BytesOut, r.TTFT = res.BytesOut, res.TTFT
	if m := cl.grant.Model; m != nil {
		r.Cost = m.Cost(res.Usage.PromptTokens, res.Usage.CompletionTokens)
	}
	if res.Target != nil {
		r.Provider, r.UpstreamModel = res.Target.ProviderName, res.Target.UpstreamModel
	}
	r.Attempts = make([]calllog.Attempt, len(res.Attempts))
	for i, a := range res.Attempts {
		r.Attempts[i] = calllog.Attempt{Provider: a.TargetID, Status: a.Status, Error: a.Err,
			Start: a.Start.Sub(cl.start), DNS: a.DNS, Connect: a.Connect, TLS: a.TLS, TTFB: a.TTFB,
			Transfer: a.Transfer, Retried: a.Retried}
	}
	if len(res.Attempts) > 0 && r.Provider == "" {
		last := res.Attempts[len(res.Attempts)-1]
		r.Provider = last.TargetID
	}
	return r
}
