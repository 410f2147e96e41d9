package gemini_test

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

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluicehq/sluice/internal/fakes/geminifake"
	"github.com/sluicehq/sluice/providers"
	"github.com/sluicehq/sluice/providers/gemini"
)

// setup starts the fake (closed at cleanup, which waits for its handlers,
// so a handler left running fails the test by hanging) and a provider
// built through the registry.
func setup(t *testing.T, mutate func(*providers.Config)) (*geminifake.Fake, *httptest.Server, *gemini.Provider) {
	t.Helper()
	f := geminifake.New()
	f.APIKey = "test-key"
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	cfg := providers.Config{Kind: "gemini", BaseURL: srv.URL, APIKey: "test-key", HTTP: srv.Client()}
	if mutate != nil {
		mutate(&cfg)
	}
	p, err := providers.New(cfg)
	require.NoError(t, err)
	return f, srv, p.(*gemini.Provider)
}

func chatRequest(text string) *providers.ChatRequest {
	return &providers.ChatRequest{
		Model: "gemini-2.5-flash",
		Messages: []providers.Message{
			{Role: "system", Content: providers.TextContent("be brief")},
			{Role: "user", Content: providers.TextContent(text)},
		},
	}
}

var weatherTools = []providers.Tool{
	{Type: "function", Function: providers.FunctionDef{Name: "get_weather", Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}},"additionalProperties":false}`)}},
	{Type: "function", Function: providers.FunctionDef{Name: "get_time"}},
}

// collect reads a stream to its end.
func collect(t *testing.T, s providers.Stream) (chunks []*providers.ChatChunk, err error) {
	t.Helper()
	defer s.Close()
	for {
		c, err := s.Recv()
		if err != nil {
			if err == io.EOF {
				return chunks, nil
			}
			return chunks, err
		}
		chunks = append(chunks, c)
	}
}

func streamText(chunks []*providers.ChatChunk) (text string, finish string, usage *providers.Usage) {
	var b strings.Builder
	for _, c := range chunks {
		for _, ch := range c.Choices {
			if ch.Delta.Content != nil {
				b.WriteString(*ch.Delta.Content)
			}
			if ch.FinishReason != nil {
				finish = *ch.FinishReason
			}
		}
		if c.Usage != nil {
			usage = c.Usage
		}
	}
	return b.String(), finish, usage
}

func TestChatEndToEnd(t *testing.T) {
	f, _, p := setup(t, func(c *providers.Config) { c.Headers = map[string]string{"X-Extra": "1"} })
	resp, err := p.Chat(t.Context(), chatRequest("hello big world"))
	require.NoError(t, err)
	require.Len(t, resp.Choices, 1)
	assert.Equal(t, "echo: hello big world", resp.Choices[0].Message.Content.String())
	assert.Equal(t, providers.FinishStop, resp.Choices[0].FinishReason)
	assert.Equal(t, "chat.completion", resp.Object)
	assert.Equal(t, "gemini-2.5-flash", resp.Model)
	assert.Equal(t, "fakeResp000001", resp.ID)
	assert.Equal(t, &providers.Usage{PromptTokens: 5, CompletionTokens: 4, TotalTokens: 9}, resp.Usage)

	reqs := f.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "/v1beta/models/gemini-2.5-flash:generateContent", reqs[0].Path)
	assert.Equal(t, "test-key", reqs[0].Header.Get("x-goog-api-key"))
	assert.Equal(t, "1", reqs[0].Header.Get("X-Extra"))
	assert.JSONEq(t, `{"contents":[{"role":"user","parts":[{"text":"hello big world"}]}],"systemInstruction":{"parts":[{"text":"be brief"}]}}`, string(reqs[0].Body))
}

func TestStreamEqualsChat(t *testing.T) {
	f, _, p := setup(t, nil)
	whole, err := p.Chat(t.Context(), chatRequest("one two  three"))
	require.NoError(t, err)
	s, err := p.ChatStream(t.Context(), chatRequest("one two  three"))
	require.NoError(t, err)
	chunks, err := collect(t, s)
	require.NoError(t, err)
	text, finish, usage := streamText(chunks)
	assert.Equal(t, whole.Choices[0].Message.Content.String(), text)
	assert.Equal(t, providers.FinishStop, finish)
	assert.Equal(t, whole.Usage, usage)
	assert.Equal(t, "assistant", chunks[0].Choices[0].Delta.Role)
	assert.Len(t, chunks, 4+1+1, "one chunk per word, the finish chunk, the usage chunk")
	assert.Empty(t, chunks[len(chunks)-1].Choices)
	assert.Equal(t, "alt=sse", f.Requests()[1].RawQuery)
}

func TestToolLoopEndToEnd(t *testing.T) {
	cases := []struct {
		name    string
		prompt  string
		callIDs bool
		want    []string
	}{
		{"one call", "use_tool for Paris", false, []string{"get_weather"}},
		{"parallel calls with upstream ids", "use_tools", true, []string{"get_weather", "get_time"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, _, p := setup(t, nil)
			f.CallIDs = tc.callIDs
			req := chatRequest(tc.prompt)
			req.Tools = weatherTools
			resp, err := p.Chat(t.Context(), req)
			require.NoError(t, err)
			ch := resp.Choices[0]
			assert.Equal(t, providers.FinishToolCalls, ch.FinishReason)
			assert.True(t, ch.Message.Content.IsNull())
			require.Len(t, ch.Message.ToolCalls, len(tc.want))
			for i, call := range ch.Message.ToolCalls {
				assert.Equal(t, tc.want[i], call.Function.Name)
				assert.JSONEq(t, `{"echo":"`+tc.prompt+`"}`, call.Function.Arguments)
				assert.Equal(t, "call_"+string(rune('1'+i)), call.ID)
			}

			// Streamed, the calls arrive whole with their index.
			s, err := p.ChatStream(t.Context(), req)
			require.NoError(t, err)
			chunks, err := collect(t, s)
			require.NoError(t, err)
			var streamed []providers.ToolCall
			for _, c := range chunks {
				for _, cc := range c.Choices {
					streamed = append(streamed, cc.Delta.ToolCalls...)
				}
			}
			require.Len(t, streamed, len(tc.want))
			for i, call := range streamed {
				assert.Equal(t, i, *call.Index)
				assert.Equal(t, ch.Message.ToolCalls[i].ID, call.ID)
			}
			_, finish, _ := streamText(chunks)
			assert.Equal(t, providers.FinishToolCalls, finish)

			// Send the results back: the fake answers with text.
			req.Messages = append(req.Messages, ch.Message)
			for _, call := range ch.Message.ToolCalls {
				req.Messages = append(req.Messages, providers.Message{Role: "tool", ToolCallID: call.ID, Content: providers.TextContent(`{"ok":true}`)})
			}
			final, err := p.Chat(t.Context(), req)
			require.NoError(t, err)
			assert.Equal(t, "echo: "+tc.prompt, final.Choices[0].Message.Content.String())
			assert.Equal(t, providers.FinishStop, final.Choices[0].FinishReason)

			var sent struct {
				Contents []struct {
					Role  string           `json:"role"`
					Parts []map[string]any `json:"parts"`
				} `json:"contents"`
			}
			reqs := f.Requests()
			require.NoError(t, json.Unmarshal(reqs[len(reqs)-1].Body, &sent))
			require.Len(t, sent.Contents, 3)
			assert.Equal(t, "model", sent.Contents[1].Role)
			assert.Len(t, sent.Contents[1].Parts, len(tc.want))
			assert.Equal(t, "user", sent.Contents[2].Role)
			for i, part := range sent.Contents[2].Parts {
				fr := part["functionResponse"].(map[string]any)
				assert.Equal(t, tc.want[i], fr["name"])
				assert.Equal(t, map[string]any{"ok": true}, fr["response"])
			}
		})
	}
}

func TestSafetyBlockEndToEnd(t *testing.T) {
	f, _, p := setup(t, nil)
	f.Script(geminifake.Fault{BlockReason: "SAFETY"}, geminifake.Fault{BlockReason: "SAFETY"})
	resp, err := p.Chat(t.Context(), chatRequest("something bad"))
	require.NoError(t, err, "a blocked prompt is an answer, not an error")
	assert.Equal(t, providers.FinishContentFilter, resp.Choices[0].FinishReason)
	assert.Equal(t, "", resp.Choices[0].Message.Content.String())
	assert.Equal(t, 4, resp.Usage.PromptTokens)

	s, err := p.ChatStream(t.Context(), chatRequest("something bad"))
	require.NoError(t, err)
	chunks, err := collect(t, s)
	require.NoError(t, err)
	_, finish, usage := streamText(chunks)
	assert.Equal(t, providers.FinishContentFilter, finish)
	require.NotNil(t, usage)
}

func TestFaultsEndToEnd(t *testing.T) {
	type outcome struct {
		status     int
		typ        string
		code       string
		retryAfter time.Duration
		retryable  bool
		truncated  bool
		is         error
	}
	cases := []struct {
		name   string
		fault  geminifake.Fault
		stream bool
		ctxTO  time.Duration
		key    string
		want   outcome
	}{
		{name: "500", fault: geminifake.Fault{Status: 500}, want: outcome{status: 500, typ: "INTERNAL", retryable: true}},
		{name: "503 stream", fault: geminifake.Fault{Status: 503}, stream: true, want: outcome{status: 503, typ: "UNAVAILABLE", retryable: true}},
		{name: "429 retry-after", fault: geminifake.Fault{Status: 429, RetryAfter: "7"}, want: outcome{status: 429, typ: "RESOURCE_EXHAUSTED", retryAfter: 7 * time.Second, retryable: true}},
		{name: "429 stream", fault: geminifake.Fault{Status: 429, RetryAfter: "2"}, stream: true, want: outcome{status: 429, typ: "RESOURCE_EXHAUSTED", retryAfter: 2 * time.Second, retryable: true}},
		{name: "400 custom body", fault: geminifake.Fault{Status: 400, Body: `{"error":{"code":400,"message":"bad field","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"contents[0]"}]}]}}`}, want: outcome{status: 400, typ: "INVALID_ARGUMENT"}},
		{name: "wrong key", key: "nope", want: outcome{status: 400, typ: "INVALID_ARGUMENT", code: "API_KEY_INVALID"}},
		{name: "missing key", key: "-", want: outcome{status: 403, typ: "PERMISSION_DENIED"}},
		{name: "slow first byte", fault: geminifake.Fault{DelayFirstByte: 5 * time.Second}, ctxTO: 50 * time.Millisecond, want: outcome{is: context.DeadlineExceeded}},
		{name: "slow first byte stream", fault: geminifake.Fault{DelayFirstByte: 5 * time.Second}, stream: true, ctxTO: 50 * time.Millisecond, want: outcome{is: context.DeadlineExceeded}},
		{name: "hang", fault: geminifake.Fault{Hang: true}, ctxTO: 50 * time.Millisecond, want: outcome{is: context.DeadlineExceeded}},
		{name: "slow chunks", fault: geminifake.Fault{DelayBetweenChunks: 5 * time.Second}, stream: true, ctxTO: 100 * time.Millisecond, want: outcome{is: context.DeadlineExceeded}},
		{name: "cut stream", fault: geminifake.Fault{CutAfterChunks: 2}, stream: true, want: outcome{truncated: true, retryable: true}},
		{name: "cut after the first event", fault: geminifake.Fault{CutAfterChunks: 1}, stream: true, want: outcome{truncated: true, retryable: true}},
		{name: "malformed SSE", fault: geminifake.Fault{MalformedSSE: true}, stream: true, want: outcome{retryable: true}},
		{name: "invalid JSON", fault: geminifake.Fault{InvalidJSON: true}, want: outcome{retryable: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, _, p := setup(t, func(c *providers.Config) {
				switch tc.key {
				case "":
				case "-":
					c.APIKey = ""
				default:
					c.APIKey = tc.key
				}
			})
			f.Script(tc.fault)
			ctx := t.Context()
			if tc.ctxTO > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.ctxTO)
				defer cancel()
			}
			start := time.Now()
			var err error
			if tc.stream {
				var s providers.Stream
				s, err = p.ChatStream(ctx, chatRequest("one two three"))
				if err == nil {
					_, err = collect(t, s)
				}
			} else {
				_, err = p.Chat(ctx, chatRequest("one two three"))
			}
			require.Error(t, err)
			assert.Less(t, time.Since(start), 3*time.Second, "must not wait for the fault's delay")
			var pe *providers.Error
			require.True(t, errors.As(err, &pe), "want *providers.Error, got %T: %v", err, err)
			assert.Equal(t, tc.want.status, pe.Status, err.Error())
			assert.Equal(t, tc.want.typ, pe.Type)
			assert.Equal(t, tc.want.code, pe.Code)
			assert.Equal(t, tc.want.retryAfter, pe.RetryAfter)
			assert.NotEmpty(t, err.Error())
			if tc.want.is != nil {
				assert.ErrorIs(t, err, tc.want.is)
				return
			}
			assert.Equal(t, tc.want.retryable, pe.Retryable())
			assert.Equal(t, tc.want.truncated, errors.Is(err, providers.ErrTruncated), err.Error())
			assert.NotErrorIs(t, err, io.EOF)
		})
	}
}

