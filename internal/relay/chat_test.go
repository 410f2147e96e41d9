package relay_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	openai "github.com/sashabaranov/go-openai"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/sluicehq/sluice/internal/relay"
)

func openAIClient(g *gateway) *openai.Client {
	cfg := openai.DefaultConfig("sk-consumer")
	cfg.BaseURL = g.url + "/v1"
	return openai.NewClientWithConfig(cfg)
}

var weatherTool = []openai.Tool{{Type: openai.ToolTypeFunction, Function: &openai.FunctionDefinition{
	Name: "get_weather", Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}}}`)}}}

// TestChatThroughSDK drives every provider kind through the relay with the
// go-openai SDK: passthrough (OpenAI) and translation (Anthropic, Gemini),
// streamed and not, text and tool calls.
func TestChatThroughSDK(t *testing.T) {
	u := newUpstreams(t)
	for _, kind := range []string{"openai", "anthropic", "gemini"} {
		for _, stream := range []bool{false, true} {
			for _, tools := range []bool{false, true} {
				name := kind
				if stream {
					name += "/stream"
				}
				if tools {
					name += "/tools"
				}
				t.Run(name, func(t *testing.T) {
					g := newGateway(t, relay.New(relay.Config{}), u.target(t, kind, 0))
					c := openAIClient(g)
					req := openai.ChatCompletionRequest{Model: publicModel,
						Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "hello there"}}}
					if tools {
						req.Tools = weatherTool
						req.Messages[0].Content = "please use_tool now"
					}
					var text, model, toolName, toolArgs string
					var usage *openai.Usage
					if !stream {
						resp, err := c.CreateChatCompletion(context.Background(), req)
						require.NoError(t, err)
						require.Len(t, resp.Choices, 1)
						text, model, usage = resp.Choices[0].Message.Content, resp.Model, &resp.Usage
						if tc := resp.Choices[0].Message.ToolCalls; len(tc) > 0 {
							toolName, toolArgs = tc[0].Function.Name, tc[0].Function.Arguments
						}
					} else {
						req.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
						s, err := c.CreateChatCompletionStream(context.Background(), req)
						require.NoError(t, err)
						defer s.Close()
						for {
							ch, err := s.Recv()
							if errors.Is(err, io.EOF) {
								break
							}
							require.NoError(t, err)
							model = ch.Model
							if ch.Usage != nil {
								usage = ch.Usage
							}
							for _, choice := range ch.Choices {
								text += choice.Delta.Content
								for _, tc := range choice.Delta.ToolCalls {
									if tc.Function.Name != "" {
										toolName = tc.Function.Name
									}
									toolArgs += tc.Function.Arguments
								}
							}
						}
					}
					res := g.last(t)
					assert.Equal(t, publicModel, model, "the client sees the public model name")
					if tools {
						assert.Equal(t, "get_weather", toolName)
						assert.JSONEq(t, `{"echo":"please use_tool now"}`, toolArgs)
					} else {
						assert.Equal(t, "echo: hello there", text)
					}
					require.NotNil(t, usage, "usage reaches the client")
					assert.Positive(t, usage.PromptTokens)
					assert.Positive(t, usage.CompletionTokens)
					assert.Equal(t, 200, res.Status)
					assert.Equal(t, usage.PromptTokens, res.Usage.PromptTokens)
					assert.Equal(t, usage.CompletionTokens, res.Usage.CompletionTokens)
					assert.False(t, res.UsageEstimated)
					require.NotNil(t, res.Target)
					assert.Equal(t, kind, res.Target.ProviderKind)
					require.Len(t, res.Attempts, 1)
					assert.Equal(t, 200, res.Attempts[0].Status)
					assert.Positive(t, res.BytesOut)
					assert.Positive(t, res.TTFT)
					assert.Equal(t, stream, res.Stream)
				})
			}
		}
	}
}

// TestIncludeUsage checks that the usage chunk reaches only clients that
// asked for it, while the relay always records usage.
func TestIncludeUsage(t *testing.T) {
	u := newUpstreams(t)
	for _, kind := range []string{"openai", "anthropic", "gemini"} {
		for _, asked := range []bool{false, true} {
			t.Run(kind+map[bool]string{false: "/not-asked", true: "/asked"}[asked], func(t *testing.T) {
				g := newGateway(t, newRelay(newFakeClock()), u.target(t, kind, 0))
				extra := ""
				if asked {
					extra = `,"stream_options":{"include_usage":true}`
				}
				u.oai.Reset()
				status, h, body := g.post(t, "/v1/chat/completions", chatBody("count me", true, extra))
				res := g.last(t)
				require.Equal(t, 200, status)
				assert.Equal(t, "text/event-stream", h.Get("Content-Type"))
				evs := events(body)
				require.GreaterOrEqual(t, len(evs), 3)
				assert.Equal(t, "[DONE]", evs[len(evs)-1])
				usageChunks := 0
				for _, e := range evs[:len(evs)-1] {
					if gjson.Get(e, "usage").IsObject() {
						usageChunks++
						assert.Equal(t, int64(0), gjson.Get(e, "choices.#").Int())
					}
				}
				if asked {
					assert.Equal(t, 1, usageChunks, "the client asked for usage")
				} else {
					assert.Zero(t, usageChunks, "the usage chunk is hidden from a client that did not ask")
				}
				assert.Positive(t, res.Usage.TotalTokens)
				assert.False(t, res.UsageEstimated)
				if kind == "openai" {
					reqs := u.oai.Requests()
					require.Len(t, reqs, 1)
					assert.True(t, gjson.GetBytes(reqs[0].Body, "stream_options.include_usage").Bool(),
						"usage is always asked of the upstream")
				}
			})
		}
	}
}

// TestPassthroughByteFaithful checks that only "model" changes on the way
// to an OpenAI-compatible upstream: unknown fields, spacing and key order
// survive byte for byte.
func TestPassthroughByteFaithful(t *testing.T) {
	u := newUpstreams(t)
	g := newGateway(t, newRelay(newFakeClock()), u.target(t, "openai", 0))
	body := `{"model":"house-model", "messages":[{"role":"user","content":"hi"}],"future_field":{"x":1},"temperature":0.0 ,"seed":7}`
	status, _, _ := g.post(t, "/v1/chat/completions", body)
	g.last(t)
	require.Equal(t, 200, status)
	reqs := u.oai.Requests()
	require.Len(t, reqs, 1)
	want := strings.Replace(body, `"house-model"`, `"gpt-4o-mini"`, 1)
	assert.Equal(t, want, string(reqs[0].Body))
	assert.Contains(t, string(reqs[0].Body), `"future_field":{"x":1}`)
}

// TestUsageEstimated checks the estimate when the upstream reports none.
func TestUsageEstimated(t *testing.T) {
	u := newUpstreams(t)
	g := newGateway(t, newRelay(newFakeClock()), u.target(t, "openai", 0))
	// An OpenAI-compatible upstream that reports no usage: strip it with a
	// body fault that answers 200 with a fixed completion.
	u.oai.Script()
	_ = g
	up := serve(t, httpHandlerFunc(func(w responseWriter, body []byte) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"x","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"twelve bytes"},"finish_reason":"stop"}]}`))
	}))
	g2 := newGateway(t, newRelay(newFakeClock()), u.targetAt(t, "bare", "openai-compatible", up+"/v1", 0))
	status, _, body := g2.post(t, "/v1/chat/completions", chatBody("sixteen bytes!!!", false, ""))
	res := g2.last(t)
	require.Equal(t, 200, status, body)
	assert.Equal(t, publicModel, gjson.Get(body, "model").String())
	assert.True(t, res.UsageEstimated)
	assert.Equal(t, 4, res.Usage.PromptTokens)
	assert.Equal(t, 3, res.Usage.CompletionTokens)
}
