// Package anthropic is the provider kind "anthropic": it translates unified
// (OpenAI-shaped) chat requests to the Anthropic Messages API and back,
// streaming included, and forwards native Messages requests unchanged
// (passthrough). It also holds the ingress translation for Sluice's own
// /v1/messages endpoint (ingress.go), where clients speak Anthropic and any
// provider answers.
//
// It imports only the standard library and other providers packages.
package anthropic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/providers"
)

// Kind is the registered provider kind.
const Kind = "anthropic"

// DefaultBaseURL is the Anthropic API's base URL.
const DefaultBaseURL = "https://api.anthropic.com"

// APIVersion is the anthropic-version header sent on every request.
const APIVersion = "2023-06-01"

// DefaultMaxTokens is the max_tokens sent when the client gave none
// (Anthropic requires one); Settings["default_max_tokens"] overrides it.
const DefaultMaxTokens = 4096

// Structured output modes, chosen by Settings["structured_output"].
const (
	// StructuredNative sends response_format json_schema as
	// output_config.format (Anthropic's structured outputs). The default.
	StructuredNative = "native"
	// StructuredTool forces a tool whose input_schema is the schema and
	// maps its input back to the message text, for models without
	// structured outputs.
	StructuredTool = "tool"
)

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 1 << 20

func init() {
	providers.Register(Kind, func(cfg providers.Config) (providers.Provider, error) { return New(cfg) })
}

// Provider talks to the Anthropic Messages API.
type Provider struct {
	endpoint string
	apiKey   string
	version  string
	headers  map[string]string
	http     providers.Doer
	timeout  time.Duration
	opts     options
	clock    func() time.Time
}

// options are the translation settings of one provider.
type options struct {
	// defaultMaxTokens is sent when the request has no max tokens.
	defaultMaxTokens int
	// toolStructured selects the forced-tool structured output mode.
	toolStructured bool
}

var (
	_ providers.Provider    = (*Provider)(nil)
	_ providers.Passthrough = (*Provider)(nil)
)

// New builds an Anthropic provider from cfg. Settings: default_max_tokens
// (integer), structured_output ("native" or "tool"), anthropic_version.
func New(cfg providers.Config) (*Provider, error) {
	base := strings.TrimRight(cfg.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	base = strings.TrimSuffix(base, "/v1")
	p := &Provider{
		endpoint: base + "/v1/messages",
		apiKey:   cfg.APIKey,
		version:  APIVersion,
		headers:  cfg.Headers,
		http:     cfg.HTTP,
		timeout:  cfg.Timeout,
		opts:     options{defaultMaxTokens: DefaultMaxTokens},
		clock:    time.Now,
	}
	if p.http == nil {
		p.http = http.DefaultClient
	}
	if v := cfg.Settings["anthropic_version"]; v != "" {
		p.version = v
	}
	if v := cfg.Settings["default_max_tokens"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("anthropic: setting default_max_tokens must be a positive integer, got %q", v)
		}
		p.opts.defaultMaxTokens = n
	}
	switch v := cfg.Settings["structured_output"]; v {
	case "", StructuredNative:
	case StructuredTool:
		p.opts.toolStructured = true
	default:
		return nil, fmt.Errorf("anthropic: setting structured_output must be %q or %q, got %q", StructuredNative, StructuredTool, v)
	}
	return p, nil
}

// Chat sends a non-streamed request and translates the answer.
func (p *Provider) Chat(ctx context.Context, req *providers.ChatRequest) (*providers.ChatResponse, error) {
	body, tr, err := buildRequest(req, p.opts, false)
	if err != nil {
		return nil, err
	}
	if p.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.timeout)
		defer cancel()
	}
	resp, err := p.post(ctx, body)
	if err != nil {
		return nil, err
	}
	defer providers.DrainClose(resp.Body)
	if resp.StatusCode/100 != 2 {
		return nil, p.errorFrom(resp)
	}
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, &providers.Error{Err: fmt.Errorf("anthropic: reading response: %w", err)}
	}
	out, err := decodeResponse(raw, tr, p.clock().Unix())
	if err != nil {
		return nil, &providers.Error{Err: err}
	}
	return out, nil
}

