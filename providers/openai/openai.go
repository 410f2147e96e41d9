// Package openai is the adapter for upstreams that speak the OpenAI Chat
// Completions wire format: OpenAI itself, Azure OpenAI, any
// OpenAI-compatible server, and presets for Mistral, Groq, DeepSeek,
// Together, OpenRouter, xAI, Ollama and vLLM.
//
// The unified request is already OpenAI-shaped, so translation is small: the
// request is marshalled, the quirks of the upstream are applied to the JSON
// body by one function ([ApplyQuirks]), and answers are decoded as they are.
// Each kind is one row of a table: its default base URL and its quirks.
//
// A configured base URL includes the version segment
// ("https://api.openai.com/v1"); endpoints ("/chat/completions",
// "/embeddings", "/models") are appended to it. Azure is the exception: its
// base URL is the resource endpoint ("https://NAME.openai.azure.com") and
// requests go to /openai/deployments/{deployment}/… with an api-version.
//
// The package imports only the standard library, providers, providers/sse
// and the gjson/sjson wire-format libraries.
package openai

import (
	"fmt"
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/sluicehq/sluice/providers"
)

// Quirks are the ways an upstream departs from the OpenAI wire format. They
// are data: ApplyQuirks is the one place that acts on them.
type Quirks struct {
	// NoStreamOptions means the upstream rejects "stream_options"
	// (Mistral answers 422 "Extra inputs are not permitted"), so it is never
	// sent; such upstreams report usage in their last chunk unasked.
	NoStreamOptions bool
	// MaxTokensField names the one field the upstream reads the output token
	// limit from: "max_tokens" or "max_completion_tokens". A request's limit
	// (max_completion_tokens winning over max_tokens) is moved there. Empty
	// leaves both fields as the client sent them.
	MaxTokensField string
	// SeedField names the field the upstream reads the sampling seed from,
	// when it is not "seed" (Mistral: "random_seed").
	SeedField string
	// NoUserMetadata means the upstream rejects "user" and "metadata"; they
	// change no output, so they are left out.
	NoUserMetadata bool
}

// kind is one row of the kinds table.
type kind struct {
	name    string
	baseURL string // default base URL; empty means the operator must give one
	azure   bool   // Azure deployment URLs and api-key auth
	quirks  Quirks
}

// Settings keys read by the azure kind.
const (
	SettingDeployment = "deployment"  // Azure deployment; default: the request's model
	SettingAPIVersion = "api_version" // Azure api-version query parameter
)

// DefaultAzureAPIVersion is the api-version sent to Azure when the
// provider's settings name none: the latest GA data-plane inference version.
const DefaultAzureAPIVersion = "2024-10-21"

func init() {
	for _, k := range []kind{
		{name: "openai", baseURL: "https://api.openai.com/v1", quirks: Quirks{MaxTokensField: "max_completion_tokens"}},
		{name: "openai-compatible"},
		{name: "azure", azure: true},
		{name: "mistral", baseURL: "https://api.mistral.ai/v1", quirks: Quirks{NoStreamOptions: true, MaxTokensField: "max_tokens", SeedField: "random_seed", NoUserMetadata: true}},
		{name: "groq", baseURL: "https://api.groq.com/openai/v1"},
		{name: "deepseek", baseURL: "https://api.deepseek.com/v1", quirks: Quirks{MaxTokensField: "max_tokens"}},
		{name: "together", baseURL: "https://api.together.xyz/v1", quirks: Quirks{MaxTokensField: "max_tokens"}},
		{name: "openrouter", baseURL: "https://openrouter.ai/api/v1", quirks: Quirks{MaxTokensField: "max_tokens"}},
		{name: "xai", baseURL: "https://api.x.ai/v1"},
		{name: "ollama", baseURL: "http://localhost:11434/v1", quirks: Quirks{MaxTokensField: "max_tokens"}},
		{name: "vllm", baseURL: "http://localhost:8000/v1", quirks: Quirks{MaxTokensField: "max_tokens"}},
	} {
		providers.Register(k.name, k.factory)
	}
}

// factory builds a Provider of this kind from cfg.
func (k kind) factory(cfg providers.Config) (providers.Provider, error) {
	return newProvider(k, cfg)
}

// Provider is one configured OpenAI-family upstream. It implements
// providers.Provider, Embedder, ModelLister and Passthrough.
type Provider struct {
	kind    string
	base    string // without trailing slash
	key     string
	headers map[string]string
	timeout time.Duration
	http    providers.Doer
	quirks  Quirks
	azure   *azureTarget // nil unless the kind is azure
}

var (
	_ providers.Provider    = (*Provider)(nil)
	_ providers.Embedder    = (*Provider)(nil)
	_ providers.ModelLister = (*Provider)(nil)
	_ providers.Passthrough = (*Provider)(nil)
)

// azureTarget is what Azure URLs are built from.
type azureTarget struct {
	deployment string // fixed deployment; empty means the request's model
	apiVersion string
}

func newProvider(k kind, cfg providers.Config) (*Provider, error) {
	base := strings.TrimSpace(cfg.BaseURL)
	if base == "" {
		base = k.baseURL
	}
	if base == "" {
		return nil, fmt.Errorf("%s provider %q: a base URL is required", k.name, cfg.Name)
	}
	if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
		return nil, fmt.Errorf("%s provider %q: base URL %q must start with http:// or https://", k.name, cfg.Name, base)
	}
	base = strings.TrimRight(base, "/")
	if cfg.HTTP == nil {
		cfg.HTTP = http.DefaultClient
	}
	p := &Provider{
		kind:    k.name,
		base:    base,
		key:     cfg.APIKey,
		headers: maps.Clone(cfg.Headers),
		timeout: cfg.Timeout,
		http:    cfg.HTTP,
		quirks:  k.quirks,
	}
	if k.azure {
		// Operators paste the resource endpoint with or without "/openai".
		p.base = strings.TrimSuffix(p.base, "/openai")
		p.azure = &azureTarget{
			deployment: cfg.Settings[SettingDeployment],
			apiVersion: cfg.Settings[SettingAPIVersion],
		}
		if p.azure.apiVersion == "" {
			p.azure.apiVersion = DefaultAzureAPIVersion
		}
	}
	return p, nil
}

// Kind returns the registered kind the provider was built as.
func (p *Provider) Kind() string { return p.kind }

// Quirks returns the quirks applied to every chat body sent upstream.
func (p *Provider) Quirks() Quirks { return p.quirks }
