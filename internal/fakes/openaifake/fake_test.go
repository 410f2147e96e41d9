package openaifake

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

	goopenai "github.com/sashabaranov/go-openai"
	"github.com/stretchr/testify/require"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"
)

const testKey = "sk-test-0123456789"

func newServer(t *testing.T) (*Fake, *httptest.Server) {
	t.Helper()
	f := New()
	f.APIKey = testKey
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

// officialClient is openai-go pointed at the fake, with retries off so
// that a scripted error surfaces at once.
func officialClient(srv *httptest.Server) openai.Client {
	return openai.NewClient(
		option.WithBaseURL(srv.URL+"/v1/"),
		option.WithAPIKey(testKey),
		option.WithMaxRetries(0),
	)
}

func weatherTools() []openai.ChatCompletionToolUnionParam {
	return []openai.ChatCompletionToolUnionParam{
		openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
			Name:       "get_weather",
			Parameters: shared.FunctionParameters{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}},
		}),
		openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
			Name:       "get_time",
			Parameters: shared.FunctionParameters{"type": "object"},
		}),
	}
}

func TestOfficialSDKChat(t *testing.T) {
	_, srv := newServer(t)
	client := officialClient(srv)
	ctx := context.Background()
	params := openai.ChatCompletionNewParams{
		Model: "gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{
			openai.SystemMessage("be brief"),
			openai.UserMessage("hello  there world"),
		},
	}
	res, err := client.Chat.Completions.New(ctx, params)
	require.NoError(t, err)
	require.Len(t, res.Choices, 1)
	require.Equal(t, "echo: hello  there world", res.Choices[0].Message.Content)
	require.Equal(t, "stop", res.Choices[0].FinishReason)
	require.Equal(t, "gpt-4o-mini", res.Model)
	require.Equal(t, int64(5), res.Usage.PromptTokens)
	require.Equal(t, int64(4), res.Usage.CompletionTokens)
	require.Equal(t, int64(9), res.Usage.TotalTokens)

	t.Run("stream with include_usage", func(t *testing.T) {
		p := params
		p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
		stream := client.Chat.Completions.NewStreaming(ctx, p)
		acc := openai.ChatCompletionAccumulator{}
		var chunks int
		var usageChunk bool
		for stream.Next() {
			c := stream.Current()
			require.True(t, acc.AddChunk(c))
			chunks++
			if len(c.Choices) == 0 {
				usageChunk = true
				require.Equal(t, int64(9), c.Usage.TotalTokens)
			}
		}
		require.NoError(t, stream.Err())
		require.True(t, usageChunk, "no usage chunk")
		require.Equal(t, 1+4+1+1, chunks, "role, 4 words, finish, usage")
		require.Equal(t, res.Choices[0].Message.Content, acc.Choices[0].Message.Content)
		require.Equal(t, "stop", acc.Choices[0].FinishReason)
		require.Equal(t, int64(5), acc.Usage.PromptTokens)
	})

	t.Run("stream without include_usage", func(t *testing.T) {
		stream := client.Chat.Completions.NewStreaming(ctx, params)
		var text strings.Builder
		for stream.Next() {
			c := stream.Current()
			require.NotEmpty(t, c.Choices, "a chunk without choices when usage was not asked for")
			require.Zero(t, c.Usage.TotalTokens)
			text.WriteString(c.Choices[0].Delta.Content)
		}
		require.NoError(t, stream.Err())
		require.Equal(t, res.Choices[0].Message.Content, text.String())
	})
}

