package openai_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicehq/sluice/internal/fakes/openaifake"
	"github.com/sluicehq/sluice/providers"
	"github.com/sluicehq/sluice/providers/openai"
)

const key = "sk-test-key-0001"

type harness struct {
	fake *openaifake.Fake
	srv  *httptest.Server
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	f := openaifake.New()
	f.APIKey = key
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return &harness{fake: f, srv: srv}
}

// provider builds a provider of kind against the fake.
func (h *harness) provider(t *testing.T, cfg providers.Config) *openai.Provider {
	t.Helper()
	if cfg.Kind == "" {
		cfg.Kind = "openai"
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = h.srv.URL + "/v1"
		if cfg.Kind == "azure" {
			cfg.BaseURL = h.srv.URL
		}
	}
	if cfg.APIKey == "" {
		cfg.APIKey = key
	}
	p, err := providers.New(cfg)
	require.NoError(t, err)
	return p.(*openai.Provider)
}

func userRequest(text string) *providers.ChatRequest {
	return &providers.ChatRequest{
		Model: "gpt-4o",
		Messages: []providers.Message{
			{Role: "system", Content: providers.TextContent("be brief")},
			{Role: "user", Content: providers.TextContent(text)},
		},
	}
}

func toolRequest(text string) *providers.ChatRequest {
	r := userRequest(text)
	r.Tools = []providers.Tool{
		{Type: "function", Function: providers.FunctionDef{Name: "get_weather", Parameters: json.RawMessage(`{"type":"object"}`)}},
		{Type: "function", Function: providers.FunctionDef{Name: "get_time", Parameters: json.RawMessage(`{"type":"object"}`)}},
	}
	return r
}

// collected is a whole stream read with Recv.
type collected struct {
	text      string
	finish    string
	usage     *providers.Usage
	calls     map[int]*providers.ToolCall
	chunks    int
	err       error // the error that ended the stream; io.EOF when clean
	emptyText bool
}

func collect(t *testing.T, s providers.Stream) collected {
	t.Helper()
	defer s.Close()
	var c collected
	var text strings.Builder
	c.calls = map[int]*providers.ToolCall{}
	for {
		ch, err := s.Recv()
		if err != nil {
			c.err = err
			break
		}
		c.chunks++
		if ch.Usage != nil {
			c.usage = ch.Usage
		}
		for _, choice := range ch.Choices {
			if choice.Delta.Content != nil {
				text.WriteString(*choice.Delta.Content)
			}
			if choice.FinishReason != nil {
				c.finish = *choice.FinishReason
			}
			for _, tc := range choice.Delta.ToolCalls {
				require.NotNil(t, tc.Index)
				acc := c.calls[*tc.Index]
				if acc == nil {
					acc = &providers.ToolCall{}
					c.calls[*tc.Index] = acc
				}
				if tc.ID != "" {
					acc.ID = tc.ID
				}
				acc.Function.Name += tc.Function.Name
				acc.Function.Arguments += tc.Function.Arguments
			}
		}
	}
	c.text = text.String()
	return c
}

func TestChatAndStreamAgainstFake(t *testing.T) {
	for _, kind := range []string{"openai", "openai-compatible", "groq", "azure"} {
		t.Run(kind, func(t *testing.T) {
			h := newHarness(t)
			p := h.provider(t, providers.Config{Kind: kind, Headers: map[string]string{"X-Extra": "1"}})
			ctx := context.Background()

			res, err := p.Chat(ctx, userRequest("hello wide world"))
			require.NoError(t, err)
			require.Equal(t, "echo: hello wide world", res.Choices[0].Message.Content.String())
			require.Equal(t, providers.FinishStop, res.Choices[0].FinishReason)
			require.Equal(t, 5, res.Usage.PromptTokens)
			require.Equal(t, 4, res.Usage.CompletionTokens)

			s, err := p.ChatStream(ctx, userRequest("hello wide world"))
			require.NoError(t, err)
			got := collect(t, s)
			require.ErrorIs(t, got.err, io.EOF)
			require.Equal(t, res.Choices[0].Message.Content.String(), got.text)
			require.Equal(t, providers.FinishStop, got.finish)
			require.NotNil(t, got.usage, "usage chunk expected: the adapter asks for include_usage")
			require.Equal(t, *res.Usage, *got.usage)

			reqs := h.fake.Requests()
			require.Len(t, reqs, 2)
			for _, r := range reqs {
				require.Equal(t, "1", r.Header.Get("X-Extra"))
				if kind == "azure" {
					require.Equal(t, "/openai/deployments/gpt-4o/chat/completions", r.Path)
					require.Equal(t, "api-version="+openai.DefaultAzureAPIVersion, r.RawQuery)
					require.Equal(t, key, r.Header.Get("Api-Key"))
					require.Empty(t, r.Header.Get("Authorization"))
				} else {
					require.Equal(t, "/v1/chat/completions", r.Path)
					require.Equal(t, "Bearer "+key, r.Header.Get("Authorization"))
				}
			}
			require.JSONEq(t, `{"include_usage":true}`, string(mustField(t, reqs[1].Body, "stream_options")))
			require.Nil(t, mustField(t, reqs[0].Body, "stream_options"))
		})
	}
}

