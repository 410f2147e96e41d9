package openai

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/tidwall/gjson"

	"github.com/sluicehq/sluice/providers"
)

// Body size limits: a whole answer, and the part of an error answer read.
const (
	maxBody      = 64 << 20
	maxErrorBody = 64 << 10
)

// newRequest builds an upstream request carrying the configured headers and
// the credential: "Authorization: Bearer KEY", or "api-key: KEY" for Azure.
// No credential header is sent when the key is empty (Ollama, vLLM).
func (p *Provider) newRequest(ctx context.Context, method, url string, body []byte) (*http.Request, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return nil, fmt.Errorf("openai: building request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	for k, v := range p.headers {
		req.Header.Set(k, v)
	}
	if p.key != "" {
		if p.azure != nil {
			req.Header.Set("Api-Key", p.key)
		} else {
			req.Header.Set("Authorization", "Bearer "+p.key)
		}
	}
	return req, nil
}

// do sends req; a transport failure becomes a *providers.Error with
// Status 0.
func (p *Provider) do(req *http.Request, wd *watchdog) (*http.Response, error) {
	resp, err := p.http.Do(req)
	if err != nil {
		return nil, &providers.Error{Err: wd.explain(err)}
	}
	return resp, nil
}

// call sends one request and returns the whole 2xx body, or the upstream's
// error as a *providers.Error.
func (p *Provider) call(ctx context.Context, method, url string, body []byte) ([]byte, error) {
	ctx, wd := startWatchdog(ctx, p.timeout)
	defer wd.stop()
	req, err := p.newRequest(ctx, method, url, body)
	if err != nil {
		return nil, err
	}
	resp, err := p.do(req, wd)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, errorResponse(resp, wd)
	}
	var rb io.Reader = resp.Body
	if wd != nil {
		rb = &watchedBody{ReadCloser: resp.Body, wd: wd}
	}
	data, err := io.ReadAll(io.LimitReader(rb, maxBody+1))
	_ = resp.Body.Close()
	if err != nil {
		return nil, &providers.Error{Err: fmt.Errorf("reading upstream answer: %w", err)}
	}
	if len(data) > maxBody {
		return nil, &providers.Error{Err: fmt.Errorf("upstream answer larger than %d bytes", maxBody)}
	}
	return data, nil
}

// errorResponse reads a non-2xx answer into a *providers.Error and closes it.
func errorResponse(resp *http.Response, wd *watchdog) *providers.Error {
	var rb io.Reader = resp.Body
	if wd != nil {
		rb = &watchedBody{ReadCloser: resp.Body, wd: wd}
	}
	data, err := io.ReadAll(io.LimitReader(rb, maxErrorBody))
	providers.DrainClose(resp.Body)
	e := ParseError(resp.StatusCode, resp.Header, data)
	if err != nil {
		e.Err = fmt.Errorf("reading upstream error: %w", err)
	}
	return e
}

// Chat sends a chat completion and returns the upstream's answer.
func (p *Provider) Chat(ctx context.Context, req *providers.ChatRequest) (*providers.ChatResponse, error) {
	body, err := ChatBody(req, p.quirks, false)
	if err != nil {
		return nil, err
	}
	url, err := p.endpoint(providers.OpChat, req.Model)
	if err != nil {
		return nil, err
	}
	data, err := p.call(ctx, http.MethodPost, url, body)
	if err != nil {
		return nil, err
	}
	return DecodeChat(data)
}

// ChatStream starts a streamed chat completion. A non-2xx answer is
// returned as a *providers.Error before any chunk.
func (p *Provider) ChatStream(ctx context.Context, req *providers.ChatRequest) (providers.Stream, error) {
	body, err := ChatBody(req, p.quirks, true)
	if err != nil {
		return nil, err
	}
	url, err := p.endpoint(providers.OpChat, req.Model)
	if err != nil {
		return nil, err
	}
	ctx, wd := startWatchdog(ctx, p.timeout)
	hreq, err := p.newRequest(ctx, http.MethodPost, url, body)
	if err != nil {
		wd.stop()
		return nil, err
	}
	hreq.Header.Set("Accept", "text/event-stream")
	resp, err := p.do(hreq, wd)
	if err != nil {
		wd.stop()
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		e := errorResponse(resp, wd)
		wd.stop()
		return nil, e
	}
	var rc io.ReadCloser = resp.Body
	if wd != nil {
		rc = &watchedBody{ReadCloser: resp.Body, wd: wd}
	}
	return NewStream(rc), nil
}

// Embed embeds the request's inputs.
func (p *Provider) Embed(ctx context.Context, req *providers.EmbeddingRequest) (*providers.EmbeddingResponse, error) {
	body, err := EmbeddingBody(req)
	if err != nil {
		return nil, err
	}
	url, err := p.endpoint(providers.OpEmbeddings, req.Model)
	if err != nil {
		return nil, err
	}
	data, err := p.call(ctx, http.MethodPost, url, body)
	if err != nil {
		return nil, err
	}
	return DecodeEmbeddings(data)
}

// ListModels returns the ids of the upstream's models (for Azure, the
// models of the resource, which deployments are named after by custom).
func (p *Provider) ListModels(ctx context.Context) ([]string, error) {
	data, err := p.call(ctx, http.MethodGet, p.modelsURL(), nil)
	if err != nil {
		return nil, err
	}
	return DecodeModels(data)
}

// PassesThrough reports true for chat completions and embeddings, which the
// upstream takes in the client's own (OpenAI) format.
func (p *Provider) PassesThrough(op providers.Operation) bool {
	return op == providers.OpChat || op == providers.OpEmbeddings
}

// Forward sends body to the upstream endpoint of op with the provider's
// credential and headers, and returns the upstream response unread. A chat
// body passes through ApplyQuirks, which leaves it byte for byte unchanged
// unless one of the upstream's quirks applies (Mistral's stream_options,
// say). For Azure without a configured deployment, the body's "model" names
// the deployment; the model field stays in the body (Azure ignores it).
func (p *Provider) Forward(ctx context.Context, op providers.Operation, body []byte) (*http.Response, error) {
	if !p.PassesThrough(op) {
		return nil, fmt.Errorf("openai: operation %q cannot be passed through", op)
	}
	if op == providers.OpChat {
		var err error
		if body, err = ApplyQuirks(body, p.quirks); err != nil {
			return nil, err
		}
	}
	model := ""
	if p.azure != nil && p.azure.deployment == "" {
		model = gjson.GetBytes(body, "model").String()
	}
	url, err := p.endpoint(op, model)
	if err != nil {
		return nil, err
	}
	ctx, wd := startWatchdog(ctx, p.timeout)
	req, err := p.newRequest(ctx, http.MethodPost, url, body)
	if err != nil {
		wd.stop()
		return nil, err
	}
	if op == providers.OpChat && gjson.GetBytes(body, "stream").Bool() {
		req.Header.Set("Accept", "text/event-stream")
	}
	resp, err := p.do(req, wd)
	if err != nil {
		wd.stop()
		return nil, err
	}
	if wd != nil {
		resp.Body = &watchedBody{ReadCloser: resp.Body, wd: wd}
	}
	return resp, nil
}