func TestOfficialSDKTools(t *testing.T) {
	_, srv := newServer(t)
	client := officialClient(srv)
	ctx := context.Background()
	cases := []struct {
		name  string
		text  string
		calls []string
	}{
		{"one", "please use_tool now", []string{"get_weather"}},
		{"parallel", "use_tools", []string{"get_weather", "get_time"}},
		{"none without the word", "use_toolbox", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			params := openai.ChatCompletionNewParams{
				Model:    "gpt-4o",
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(tc.text)},
				Tools:    weatherTools(),
			}
			res, err := client.Chat.Completions.New(ctx, params)
			require.NoError(t, err)
			msg := res.Choices[0].Message
			require.Len(t, msg.ToolCalls, len(tc.calls))
			wantArgs, _ := json.Marshal(map[string]string{"echo": tc.text})
			for i, name := range tc.calls {
				require.Equal(t, "call_"+string(rune('1'+i)), msg.ToolCalls[i].ID)
				require.Equal(t, name, msg.ToolCalls[i].Function.Name)
				require.JSONEq(t, string(wantArgs), msg.ToolCalls[i].Function.Arguments)
			}
			if tc.calls != nil {
				require.Equal(t, "tool_calls", res.Choices[0].FinishReason)
				require.Empty(t, msg.Content)
			} else {
				require.Equal(t, "echo: "+tc.text, msg.Content)
			}

			params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
			stream := client.Chat.Completions.NewStreaming(ctx, params)
			acc := openai.ChatCompletionAccumulator{}
			var finished []string
			for stream.Next() {
				require.True(t, acc.AddChunk(stream.Current()))
				if tc, ok := acc.JustFinishedToolCall(); ok {
					finished = append(finished, tc.Name)
				}
			}
			require.NoError(t, stream.Err())
			got := acc.Choices[0].Message.ToolCalls
			require.Len(t, got, len(tc.calls))
			for i := range got {
				require.Equal(t, msg.ToolCalls[i].ID, got[i].ID)
				require.Equal(t, msg.ToolCalls[i].Function.Name, got[i].Function.Name)
				require.Equal(t, msg.ToolCalls[i].Function.Arguments, got[i].Function.Arguments)
			}
			require.Equal(t, res.Choices[0].FinishReason, acc.Choices[0].FinishReason)
			require.Equal(t, res.Usage.CompletionTokens, acc.Usage.CompletionTokens)
		})
	}
}

func TestOfficialSDKEmbeddingsAndModels(t *testing.T) {
	f, srv := newServer(t)
	client := officialClient(srv)
	ctx := context.Background()
	for _, format := range []openai.EmbeddingNewParamsEncodingFormat{openai.EmbeddingNewParamsEncodingFormatFloat, openai.EmbeddingNewParamsEncodingFormatBase64} {
		t.Run(string(format), func(t *testing.T) {
			res, err := client.Embeddings.New(ctx, openai.EmbeddingNewParams{
				Model:          "text-embedding-3-small",
				Input:          openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"a b", "c"}},
				EncodingFormat: format,
			})
			require.NoError(t, err)
			require.Len(t, res.Data, 2)
			for i, in := range []string{"a b", "c"} {
				want := Vector(in, EmbeddingDims)
				require.Len(t, res.Data[i].Embedding, EmbeddingDims)
				for j := range want {
					require.InDelta(t, want[j], res.Data[i].Embedding[j], 1e-6)
				}
			}
			require.Equal(t, int64(3), res.Usage.PromptTokens)
		})
	}

	page, err := client.Models.List(ctx)
	require.NoError(t, err)
	var ids []string
	for _, m := range page.Data {
		ids = append(ids, m.ID)
	}
	require.Equal(t, DefaultModels(), ids)
	m, err := client.Models.Get(ctx, "gpt-4o")
	require.NoError(t, err)
	require.Equal(t, "gpt-4o", m.ID)
	_, err = client.Models.Get(ctx, "nope")
	var apiErr *openai.Error
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusNotFound, apiErr.StatusCode)
	require.Equal(t, "model_not_found", apiErr.Code)
	_ = f
}