// mustField returns a top-level field of a JSON body, nil when absent.
func mustField(t *testing.T, body []byte, name string) json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(body, &m))
	return m[name]
}

func TestMistralQuirksReachTheWire(t *testing.T) {
	h := newHarness(t)
	p := h.provider(t, providers.Config{Kind: "mistral"})
	req := userRequest("bonjour")
	seed := int64(9)
	req.Seed = &seed
	s, err := p.ChatStream(context.Background(), req)
	require.NoError(t, err)
	got := collect(t, s)
	require.ErrorIs(t, got.err, io.EOF)
	require.Equal(t, "echo: bonjour", got.text)
	body := h.fake.Requests()[0].Body
	require.Nil(t, mustField(t, body, "stream_options"))
	require.Nil(t, mustField(t, body, "seed"))
	require.JSONEq(t, "9", string(mustField(t, body, "random_seed")))
}

func TestNoKeyNoAuthorization(t *testing.T) {
	f := openaifake.New() // no APIKey: like a local Ollama or vLLM
	srv := httptest.NewServer(f)
	defer srv.Close()
	for _, kind := range []string{"ollama", "vllm"} {
		p, err := providers.New(providers.Config{Kind: kind, BaseURL: srv.URL + "/v1/"})
		require.NoError(t, err)
		_, err = p.Chat(context.Background(), userRequest("hi"))
		require.NoError(t, err)
	}
	for _, r := range f.Requests() {
		_, has := r.Header["Authorization"]
		require.False(t, has, "Authorization sent without a key")
	}
}

func TestToolCallsAgainstFake(t *testing.T) {
	cases := []struct {
		name  string
		text  string
		names []string
	}{
		{"single", "use_tool please", []string{"get_weather"}},
		{"parallel", "use_tools please", []string{"get_weather", "get_time"}},
	}
	for _, kind := range []string{"openai", "azure"} {
		for _, tc := range cases {
			t.Run(kind+"/"+tc.name, func(t *testing.T) {
				h := newHarness(t)
				p := h.provider(t, providers.Config{Kind: kind})
				ctx := context.Background()
				wantArgs := `{"echo":"` + tc.text + `"}`

				res, err := p.Chat(ctx, toolRequest(tc.text))
				require.NoError(t, err)
				msg := res.Choices[0].Message
				require.Equal(t, providers.FinishToolCalls, res.Choices[0].FinishReason)
				require.True(t, msg.Content.IsNull())
				require.Len(t, msg.ToolCalls, len(tc.names))
				for i, name := range tc.names {
					require.Equal(t, name, msg.ToolCalls[i].Function.Name)
					require.JSONEq(t, wantArgs, msg.ToolCalls[i].Function.Arguments)
				}

				s, err := p.ChatStream(ctx, toolRequest(tc.text))
				require.NoError(t, err)
				got := collect(t, s)
				require.ErrorIs(t, got.err, io.EOF)
				require.Equal(t, providers.FinishToolCalls, got.finish)
				require.Len(t, got.calls, len(tc.names))
				for i, name := range tc.names {
					require.Equal(t, msg.ToolCalls[i].ID, got.calls[i].ID)
					require.Equal(t, name, got.calls[i].Function.Name)
					require.Equal(t, msg.ToolCalls[i].Function.Arguments, got.calls[i].Function.Arguments)
				}
			})
		}
	}
}

