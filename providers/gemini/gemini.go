// Package gemini is the provider kind "gemini": Google's Gemini Developer
// API (generativelanguage.googleapis.com). It translates OpenAI chat
// completions to generateContent and streamGenerateContent (server-sent
// events), embeddings to embedContent and batchEmbedContents, and lists
// models. The wire format differs from OpenAI's, so it has no passthrough.
//
// Settings: "api_version" (default "v1beta"). Authentication is the
// x-goog-api-key header.
//
// It imports only the standard library and other providers packages.
package gemini

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sluicehq/sluice/providers"
)

// Kind is the registered provider kind.
const Kind = "gemini"

// DefaultBaseURL is the Gemini Developer API.
const DefaultBaseURL = "https://generativelanguage.googleapis.com"

// DefaultAPIVersion is used when Settings["api_version"] is empty.
const DefaultAPIVersion = "v1beta"

func init() {
	providers.Register(Kind, func(cfg providers.Config) (providers.Provider, error) {
		p, err := New(cfg)
		if err != nil {
			return nil, err
		}
		return p, nil
	})
}

// Provider talks to one Gemini endpoint with one API key.
type Provider struct {
	root    string // base URL + "/" + API version
	apiKey  string
	headers map[string]string
	timeout time.Duration
	http    providers.Doer
}

var (
	_ providers.Provider    = (*Provider)(nil)
	_ providers.Embedder    = (*Provider)(nil)
	_ providers.ModelLister = (*Provider)(nil)
)

// New builds a Gemini provider from cfg.
func New(cfg providers.Config) (*Provider, error) {
	base := strings.TrimRight(cfg.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("gemini: invalid base URL %q", cfg.BaseURL)
	}
	version := strings.Trim(cfg.Settings["api_version"], "/")
	if version == "" {
		version = DefaultAPIVersion
	}
	doer := cfg.HTTP
	if doer == nil {
		doer = http.DefaultClient
	}
	return &Provider{
		root:    base + "/" + version,
		apiKey:  cfg.APIKey,
		headers: cfg.Headers,
		timeout: cfg.Timeout,
		http:    doer,
	}, nil
}

// Chat sends a generateContent request.
func (p *Provider) Chat(ctx context.Context, req *providers.ChatRequest) (*providers.ChatResponse, error) {
	body, err := requestBody(req)
	if err != nil {
		return nil, err
	}
	ctx, cancel := p.attemptContext(ctx)
	defer cancel()
	resp, err := p.send(ctx, http.MethodPost, p.modelURL(req.Model, "generateContent"), body)
	if err != nil {
		return nil, err
	}
	defer providers.DrainClose(resp.Body)
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, &providers.Error{Err: fmt.Errorf("gemini: reading response: %w", err)}
	}
	return decodeResponse(raw, newMeta(req.Model))
}

// ChatStream sends a streamGenerateContent request with alt=sse. The
// returned stream reads one event at a time; Close releases the connection.
func (p *Provider) ChatStream(ctx context.Context, req *providers.ChatRequest) (providers.Stream, error) {
	body, err := requestBody(req)
	if err != nil {
		return nil, err
	}
	ctx, cancel := p.attemptContext(ctx)
	resp, err := p.send(ctx, http.MethodPost, p.modelURL(req.Model, "streamGenerateContent")+"?alt=sse", body)
	if err != nil {
		cancel()
		return nil, err
	}
	return newStream(resp.Body, newMeta(req.Model), cancel), nil
}

// requestBody translates and encodes a chat request.
func requestBody(req *providers.ChatRequest) ([]byte, error) {
	gr, err := translateRequest(req)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(gr)
	if err != nil {
		return nil, fmt.Errorf("gemini: encoding request: %w", err)
	}
	return b, nil
}

// attemptContext bounds one upstream attempt by the configured timeout.
func (p *Provider) attemptContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if p.timeout > 0 {
		return context.WithTimeout(ctx, p.timeout)
	}
	return context.WithCancel(ctx)
}

// modelURL is {base}/{version}/models/{model}:{method}. A model already
// given as a resource name ("models/x", "tunedModels/x") is used as is.
func (p *Provider) modelURL(model, method string) string {
	name := model
	if !strings.Contains(name, "/") {
		name = "models/" + url.PathEscape(name)
	}
	return p.root + "/" + name + ":" + method
}

// send performs one request. A transport failure or a non-2xx answer is a
// *providers.Error; on success the caller owns resp.Body.
func (p *Provider) send(ctx context.Context, method, u string, body []byte) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	hreq, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, &providers.Error{Err: fmt.Errorf("gemini: building request: %w", err)}
	}
	if body != nil {
		hreq.Header.Set("Content-Type", "application/json")
	}
	if p.apiKey != "" {
		hreq.Header.Set("x-goog-api-key", p.apiKey)
	}
	for k, v := range p.headers {
		hreq.Header.Set(k, v)
	}
	resp, err := p.http.Do(hreq)
	if err != nil {
		return nil, &providers.Error{Err: fmt.Errorf("gemini: %w", err)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, errorFromResponse(resp)
	}
	return resp, nil
}

// newMeta is the fallback id, the requested model and the time now.
func newMeta(model string) meta {
	return meta{fallbackID: newID(), model: model, created: time.Now().Unix()}
}

// newID returns a random chat completion id for answers without responseId.
func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "chatcmpl-" + hex.EncodeToString(b[:])
}