func TestOfficialSDKErrors(t *testing.T) {
	f, srv := newServer(t)
	client := officialClient(srv)
	ctx := context.Background()
	params := openai.ChatCompletionNewParams{
		Model:    "gpt-4o",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
	}

	f.Script(Fault{Status: http.StatusTooManyRequests, RetryAfter: "2"})
	_, err := client.Chat.Completions.New(ctx, params)
	var apiErr *openai.Error
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusTooManyRequests, apiErr.StatusCode)
	require.Equal(t, "rate_limit_exceeded", apiErr.Code)
	require.Equal(t, "requests", apiErr.Type)
	require.Contains(t, apiErr.Message, "Rate limit")
	require.Equal(t, "2", apiErr.Response.Header.Get("Retry-After"))

	bad := openai.NewClient(option.WithBaseURL(srv.URL+"/v1/"), option.WithAPIKey("sk-wrong-key-123"), option.WithMaxRetries(0))
	_, err = bad.Chat.Completions.New(ctx, params)
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusUnauthorized, apiErr.StatusCode)
	require.Equal(t, "invalid_api_key", apiErr.Code)

	f.Script(Fault{Status: http.StatusInternalServerError})
	stream := client.Chat.Completions.NewStreaming(ctx, params)
	require.False(t, stream.Next())
	require.ErrorAs(t, stream.Err(), &apiErr)
	require.Equal(t, http.StatusInternalServerError, apiErr.StatusCode)
	require.Equal(t, "server_error", apiErr.Type)

	f.Script(Fault{MalformedSSE: true})
	stream = client.Chat.Completions.NewStreaming(ctx, params)
	for stream.Next() {
	}
	require.Error(t, stream.Err())

	f.Script(Fault{InvalidJSON: true})
	_, err = client.Chat.Completions.New(ctx, params)
	require.Error(t, err)
}

func goOpenAIClient(srv *httptest.Server) *goopenai.Client {
	cfg := goopenai.DefaultConfig(testKey)
	cfg.BaseURL = srv.URL + "/v1"
	return goopenai.NewClientWithConfig(cfg)
}

func goOpenAITools() []goopenai.Tool {
	return []goopenai.Tool{
		{Type: goopenai.ToolTypeFunction, Function: &goopenai.FunctionDefinition{Name: "get_weather", Parameters: json.RawMessage(`{"type":"object"}`)}},
		{Type: goopenai.ToolTypeFunction, Function: &goopenai.FunctionDefinition{Name: "get_time", Parameters: json.RawMessage(`{"type":"object"}`)}},
	}
}