func TestEmbeddingsAndModelsAgainstFake(t *testing.T) {
	for _, kind := range []string{"openai", "azure"} {
		for _, format := range []string{"", "float", "base64"} {
			t.Run(kind+"/"+format, func(t *testing.T) {
				h := newHarness(t)
				p := h.provider(t, providers.Config{Kind: kind})
				res, err := p.Embed(context.Background(), &providers.EmbeddingRequest{
					Model: "text-embedding-3-small", Input: providers.EmbeddingInput{"one two", "three"}, EncodingFormat: format,
				})
				require.NoError(t, err)
				require.Len(t, res.Data, 2)
				for i, in := range []string{"one two", "three"} {
					want := openaifake.Vector(in, openaifake.EmbeddingDims)
					require.Equal(t, i, res.Data[i].Index)
					require.Len(t, res.Data[i].Embedding, len(want))
					for j := range want {
						require.InDelta(t, float64(want[j]), res.Data[i].Embedding[j], 1e-6)
					}
				}
				require.Equal(t, 3, res.Usage.PromptTokens)
			})
		}
		t.Run(kind+"/models", func(t *testing.T) {
			h := newHarness(t)
			ids, err := h.provider(t, providers.Config{Kind: kind}).ListModels(context.Background())
			require.NoError(t, err)
			require.Equal(t, openaifake.DefaultModels(), ids)
		})
	}
}

func TestFaultsAgainstFake(t *testing.T) {
	type check func(t *testing.T, err error, elapsed time.Duration)
	isProviderError := func(t *testing.T, err error) *providers.Error {
		t.Helper()
		var pe *providers.Error
		require.ErrorAs(t, err, &pe, "want *providers.Error, got %T: %v", err, err)
		return pe
	}
	cases := []struct {
		name    string
		fault   openaifake.Fault
		stream  bool
		timeout time.Duration
		ctxWait time.Duration // cancel the caller's context after this long
		check   check
	}{
		{name: "500", fault: openaifake.Fault{Status: 500}, check: func(t *testing.T, err error, _ time.Duration) {
			pe := isProviderError(t, err)
			require.Equal(t, 500, pe.Status)
			require.Equal(t, "server_error", pe.Type)
			require.Contains(t, pe.Message, "The server had an error")
			require.True(t, pe.Retryable())
		}},
		{name: "500 stream", stream: true, fault: openaifake.Fault{Status: 500}, check: func(t *testing.T, err error, _ time.Duration) {
			require.Equal(t, 500, isProviderError(t, err).Status)
		}},
		{name: "429 retry-after", fault: openaifake.Fault{Status: 429, RetryAfter: "2"}, check: func(t *testing.T, err error, _ time.Duration) {
			pe := isProviderError(t, err)
			require.Equal(t, 429, pe.Status)
			require.Equal(t, 2*time.Second, pe.RetryAfter)
			require.Equal(t, "rate_limit_exceeded", pe.Code)
			require.True(t, pe.Retryable())
		}},
		{name: "429 stream", stream: true, fault: openaifake.Fault{Status: 429, RetryAfter: "1.5"}, check: func(t *testing.T, err error, _ time.Duration) {
			pe := isProviderError(t, err)
			require.Equal(t, 429, pe.Status)
			require.Equal(t, 1500*time.Millisecond, pe.RetryAfter)
		}},
		{name: "400 custom body", fault: openaifake.Fault{Status: 400, Body: `{"error":{"message":"bad temperature","type":"invalid_request_error","param":"temperature","code":null}}`}, check: func(t *testing.T, err error, _ time.Duration) {
			pe := isProviderError(t, err)
			require.Equal(t, 400, pe.Status)
			require.Equal(t, "temperature", pe.Param)
			require.Equal(t, "bad temperature", pe.Message)
			require.False(t, pe.Retryable())
		}},
		{name: "502 html body", fault: openaifake.Fault{Status: 502, Body: "<html>\n<body>Bad Gateway</body>\n</html>"}, check: func(t *testing.T, err error, _ time.Duration) {
			pe := isProviderError(t, err)
			require.Equal(t, 502, pe.Status)
			require.Equal(t, "<html> <body>Bad Gateway</body> </html>", pe.Message)
		}},
		{name: "slow first byte, caller leaves", fault: openaifake.Fault{DelayFirstByte: time.Minute}, ctxWait: 50 * time.Millisecond, check: func(t *testing.T, err error, elapsed time.Duration) {
			require.ErrorIs(t, err, context.Canceled)
			require.False(t, isProviderError(t, err).Retryable(), "a caller that left is not retried")
			require.Less(t, elapsed, 5*time.Second)
		}},
		{name: "slow first byte stream, caller leaves", stream: true, fault: openaifake.Fault{DelayFirstByte: time.Minute}, ctxWait: 50 * time.Millisecond, check: func(t *testing.T, err error, elapsed time.Duration) {
			require.ErrorIs(t, err, context.Canceled)
			require.Less(t, elapsed, 5*time.Second)
		}},
		{name: "slow first byte, timeout", fault: openaifake.Fault{DelayFirstByte: time.Minute}, timeout: 50 * time.Millisecond, check: func(t *testing.T, err error, elapsed time.Duration) {
			require.ErrorIs(t, err, context.DeadlineExceeded)
			require.True(t, isProviderError(t, err).Retryable())
			require.Less(t, elapsed, 5*time.Second)
		}},
		{name: "hang stream, timeout", stream: true, fault: openaifake.Fault{Hang: true}, timeout: 50 * time.Millisecond, check: func(t *testing.T, err error, elapsed time.Duration) {
			require.ErrorIs(t, err, context.DeadlineExceeded)
			require.Less(t, elapsed, 5*time.Second)
		}},
		{name: "silent mid-stream, timeout", stream: true, fault: openaifake.Fault{DelayBetweenChunks: time.Minute}, timeout: 100 * time.Millisecond, check: func(t *testing.T, err error, elapsed time.Duration) {
			require.ErrorIs(t, err, context.DeadlineExceeded)
			require.Less(t, elapsed, 5*time.Second)
		}},
		{name: "slow but steady stream outlives timeout", stream: true, fault: openaifake.Fault{DelayBetweenChunks: 40 * time.Millisecond}, timeout: 150 * time.Millisecond, check: func(t *testing.T, err error, elapsed time.Duration) {
			require.NoError(t, err)
			require.Greater(t, elapsed, 150*time.Millisecond, "the stream should have taken longer than the timeout")
		}},
		{name: "cut stream", stream: true, fault: openaifake.Fault{CutAfterChunks: 2}, check: func(t *testing.T, err error, _ time.Duration) {
			require.ErrorIs(t, err, providers.ErrTruncated)
			isProviderError(t, err)
		}},
		{name: "malformed SSE", stream: true, fault: openaifake.Fault{MalformedSSE: true}, check: func(t *testing.T, err error, _ time.Duration) {
			pe := isProviderError(t, err)
			require.Contains(t, pe.Error(), "invalid JSON from upstream")
			require.NotErrorIs(t, err, providers.ErrTruncated)
		}},
		{name: "invalid JSON", fault: openaifake.Fault{InvalidJSON: true}, check: func(t *testing.T, err error, _ time.Duration) {
			pe := isProviderError(t, err)
			require.Equal(t, 0, pe.Status)
			require.Contains(t, pe.Error(), "invalid JSON from upstream")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			p := h.provider(t, providers.Config{Timeout: tc.timeout})
			h.fake.Script(tc.fault)
			ctx := context.Background()
			if tc.ctxWait > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				time.AfterFunc(tc.ctxWait, cancel)
			}
			start := time.Now()
			var err error
			req := userRequest("one two three four")
			if tc.stream {
				var s providers.Stream
				s, err = p.ChatStream(ctx, req)
				if err == nil {
					got := collect(t, s)
					if !errors.Is(got.err, io.EOF) {
						err = got.err
					}
				}
			} else {
				_, err = p.Chat(ctx, req)
			}
			tc.check(t, err, time.Since(start))
		})
	}
}