func TestCutStreamDeliversChunksFirst(t *testing.T) {
	f, _, p := setup(t, nil)
	f.Script(geminifake.Fault{CutAfterChunks: 2})
	s, err := p.ChatStream(t.Context(), chatRequest("one two three"))
	require.NoError(t, err)
	chunks, err := collect(t, s)
	require.ErrorIs(t, err, providers.ErrTruncated)
	text, finish, _ := streamText(chunks)
	assert.Equal(t, "echo: one ", text)
	assert.Empty(t, finish)
}

func TestConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	p, err := gemini.New(providers.Config{BaseURL: url, APIKey: "k"})
	require.NoError(t, err)
	for name, call := range map[string]func() error{
		"chat":   func() error { _, err := p.Chat(t.Context(), chatRequest("hi")); return err },
		"stream": func() error { _, err := p.ChatStream(t.Context(), chatRequest("hi")); return err },
		"embed": func() error {
			_, err := p.Embed(t.Context(), &providers.EmbeddingRequest{Model: "m", Input: []string{"a"}})
			return err
		},
		"models": func() error { _, err := p.ListModels(t.Context()); return err },
	} {
		t.Run(name, func(t *testing.T) {
			err := call()
			var pe *providers.Error
			require.True(t, errors.As(err, &pe), "got %T %v", err, err)
			assert.Equal(t, 0, pe.Status)
			assert.True(t, pe.Retryable())
		})
	}
}