// checkGoOpenAI runs the community SDK's calls against the fake, whether
// it speaks OpenAI or Azure paths.
func checkGoOpenAI(t *testing.T, f *Fake, client *goopenai.Client) {
	ctx := context.Background()
	req := goopenai.ChatCompletionRequest{
		Model: "gpt-4o",
		Messages: []goopenai.ChatCompletionMessage{
			{Role: goopenai.ChatMessageRoleSystem, Content: "sys"},
			{Role: goopenai.ChatMessageRoleUser, MultiContent: []goopenai.ChatMessagePart{
				{Type: goopenai.ChatMessagePartTypeText, Text: "look"},
				{Type: goopenai.ChatMessagePartTypeImageURL, ImageURL: &goopenai.ChatMessageImageURL{URL: "data:image/png;base64,AA=="}},
				{Type: goopenai.ChatMessagePartTypeText, Text: "here"},
			}},
		},
	}
	res, err := client.CreateChatCompletion(ctx, req)
	require.NoError(t, err)
	require.Equal(t, "echo: look here", res.Choices[0].Message.Content)
	require.Equal(t, goopenai.FinishReasonStop, res.Choices[0].FinishReason)
	require.Equal(t, 3, res.Usage.PromptTokens)

	t.Run("stream", func(t *testing.T) {
		for _, withUsage := range []bool{true, false} {
			r := req
			if withUsage {
				r.StreamOptions = &goopenai.StreamOptions{IncludeUsage: true}
			}
			stream, err := client.CreateChatCompletionStream(ctx, r)
			require.NoError(t, err)
			var text strings.Builder
			var usage *goopenai.Usage
			for {
				c, err := stream.Recv()
				if errors.Is(err, io.EOF) {
					break
				}
				require.NoError(t, err)
				if c.Usage != nil {
					usage = c.Usage
				}
				if len(c.Choices) > 0 {
					text.WriteString(c.Choices[0].Delta.Content)
				}
			}
			stream.Close()
			require.Equal(t, res.Choices[0].Message.Content, text.String())
			if withUsage {
				require.NotNil(t, usage)
				require.Equal(t, res.Usage.TotalTokens, usage.TotalTokens)
			} else {
				require.Nil(t, usage)
			}
		}
	})

	t.Run("parallel tools", func(t *testing.T) {
		r := goopenai.ChatCompletionRequest{
			Model:    "gpt-4o",
			Messages: []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: "use_tools please"}},
			Tools:    goOpenAITools(),
		}
		res, err := client.CreateChatCompletion(ctx, r)
		require.NoError(t, err)
		require.Equal(t, goopenai.FinishReasonToolCalls, res.Choices[0].FinishReason)
		calls := res.Choices[0].Message.ToolCalls
		require.Len(t, calls, 2)
		require.Equal(t, "call_2", calls[1].ID)
		require.Equal(t, "get_time", calls[1].Function.Name)
		require.JSONEq(t, `{"echo":"use_tools please"}`, calls[1].Function.Arguments)

		stream, err := client.CreateChatCompletionStream(ctx, r)
		require.NoError(t, err)
		defer stream.Close()
		args := map[int]string{}
		names := map[int]string{}
		for {
			c, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err)
			if len(c.Choices) == 0 {
				continue
			}
			for _, tc := range c.Choices[0].Delta.ToolCalls {
				require.NotNil(t, tc.Index)
				args[*tc.Index] += tc.Function.Arguments
				names[*tc.Index] += tc.Function.Name
			}
		}
		require.Equal(t, map[int]string{0: "get_weather", 1: "get_time"}, names)
		require.Equal(t, calls[0].Function.Arguments, args[0])
		require.Equal(t, calls[1].Function.Arguments, args[1])
	})

	t.Run("embeddings", func(t *testing.T) {
		res, err := client.CreateEmbeddings(ctx, goopenai.EmbeddingRequestStrings{Input: []string{"x y z"}, Model: goopenai.SmallEmbedding3})
		require.NoError(t, err)
		require.Len(t, res.Data, 1)
		require.Equal(t, Vector("x y z", EmbeddingDims), res.Data[0].Embedding)
		require.Equal(t, 3, res.Usage.PromptTokens)
	})

	t.Run("models", func(t *testing.T) {
		list, err := client.ListModels(ctx)
		require.NoError(t, err)
		require.Len(t, list.Models, len(DefaultModels()))
		require.Equal(t, "gpt-4o", list.Models[0].ID)
	})

	t.Run("429", func(t *testing.T) {
		f.Script(Fault{Status: http.StatusTooManyRequests, RetryAfter: "1"})
		_, err := client.CreateChatCompletion(ctx, req)
		var apiErr *goopenai.APIError
		require.ErrorAs(t, err, &apiErr)
		require.Equal(t, http.StatusTooManyRequests, apiErr.HTTPStatusCode)
		require.NotEmpty(t, apiErr.Message)
	})

	t.Run("cut stream", func(t *testing.T) {
		f.Script(Fault{CutAfterChunks: 2})
		stream, err := client.CreateChatCompletionStream(ctx, req)
		require.NoError(t, err)
		defer stream.Close()
		for {
			_, err = stream.Recv()
			if err != nil {
				break
			}
		}
		require.False(t, errors.Is(err, io.EOF), "a cut stream ended cleanly: %v", err)
	})
}

func TestGoOpenAI(t *testing.T) {
	f, srv := newServer(t)
	checkGoOpenAI(t, f, goOpenAIClient(srv))
}

func TestGoOpenAIAzure(t *testing.T) {
	f, srv := newServer(t)
	cfg := goopenai.DefaultAzureConfig(testKey, srv.URL)
	cfg.APIVersion = "2024-10-21"
	checkGoOpenAI(t, f, goopenai.NewClientWithConfig(cfg))

	reqs := f.Requests()
	require.Equal(t, "/openai/deployments/gpt-4o/chat/completions", reqs[0].Path)
	require.Equal(t, "api-version=2024-10-21", reqs[0].RawQuery)
	require.Equal(t, testKey, reqs[0].Header.Get("Api-Key"))

	t.Run("wrong key", func(t *testing.T) {
		cfg := goopenai.DefaultAzureConfig("wrong", srv.URL)
		_, err := goopenai.NewClientWithConfig(cfg).CreateChatCompletion(context.Background(), goopenai.ChatCompletionRequest{
			Model: "gpt-4o", Messages: []goopenai.ChatCompletionMessage{{Role: "user", Content: "hi"}},
		})
		var apiErr *goopenai.APIError
		require.ErrorAs(t, err, &apiErr)
		require.Equal(t, http.StatusUnauthorized, apiErr.HTTPStatusCode)
		require.Equal(t, "401", apiErr.Code)
	})
}