func TestWrongKey(t *testing.T) {
	h := newHarness(t)
	for _, kind := range []string{"openai", "azure"} {
		p := h.provider(t, providers.Config{Kind: kind, APIKey: "sk-wrong-000000"})
		_, err := p.Chat(context.Background(), userRequest("hi"))
		var pe *providers.Error
		require.ErrorAs(t, err, &pe)
		require.Equal(t, 401, pe.Status)
		require.False(t, pe.Retryable())
		if kind == "azure" {
			require.Equal(t, "401", pe.Code)
		} else {
			require.Equal(t, "invalid_api_key", pe.Code)
		}
	}
}

func TestConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL + "/v1"
	srv.Close()
	p, err := providers.New(providers.Config{Kind: "openai", BaseURL: base, APIKey: key})
	require.NoError(t, err)
	for name, call := range map[string]func() error{
		"chat":   func() error { _, err := p.Chat(context.Background(), userRequest("hi")); return err },
		"stream": func() error { _, err := p.ChatStream(context.Background(), userRequest("hi")); return err },
		"forward": func() error {
			_, err := p.(providers.Passthrough).Forward(context.Background(), providers.OpChat, []byte(`{}`))
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			err := call()
			var pe *providers.Error
			require.ErrorAs(t, err, &pe)
			require.Equal(t, 0, pe.Status)
			require.True(t, pe.Retryable())
		})
	}
}

