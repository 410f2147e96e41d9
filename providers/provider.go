package providers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"
)

// Provider is one configured upstream that can answer chat completions.
// Implementations translate the unified request into the upstream's wire
// format, send it with the Doer from their Config, and translate the answer
// back. The request's Model is already the upstream model name.
type Provider interface {
	Chat(ctx context.Context, req *ChatRequest) (*ChatResponse, error)
	ChatStream(ctx context.Context, req *ChatRequest) (Stream, error)
}

// Stream is a streamed chat completion. Recv returns the next chunk, and
// io.EOF after the last one; a stream that breaks off returns another error.
// Close releases the upstream connection; it is safe to call more than once.
type Stream interface {
	Recv() (*ChatChunk, error)
	Close() error
}

// Embedder is implemented by providers that can embed text.
type Embedder interface {
	Embed(ctx context.Context, req *EmbeddingRequest) (*EmbeddingResponse, error)
}

// ModelLister is implemented by providers that can list their models.
type ModelLister interface {
	ListModels(ctx context.Context) ([]string, error)
}

// Operation names an endpoint for passthrough.
type Operation string

// Operations that a provider may take in its native wire format.
const (
	OpChat       Operation = "chat"       // OpenAI /chat/completions
	OpEmbeddings Operation = "embeddings" // OpenAI /embeddings
	OpMessages   Operation = "messages"   // Anthropic /v1/messages
)

// Passthrough is implemented by providers whose wire format is the client's
// own for an operation. The gateway then sends the client's body unchanged
// (only "model" rewritten) and copies the upstream answer back as it arrives,
// with no decode and re-encode, so unknown and future fields survive.
type Passthrough interface {
	// PassesThrough reports whether op can be forwarded as is.
	PassesThrough(op Operation) bool
	// Forward sends body to the upstream endpoint of op with the provider's
	// credentials and returns the upstream response unread. A non-2xx
	// status is returned as a response, not as an error; the caller decides.
	// Errors are transport failures only.
	Forward(ctx context.Context, op Operation, body []byte) (*http.Response, error)
}

// Doer sends HTTP requests. Every provider gets the gateway's one shared
// client, which owns connection reuse, timeouts and timing traces.
type Doer interface {
	Do(req *http.Request) (*http.Response, error)
}

// Config is what a provider is built from: one row of the providers table.
type Config struct {
	// Name is the operator's name for this provider.
	Name string
	// Kind is the registered kind ("openai", "anthropic", …).
	Kind string
	// BaseURL is the upstream's base URL; empty means the kind's default.
	BaseURL string
	// APIKey is the decrypted credential.
	APIKey string
	// Settings are kind-specific settings (Azure deployment and
	// api_version, Gemini api_version, …).
	Settings map[string]string
	// Headers are extra headers sent on every upstream request.
	Headers map[string]string
	// Timeout bounds one upstream attempt; zero means no bound beyond ctx.
	Timeout time.Duration
	// HTTP sends the requests.
	HTTP Doer
}

// Factory builds a provider of one kind.
type Factory func(cfg Config) (Provider, error)

var (
	registryMu sync.RWMutex
	registry   = map[string]Factory{}
)

// Register makes a provider kind available by name. It is called from the
// init function of the kind's package and panics on a duplicate name.
func Register(kind string, f Factory) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if kind == "" || f == nil {
		panic("providers: Register needs a kind and a factory")
	}
	if _, dup := registry[kind]; dup {
		panic("providers: kind registered twice: " + kind)
	}
	registry[kind] = f
}

// New builds a provider of cfg.Kind.
func New(cfg Config) (Provider, error) {
	registryMu.RLock()
	f, ok := registry[cfg.Kind]
	registryMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("unknown provider kind %q (known: %v)", cfg.Kind, Kinds())
	}
	if cfg.HTTP == nil {
		cfg.HTTP = http.DefaultClient
	}
	return f(cfg)
}

// Kinds lists the registered kinds, sorted.
func Kinds() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	out := make([]string, 0, len(registry))
	for k := range registry {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Error is an error answered by an upstream, or a failure to reach it,
// in provider-neutral form. The gateway maps it to the client's envelope.
type Error struct {
	// Status is the upstream's HTTP status; 0 when no answer came.
	Status int
	// Type and Code are the upstream's error type and code, when given.
	Type string
	Code string
	// Param is the request field at fault, when the upstream names one.
	Param string
	// Message is the upstream's message, safe to show the client.
	Message string
	// RetryAfter is the upstream's Retry-After, when given.
	RetryAfter time.Duration
	// Err is the underlying cause (a transport error, a decode error).
	Err error
}

func (e *Error) Error() string {
	switch {
	case e.Status != 0 && e.Message != "":
		return fmt.Sprintf("upstream status %d: %s", e.Status, e.Message)
	case e.Status != 0:
		return fmt.Sprintf("upstream status %d", e.Status)
	case e.Err != nil:
		return "upstream: " + e.Err.Error()
	default:
		return "upstream: " + e.Message
	}
}

func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether another attempt (on this or another target)
// may succeed: no answer at all, 408, 409, 429 or a 5xx.
func (e *Error) Retryable() bool {
	if e.Status == 0 {
		return !errors.Is(e.Err, context.Canceled)
	}
	return e.Status == http.StatusRequestTimeout || e.Status == http.StatusConflict ||
		e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// ErrTruncated is returned by a stream that ended without its terminating
// event: the upstream closed the connection midway.
var ErrTruncated = errors.New("upstream stream ended before it was complete")

// DrainClose reads a little of body and closes it, so the connection can be
// reused.
func DrainClose(body io.ReadCloser) {
	if body == nil {
		return
	}
	_, _ = io.CopyN(io.Discard, body, 64<<10)
	_ = body.Close()
}

// RetryAfter reads how long an upstream asks the caller to wait: the
// "retry-after-ms" header OpenAI and Azure send, else "Retry-After" in
// seconds or as an HTTP date (relative to now). Zero when absent or invalid.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