// rawChat posts body to the fake and returns status and answer.
func rawChat(t *testing.T, srv *httptest.Server, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Api-Key", testKey)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func TestWireFormat(t *testing.T) {
	_, srv := newServer(t)
	cases := []struct {
		name, path, body string
		status           int
		want             string
	}{
		{
			name:   "stream with usage",
			path:   "/v1/chat/completions",
			body:   `{"model":"m","messages":[{"role":"user","content":"a b"}],"stream":true,"stream_options":{"include_usage":true}}`,
			status: 200,
			want: `data: {"id":"chatcmpl-fake1","object":"chat.completion.chunk","created":1735689600,"model":"m","system_fingerprint":"fp_fake","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}

data: {"id":"chatcmpl-fake1","object":"chat.completion.chunk","created":1735689600,"model":"m","system_fingerprint":"fp_fake","choices":[{"index":0,"delta":{"content":"echo: "},"logprobs":null,"finish_reason":null}],"usage":null}

data: {"id":"chatcmpl-fake1","object":"chat.completion.chunk","created":1735689600,"model":"m","system_fingerprint":"fp_fake","choices":[{"index":0,"delta":{"content":"a "},"logprobs":null,"finish_reason":null}],"usage":null}

data: {"id":"chatcmpl-fake1","object":"chat.completion.chunk","created":1735689600,"model":"m","system_fingerprint":"fp_fake","choices":[{"index":0,"delta":{"content":"b"},"logprobs":null,"finish_reason":null}],"usage":null}

data: {"id":"chatcmpl-fake1","object":"chat.completion.chunk","created":1735689600,"model":"m","system_fingerprint":"fp_fake","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}

data: {"id":"chatcmpl-fake1","object":"chat.completion.chunk","created":1735689600,"model":"m","system_fingerprint":"fp_fake","choices":[],"usage":{"prompt_tokens":2,"completion_tokens":3,"total_tokens":5,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}

data: [DONE]

`,
		},
		{
			name:   "stream_options without stream",
			path:   "/v1/chat/completions",
			body:   `{"model":"m","messages":[{"role":"user","content":"a"}],"stream_options":{"include_usage":true}}`,
			status: 400,
			want:   `{"error":{"message":"The 'stream_options' parameter is only allowed when 'stream' is enabled.","type":"invalid_request_error","param":"stream_options","code":null}}`,
		},
		{
			name:   "missing messages",
			path:   "/v1/chat/completions",
			body:   `{"model":"m"}`,
			status: 400,
			want:   `{"error":{"message":"Missing required parameter: 'messages'.","type":"invalid_request_error","param":"messages","code":"missing_required_parameter"}}`,
		},
		{
			name:   "unknown path",
			path:   "/v1/nope",
			body:   `{}`,
			status: 404,
			want:   `{"error":{"message":"Invalid URL (POST /v1/nope)","type":"invalid_request_error","param":null,"code":null}}`,
		},
		{
			name:   "azure without api-version",
			path:   "/openai/deployments/d/chat/completions",
			body:   `{}`,
			status: 404,
			want:   `{"error":{"code":"404","message":"Resource not found"}}`,
		},
		{
			name:   "html characters and newlines survive",
			path:   "/v1/chat/completions",
			body:   `{"model":"m","messages":[{"role":"user","content":"<a>&\n\"q\"\u2028"}]}`,
			status: 200,
			want:   `{"id":"chatcmpl-fake2","object":"chat.completion","created":1735689600,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"echo: \u003ca\u003e\u0026\n\"q\"\u2028","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":2,"completion_tokens":3,"total_tokens":5,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_fake"}`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, got := rawChat(t, srv, tc.path, tc.body)
			require.Equal(t, tc.status, status)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestAzureStreamStartsWithPromptFilter(t *testing.T) {
	_, srv := newServer(t)
	status, got := rawChat(t, srv, "/openai/deployments/dep1/chat/completions?api-version=2024-10-21",
		`{"messages":[{"role":"user","content":"x"}],"stream":true}`)
	require.Equal(t, 200, status)
	events := strings.Split(strings.TrimSpace(got), "\n\n")
	require.Equal(t, "data: "+azurePromptFilter, events[0])
	require.Contains(t, events[1], `"model":"dep1"`)
	require.Equal(t, "data: [DONE]", events[len(events)-1])
}

func TestFaultsRespectContext(t *testing.T) {
	f, srv := newServer(t)
	for _, ft := range []Fault{{Hang: true}, {DelayFirstByte: time.Hour}, {DelayBetweenChunks: time.Hour}} {
		f.Script(ft)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/chat/completions",
			strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"a b c"}],"stream":true}`))
		req.Header.Set("Authorization", "Bearer "+testKey)
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		cancel()
		require.Error(t, err)
		require.Less(t, time.Since(start), 5*time.Second)
	}
	// httptest.Server.Close waits for handlers: a handler left behind would
	// hang the test here.
	done := make(chan struct{})
	go func() { srv.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("a fault handler outlived its client")
	}
}

func TestRecordingAndReset(t *testing.T) {
	f, srv := newServer(t)
	f.Script(Fault{Status: 500}, Fault{Status: 503})
	status, _ := rawChat(t, srv, "/v1/chat/completions?x=1", `{"model":"m","messages":[{"role":"user","content":"a"}]}`)
	require.Equal(t, 500, status)
	reqs := f.Requests()
	require.Len(t, reqs, 1)
	require.Equal(t, "POST", reqs[0].Method)
	require.Equal(t, "/v1/chat/completions", reqs[0].Path)
	require.Equal(t, "x=1", reqs[0].RawQuery)
	require.Equal(t, "Bearer "+testKey, reqs[0].Header.Get("Authorization"))
	require.JSONEq(t, `{"model":"m","messages":[{"role":"user","content":"a"}]}`, string(reqs[0].Body))
	f.Reset()
	require.Empty(t, f.Requests())
	status, _ = rawChat(t, srv, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"a"}]}`)
	require.Equal(t, 200, status, "Reset must drop queued faults")
}

