package relay_test

import (
	"context"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/option"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/sluicehq/sluice/internal/fakes/anthropicfake"
	"github.com/sluicehq/sluice/internal/fakes/openaifake"
	"github.com/sluicehq/sluice/internal/relay"
)

// TestMessagesThroughSDK drives /v1/messages with anthropic-sdk-go, routed
// to the Anthropic fake (passthrough) and to the OpenAI and Gemini fakes
// (translation), streamed and not.
func TestMessagesThroughSDK(t *testing.T) {
	u := newUpstreams(t)
	for _, kind := range []string{"anthropic", "openai", "gemini"} {
		for _, stream := range []bool{false, true} {
			name := kind
			if stream {
				name += "/stream"
			}
			t.Run(name, func(t *testing.T) {
				g := newGateway(t, relay.New(relay.Config{}), u.target(t, kind, 0))
				c := anthropic.NewClient(option.WithBaseURL(g.url), option.WithAPIKey("sk-consumer"), option.WithMaxRetries(0))
				params := anthropic.MessageNewParams{Model: publicModel, MaxTokens: 256,
					Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hello there"))}}
				var msg anthropic.Message
				if stream {
					s := c.Messages.NewStreaming(context.Background(), params)
					for s.Next() {
						require.NoError(t, msg.Accumulate(s.Current()))
					}
					require.NoError(t, s.Err())
				} else {
					m, err := c.Messages.New(context.Background(), params)
					require.NoError(t, err)
					msg = *m
				}
				res := g.last(t)
				require.NotEmpty(t, msg.Content)
				assert.Equal(t, "echo: hello there", msg.Content[0].Text)
				assert.Equal(t, publicModel, string(msg.Model))
				assert.Positive(t, msg.Usage.InputTokens)
				assert.Positive(t, msg.Usage.OutputTokens)
				assert.Equal(t, 200, res.Status)
				assert.Equal(t, int(msg.Usage.InputTokens), res.Usage.PromptTokens)
				assert.Equal(t, int(msg.Usage.OutputTokens), res.Usage.CompletionTokens)
				assert.False(t, res.UsageEstimated)
				assert.Equal(t, kind, res.Target.ProviderKind)
			})
		}
	}
}

// TestMessagesPassthroughByteFaithful: a native Messages body reaches the
// Anthropic upstream with only "model" changed.
func TestMessagesPassthroughByteFaithful(t *testing.T) {
	u := newUpstreams(t)
	u.ant.Reset()
	g := newGateway(t, newRelay(newFakeClock()), u.target(t, "anthropic", 0))
	body := `{"model":"house-model","max_tokens":64,"messages":[{"role":"user","content":"hi"}],"thinking":{"type":"enabled","budget_tokens":1024},"future":[1, 2]}`
	status, _, out := g.post(t, "/v1/messages", body)
	g.last(t)
	require.Equal(t, 200, status, out)
	reqs := u.ant.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, `{"model":"claude-haiku-4-5","max_tokens":64,"messages":[{"role":"user","content":"hi"}],"thinking":{"type":"enabled","budget_tokens":1024},"future":[1, 2]}`, string(reqs[0].Body))
}