func TestClientCancelMidStream(t *testing.T) {
	f, _, p := setup(t, nil)
	f.Script(geminifake.Fault{DelayBetweenChunks: 10 * time.Second})
	ctx, cancel := context.WithCancel(t.Context())
	s, err := p.ChatStream(ctx, chatRequest("one two three"))
	require.NoError(t, err)
	defer s.Close()
	first, err := s.Recv()
	require.NoError(t, err)
	assert.Equal(t, "echo: ", *first.Choices[0].Delta.Content)
	cancel()
	_, err = s.Recv()
	require.ErrorIs(t, err, context.Canceled)
	var pe *providers.Error
	require.True(t, errors.As(err, &pe))
	assert.False(t, pe.Retryable(), "a client that left is not retried")
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close twice is safe")
}

func TestConfigTimeout(t *testing.T) {
	f, _, p := setup(t, func(c *providers.Config) { c.Timeout = 50 * time.Millisecond })
	f.Script(geminifake.Fault{DelayFirstByte: 5 * time.Second})
	_, err := p.Chat(t.Context(), chatRequest("hi"))
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestAPIVersionSetting(t *testing.T) {
	f, _, p := setup(t, func(c *providers.Config) {
		c.Settings = map[string]string{"api_version": "v1"}
		c.BaseURL += "/"
	})
	_, err := p.Chat(t.Context(), chatRequest("hi"))
	require.NoError(t, err)
	assert.Equal(t, "/v1/models/gemini-2.5-flash:generateContent", f.Requests()[0].Path)
}

func TestEmbedEndToEnd(t *testing.T) {
	dims := 6
	cases := []struct {
		name   string
		input  []string
		method string
	}{
		{"one input", []string{"hello"}, "embedContent"},
		{"several inputs", []string{"hello", "world", "again"}, "batchEmbedContents"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, _, p := setup(t, nil)
			resp, err := p.Embed(t.Context(), &providers.EmbeddingRequest{Model: "gemini-embedding-001", Input: tc.input, Dimensions: &dims})
			require.NoError(t, err)
			assert.Equal(t, "list", resp.Object)
			assert.Equal(t, "gemini-embedding-001", resp.Model)
			assert.Nil(t, resp.Usage)
			require.Len(t, resp.Data, len(tc.input))
			for i, d := range resp.Data {
				assert.Equal(t, i, d.Index)
				assert.Equal(t, "embedding", d.Object)
				assert.Equal(t, geminifake.Vector(tc.input[i], dims), d.Embedding)
			}
			rec := f.Requests()[0]
			assert.Equal(t, "/v1beta/models/gemini-embedding-001:"+tc.method, rec.Path)
			assert.Contains(t, string(rec.Body), `"outputDimensionality":6`)
		})
	}
	t.Run("empty input", func(t *testing.T) {
		_, _, p := setup(t, nil)
		_, err := p.Embed(t.Context(), &providers.EmbeddingRequest{Model: "m"})
		var pe *providers.Error
		require.True(t, errors.As(err, &pe))
		assert.Equal(t, 400, pe.Status)
	})
	t.Run("429", func(t *testing.T) {
		f, _, p := setup(t, nil)
		f.Script(geminifake.Fault{Status: 429})
		_, err := p.Embed(t.Context(), &providers.EmbeddingRequest{Model: "m", Input: []string{"a", "b"}})
		var pe *providers.Error
		require.True(t, errors.As(err, &pe))
		assert.Equal(t, 429, pe.Status)
	})
}