func TestFixedReply(t *testing.T) {
	f, srv := newServer(t)
	f.FixedReply = "one two three"
	client := officialClient(srv)
	res, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: "m", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("whatever")},
	})
	require.NoError(t, err)
	require.Equal(t, "one two three", res.Choices[0].Message.Content)
	require.Equal(t, int64(3), res.Usage.CompletionTokens)
}

func TestSplitWords(t *testing.T) {
	cases := map[string][]string{
		"":                  nil,
		"a":                 {"a"},
		"echo: a  b":        {"echo: ", "a  ", "b"},
		" lead":             {" ", "lead"},
		"trail ":            {"trail "},
		"x\ny\tz\u00a0é":    {"x\n", "y\t", "z\u00a0", "é"},
		"echo: héllo wörld": {"echo: ", "héllo ", "wörld"},
	}
	for in, want := range cases {
		got := splitWords(in)
		require.Equal(t, want, got, "split %q", in)
		require.Equal(t, in, strings.Join(got, ""))
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "a", "\"\\", "\x00\x1f", "<&>", "\u2028\u2029", "\xff\xfe", "héllo"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := appendJSONString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%q → %s: %v", s, b, err)
		}
		want, _ := json.Marshal(s)
		var w string
		_ = json.Unmarshal(want, &w)
		if got != w {
			t.Fatalf("%q: got %q, want %q", s, got, w)
		}
	})
}

func BenchmarkStream(b *testing.B) {
	f := New()
	f.DisableRecording = true
	f.FixedReply = strings.Repeat("word ", 100)
	body := `{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}`
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		f.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(body)))
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}

func BenchmarkChat(b *testing.B) {
	f := New()
	f.DisableRecording = true
	body := `{"model":"m","messages":[{"role":"user","content":"hello there"}]}`
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		f.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(body)))
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}