// ChatStream sends a streamed request. The returned Stream reads one event
// at a time from the upstream body; Config.Timeout bounds the wait for the
// response headers only.
func (p *Provider) ChatStream(ctx context.Context, req *providers.ChatRequest) (providers.Stream, error) {
	body, tr, err := buildRequest(req, p.opts, true)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	var timer *time.Timer
	if p.timeout > 0 {
		timer = time.AfterFunc(p.timeout, cancel)
	}
	resp, err := p.post(ctx, body)
	if timer != nil {
		timer.Stop()
	}
	if err != nil {
		cancel()
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		defer cancel()
		defer providers.DrainClose(resp.Body)
		return nil, p.errorFrom(resp)
	}
	return newStream(resp.Body, cancel, newDecoder(tr, p.clock().Unix())), nil
}

// PassesThrough reports true for OpMessages only.
func (p *Provider) PassesThrough(op providers.Operation) bool { return op == providers.OpMessages }

// Forward posts a native Messages body unchanged with the provider's
// credentials and returns the upstream response unread.
func (p *Provider) Forward(ctx context.Context, op providers.Operation, body []byte) (*http.Response, error) {
	if op != providers.OpMessages {
		return nil, &providers.Error{Err: fmt.Errorf("anthropic: operation %q cannot be passed through", op)}
	}
	return p.post(ctx, body)
}

// post sends body to the messages endpoint. Transport failures become
// *providers.Error with Status 0.
func (p *Provider) post(ctx context.Context, body []byte) (*http.Response, error) {
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, p.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, &providers.Error{Err: fmt.Errorf("anthropic: building request: %w", err)}
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Anthropic-Version", p.version)
	if p.apiKey != "" {
		hreq.Header.Set("X-Api-Key", p.apiKey)
	}
	for k, v := range p.headers {
		hreq.Header.Set(k, v)
	}
	resp, err := p.http.Do(hreq)
	if err != nil {
		return nil, &providers.Error{Err: fmt.Errorf("anthropic: %w", err)}
	}
	return resp, nil
}

// errorFrom turns a non-2xx answer into a *providers.Error.
func (p *Provider) errorFrom(resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := parseError(resp.StatusCode, raw)
	e.RetryAfter = providers.RetryAfter(resp.Header, p.clock())
	return e
}

// parseError reads Anthropic's error envelope
// {"type":"error","error":{"type","message"}}; a body that is not one keeps
// its text (shortened) as the message.
func parseError(status int, raw []byte) *providers.Error {
	e := &providers.Error{Status: status}
	var env errorEnvelope
	if json.Unmarshal(raw, &env) == nil && (env.Error.Type != "" || env.Error.Message != "") {
		e.Type, e.Message = env.Error.Type, env.Error.Message
		return e
	}
	msg := strings.TrimSpace(string(raw))
	if len(msg) > 512 {
		msg = msg[:512] + "…"
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	e.Message = msg
	return e
}

// statusForType maps an Anthropic error type to its HTTP status, for the
// in-stream error event which carries no status of its own.
func statusForType(t string) int {
	switch t {
	case "invalid_request_error":
		return http.StatusBadRequest
	case "authentication_error":
		return http.StatusUnauthorized
	case "billing_error":
		return http.StatusPaymentRequired
	case "permission_error":
		return http.StatusForbidden
	case "not_found_error":
		return http.StatusNotFound
	case "request_too_large":
		return http.StatusRequestEntityTooLarge
	case "rate_limit_error":
		return http.StatusTooManyRequests
	case "timeout_error":
		return http.StatusGatewayTimeout
	case "overloaded_error":
		return 529
	default:
		return http.StatusInternalServerError
	}
}

// badRequest is a translation error the client caused.
func badRequest(param, format string, args ...any) *providers.Error {
	return &providers.Error{Status: http.StatusBadRequest, Type: "invalid_request_error", Param: param, Message: fmt.Sprintf(format, args...)}
}

// errInvalidJSON marks a 2xx answer whose body is not the JSON we expect.
var errInvalidJSON = errors.New("invalid JSON from upstream")