func TestListModelsEndToEnd(t *testing.T) {
	f, _, p := setup(t, nil)
	f.Models = []string{"gemini-2.5-flash", "text-embedding-004"}
	names, err := p.ListModels(t.Context())
	require.NoError(t, err)
	assert.Equal(t, []string{"gemini-2.5-flash", "text-embedding-004"}, names)
	assert.Equal(t, "/v1beta/models", f.Requests()[0].Path)
}

func TestListModelsPaginates(t *testing.T) {
	pages := map[string]string{
		"":   `{"models":[{"name":"models/a"},{"name":"models/b"}],"nextPageToken":"t2"}`,
		"t2": `{"models":[{"name":"models/c"}]}`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, pages[r.URL.Query().Get("pageToken")])
	}))
	defer srv.Close()
	p, err := gemini.New(providers.Config{BaseURL: srv.URL})
	require.NoError(t, err)
	names, err := p.ListModels(t.Context())
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b", "c"}, names)
}

func TestRegistryAndConfig(t *testing.T) {
	assert.Contains(t, providers.Kinds(), "gemini")
	_, err := providers.New(providers.Config{Kind: "gemini", BaseURL: "::not a url"})
	require.Error(t, err)
	p, err := providers.New(providers.Config{Kind: "gemini"})
	require.NoError(t, err)
	assert.Implements(t, (*providers.Embedder)(nil), p)
	assert.Implements(t, (*providers.ModelLister)(nil), p)
	_, passes := p.(providers.Passthrough)
	assert.False(t, passes, "Gemini's format is not OpenAI's: no passthrough")
}

func TestTranslationErrorIsBadRequest(t *testing.T) {
	f, _, p := setup(t, nil)
	req := chatRequest("hi")
	req.Messages = append(req.Messages, providers.Message{Role: "tool", ToolCallID: "nope", Content: providers.TextContent("x")})
	_, err := p.Chat(t.Context(), req)
	var pe *providers.Error
	require.True(t, errors.As(err, &pe))
	assert.Equal(t, 400, pe.Status)
	assert.False(t, pe.Retryable())
	assert.Empty(t, f.Requests(), "nothing is sent upstream")
}