func TestStreamCloseMidwayCancelsUpstream(t *testing.T) {
	h := newHarness(t)
	h.fake.Script(openaifake.Fault{DelayBetweenChunks: time.Minute})
	p := h.provider(t, providers.Config{})
	s, err := p.ChatStream(context.Background(), userRequest("a b c"))
	require.NoError(t, err)
	_, err = s.Recv()
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { _, err := s.Recv(); done <- err }()
	time.Sleep(20 * time.Millisecond)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close twice")
	select {
	case err := <-done:
		require.Error(t, err)
		require.NotErrorIs(t, err, io.EOF)
	case <-time.After(5 * time.Second):
		t.Fatal("Recv blocked after Close")
	}
	// The fake's handler sees the client go and returns: Close of the
	// server would otherwise block.
	closed := make(chan struct{})
	go func() { h.srv.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("upstream handler still running after the stream was closed")
	}
}

func TestPassthrough(t *testing.T) {
	h := newHarness(t)
	p := h.provider(t, providers.Config{})
	require.True(t, p.PassesThrough(providers.OpChat))
	require.True(t, p.PassesThrough(providers.OpEmbeddings))
	require.False(t, p.PassesThrough(providers.OpMessages))
	_, err := p.Forward(context.Background(), providers.OpMessages, []byte(`{}`))
	require.Error(t, err)

	t.Run("chat body arrives byte-identical", func(t *testing.T) {
		h.fake.Reset()
		body := []byte(`{"model":"gpt-4o", "messages":[{"role":"user","content":"hi","future_msg_field":1}],"future_field":{"x":1},"stream":true,"stream_options":{"include_usage":true}}`)
		resp, err := p.Forward(context.Background(), providers.OpChat, body)
		require.NoError(t, err)
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		require.Equal(t, 200, resp.StatusCode)
		require.True(t, strings.HasPrefix(string(raw), "data: {"), "raw SSE expected: %s", raw)
		require.True(t, strings.HasSuffix(string(raw), "data: [DONE]\n\n"))
		got := h.fake.Requests()[0]
		require.Equal(t, string(body), string(got.Body))
		require.Equal(t, "/v1/chat/completions", got.Path)
		require.Equal(t, "Bearer "+key, got.Header.Get("Authorization"))
	})

	t.Run("embeddings", func(t *testing.T) {
		h.fake.Reset()
		body := []byte(`{"model":"text-embedding-3-small","input":[1,2,3],"future":true}`)
		resp, err := p.Forward(context.Background(), providers.OpEmbeddings, body)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, 200, resp.StatusCode)
		require.Equal(t, string(body), string(h.fake.Requests()[0].Body))
	})

	t.Run("error status is a response", func(t *testing.T) {
		h.fake.Script(openaifake.Fault{Status: 429, RetryAfter: "3"})
		resp, err := p.Forward(context.Background(), providers.OpChat, []byte(`{"model":"m","messages":[{"role":"user","content":"x"}]}`))
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, 429, resp.StatusCode)
		require.Equal(t, "3", resp.Header.Get("Retry-After"))
	})

	t.Run("azure deployment from body model", func(t *testing.T) {
		h.fake.Reset()
		az := h.provider(t, providers.Config{Kind: "azure"})
		body := []byte(`{"model":"my-dep","messages":[{"role":"user","content":"hi"}],"future_field":{"x":1}}`)
		resp, err := az.Forward(context.Background(), providers.OpChat, body)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, 200, resp.StatusCode)
		got := h.fake.Requests()[0]
		require.Equal(t, "/openai/deployments/my-dep/chat/completions", got.Path)
		require.Equal(t, string(body), string(got.Body))
		require.Equal(t, key, got.Header.Get("Api-Key"))
	})

	t.Run("timeout bounds a forwarded stream's silence", func(t *testing.T) {
		slow := h.provider(t, providers.Config{Timeout: 80 * time.Millisecond})
		h.fake.Script(openaifake.Fault{DelayBetweenChunks: time.Minute})
		resp, err := slow.Forward(context.Background(), providers.OpChat, []byte(`{"model":"m","messages":[{"role":"user","content":"a b"}],"stream":true}`))
		require.NoError(t, err)
		_, err = io.ReadAll(resp.Body)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.NoError(t, resp.Body.Close())
	})
}

func TestFactoryErrors(t *testing.T) {
	_, err := providers.New(providers.Config{Kind: "openai-compatible"})
	require.ErrorContains(t, err, "base URL is required")
	_, err = providers.New(providers.Config{Kind: "azure", APIKey: "k"})
	require.ErrorContains(t, err, "base URL is required")
	for _, kind := range []string{"openai", "mistral", "groq", "deepseek", "together", "openrouter", "xai", "ollama", "vllm"} {
		_, err := providers.New(providers.Config{Kind: kind})
		require.NoError(t, err, kind)
	}
}