// TestMessagesErrors: errors on /v1/messages use Anthropic's envelope and
// event, both for passthrough and translation.
func TestMessagesErrors(t *testing.T) {
	u := newUpstreams(t)
	t.Run("passthrough 400 carried over", func(t *testing.T) {
		u.ant.Reset()
		u.ant.Script(anthropicfake.Fault{Status: 400, Body: `{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: must be positive"}}`})
		g := newGateway(t, newRelay(newFakeClock()), u.target(t, "anthropic", 0))
		status, _, body := g.post(t, "/v1/messages", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"hi"}]}`)
		g.last(t)
		assert.Equal(t, 400, status)
		assert.Equal(t, "error", gjson.Get(body, "type").String())
		assert.Equal(t, "invalid_request_error", gjson.Get(body, "error.type").String())
		assert.Equal(t, "max_tokens: must be positive", gjson.Get(body, "error.message").String())
	})
	t.Run("passthrough stream cut midway", func(t *testing.T) {
		u.ant.Reset()
		u.ant.Script(anthropicfake.Fault{CutAfterChunks: 3})
		g := newGateway(t, newRelay(newFakeClock()), u.target(t, "anthropic", 0))
		status, _, body := g.post(t, "/v1/messages", `{"model":"m","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"one two three four"}]}`)
		res := g.last(t)
		assert.Equal(t, 200, status)
		assert.Contains(t, body, "event: error\ndata: {\"type\":\"error\"")
		assert.NotContains(t, body, "message_stop")
		assert.Len(t, res.Attempts, 1)
	})
	t.Run("translation stream cut midway", func(t *testing.T) {
		f := openaifake.New()
		f.Script(openaifake.Fault{CutAfterChunks: 2})
		g := newGateway(t, newRelay(newFakeClock()), u.targetAt(t, "oai", "openai", serve(t, f)+"/v1", 0))
		status, _, body := g.post(t, "/v1/messages", `{"model":"m","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"one two three four"}]}`)
		g.last(t)
		assert.Equal(t, 200, status)
		assert.Contains(t, body, "event: message_start")
		assert.Contains(t, body, "event: error\n")
		assert.NotContains(t, body, "message_stop")
	})
	t.Run("bad request for translation", func(t *testing.T) {
		g := newGateway(t, newRelay(newFakeClock()), u.target(t, "openai", 0))
		status, _, body := g.post(t, "/v1/messages", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`)
		g.last(t)
		assert.Equal(t, 400, status)
		assert.Equal(t, "invalid_request_error", gjson.Get(body, "error.type").String())
		assert.Contains(t, gjson.Get(body, "error.message").String(), "max_tokens")
	})
	t.Run("no target", func(t *testing.T) {
		g := newGateway(t, newRelay(newFakeClock()))
		status, _, body := g.post(t, "/v1/messages", `{"model":"m","max_tokens":1,"messages":[]}`)
		g.last(t)
		assert.Equal(t, 503, status)
		assert.Equal(t, "overloaded_error", gjson.Get(body, "error.type").String())
	})
}

// TestEmbeddings: passthrough to OpenAI, translation to Gemini, 400 for a
// route that cannot embed.
func TestEmbeddings(t *testing.T) {
	u := newUpstreams(t)
	for _, kind := range []string{"openai", "gemini"} {
		t.Run(kind, func(t *testing.T) {
			g := newGateway(t, newRelay(newFakeClock()), u.target(t, kind, 0))
			status, _, body := g.post(t, "/v1/embeddings", `{"model":"house-model","input":["a b c","d e"]}`)
			res := g.last(t)
			require.Equal(t, 200, status, body)
			assert.Equal(t, int64(2), gjson.Get(body, "data.#").Int())
			assert.Positive(t, gjson.Get(body, "data.0.embedding.#").Int())
			assert.Equal(t, publicModel, gjson.Get(body, "model").String())
			assert.Positive(t, res.Usage.PromptTokens)
		})
	}
	t.Run("cannot embed", func(t *testing.T) {
		g := newGateway(t, newRelay(newFakeClock()), u.target(t, "anthropic", 0))
		status, _, body := g.post(t, "/v1/embeddings", `{"model":"house-model","input":"x"}`)
		res := g.last(t)
		assert.Equal(t, 400, status)
		assert.Contains(t, gjson.Get(body, "error.message").String(), "cannot make embeddings")
		assert.Equal(t, 400, res.Status)
	})
}

// TestAttemptTimings: the waterfall of a delayed upstream is recorded.
func TestAttemptTimings(t *testing.T) {
	u := newUpstreams(t)
	f := openaifake.New()
	f.Script(openaifake.Fault{DelayFirstByte: 60 * time.Millisecond})
	g := newGateway(t, relay.New(relay.Config{}), u.targetAt(t, "slow", "openai", serve(t, f)+"/v1", 0))
	status, _, _ := g.post(t, "/v1/chat/completions", chatBody("hi", true, ""))
	res := g.last(t)
	require.Equal(t, 200, status)
	require.Len(t, res.Attempts, 1)
	a := res.Attempts[0]
	assert.GreaterOrEqual(t, a.TTFB, 60*time.Millisecond)
	assert.Positive(t, a.Connect, "a new connection was opened")
	assert.False(t, a.Start.IsZero())
	assert.GreaterOrEqual(t, res.TTFT, 60*time.Millisecond)
	assert.Equal(t, 200, a.Status)
	assert.Positive(t, res.BytesIn)
}
