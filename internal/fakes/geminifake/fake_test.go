package geminifake_test

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
	"google.golang.org/genai"

	"github.com/sluicehq/sluice/internal/fakes/geminifake"
)

// newClient starts the fake and returns the official SDK pointed at it.
func newClient(t *testing.T, f *geminifake.Fake, key, version string) *genai.Client {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := genai.NewClient(context.Background(), &genai.ClientConfig{
		APIKey:      key,
		Backend:     genai.BackendGeminiAPI,
		HTTPOptions: genai.HTTPOptions{BaseURL: srv.URL, APIVersion: version},
	})
	require.NoError(t, err)
	return c
}

func conversation() []*genai.Content {
	return []*genai.Content{
		genai.NewContentFromText("hello there", genai.RoleUser),
		genai.NewContentFromText("hi", genai.RoleModel),
		genai.NewContentFromText("say something nice", genai.RoleUser),
	}
}

func TestSDKGenerateContent(t *testing.T) {
	for _, version := range []string{"v1beta", "v1"} {
		t.Run(version, func(t *testing.T) {
			f := geminifake.New()
			f.APIKey = "k"
			c := newClient(t, f, "k", version)
			cfg := &genai.GenerateContentConfig{SystemInstruction: genai.NewContentFromText("be brief", genai.RoleUser)}
			resp, err := c.Models.GenerateContent(t.Context(), "gemini-2.5-flash", conversation(), cfg)
			require.NoError(t, err)
			assert.Equal(t, "echo: say something nice", resp.Text())
			require.Len(t, resp.Candidates, 1)
			assert.Equal(t, genai.FinishReasonStop, resp.Candidates[0].FinishReason)
			assert.Equal(t, "gemini-2.5-flash", resp.ModelVersion)
			assert.NotEmpty(t, resp.ResponseID)
			require.NotNil(t, resp.UsageMetadata)
			// be brief (2) + hello there (2) + hi (1) + say something nice (3)
			assert.EqualValues(t, 8, resp.UsageMetadata.PromptTokenCount)
			assert.EqualValues(t, 4, resp.UsageMetadata.CandidatesTokenCount)
			assert.EqualValues(t, 12, resp.UsageMetadata.TotalTokenCount)

			reqs := f.Requests()
			require.Len(t, reqs, 1)
			assert.Equal(t, "/"+version+"/models/gemini-2.5-flash:generateContent", reqs[0].Path)
			assert.Equal(t, "k", reqs[0].Header.Get("x-goog-api-key"))
		})
	}
}

func TestSDKGenerateContentStream(t *testing.T) {
	f := geminifake.New()
	c := newClient(t, f, "k", "")
	ctx := t.Context()
	whole, err := c.Models.GenerateContent(ctx, "gemini-2.5-flash", conversation(), nil)
	require.NoError(t, err)

	var text strings.Builder
	var events int
	var last *genai.GenerateContentResponse
	for resp, err := range c.Models.GenerateContentStream(ctx, "gemini-2.5-flash", conversation(), nil) {
		require.NoError(t, err)
		text.WriteString(resp.Text())
		events++
		last = resp
	}
	assert.Equal(t, whole.Text(), text.String())
	assert.Equal(t, 4, events, "one event per word")
	require.NotNil(t, last)
	assert.Equal(t, genai.FinishReasonStop, last.Candidates[0].FinishReason)
	require.NotNil(t, last.UsageMetadata)
	assert.Equal(t, whole.UsageMetadata.TotalTokenCount, last.UsageMetadata.TotalTokenCount)
	assert.EqualValues(t, 4, last.UsageMetadata.CandidatesTokenCount)

	reqs := f.Requests()
	assert.Equal(t, "/v1beta/models/gemini-2.5-flash:streamGenerateContent", reqs[1].Path)
	assert.Equal(t, "alt=sse", reqs[1].RawQuery)
}

func TestSDKFunctionCalling(t *testing.T) {
	tools := []*genai.Tool{{FunctionDeclarations: []*genai.FunctionDeclaration{
		{Name: "get_weather", Description: "weather", Parameters: &genai.Schema{Type: genai.TypeObject, Properties: map[string]*genai.Schema{"city": {Type: genai.TypeString}}}},
		{Name: "get_time"},
	}}}
	cases := []struct {
		name    string
		prompt  string
		callIDs bool
		want    []string
	}{
		{"one tool", "please use_tool now", false, []string{"get_weather"}},
		{"all tools", "use_tools", true, []string{"get_weather", "get_time"}},
		{"no trigger", "just talk", false, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := geminifake.New()
			f.CallIDs = tc.callIDs
			c := newClient(t, f, "k", "")
			cfg := &genai.GenerateContentConfig{Tools: tools}
			resp, err := c.Models.GenerateContent(t.Context(), "gemini-2.5-flash", genai.Text(tc.prompt), cfg)
			require.NoError(t, err)
			calls := resp.FunctionCalls()
			require.Len(t, calls, len(tc.want))
			for i, call := range calls {
				assert.Equal(t, tc.want[i], call.Name)
				assert.Equal(t, map[string]any{"echo": tc.prompt}, call.Args)
				if tc.callIDs {
					assert.Equal(t, "call_"+string(rune('1'+i)), call.ID)
				} else {
					assert.Empty(t, call.ID)
				}
			}
			if tc.want == nil {
				assert.Equal(t, "echo: "+tc.prompt, resp.Text())
			}

			// The stream sends the calls whole in one event.
			var streamed []*genai.FunctionCall
			for r, err := range c.Models.GenerateContentStream(t.Context(), "gemini-2.5-flash", genai.Text(tc.prompt), cfg) {
				require.NoError(t, err)
				streamed = append(streamed, r.FunctionCalls()...)
			}
			assert.Len(t, streamed, len(tc.want))
		})
	}

	t.Run("function response ends the loop", func(t *testing.T) {
		f := geminifake.New()
		c := newClient(t, f, "k", "")
		contents := []*genai.Content{
			genai.NewContentFromText("use_tool please", genai.RoleUser),
			genai.NewContentFromFunctionCall("get_weather", map[string]any{"echo": "use_tool please"}, genai.RoleModel),
			genai.NewContentFromFunctionResponse("get_weather", map[string]any{"temp": 20}, genai.RoleUser),
		}
		resp, err := c.Models.GenerateContent(t.Context(), "gemini-2.5-flash", contents, &genai.GenerateContentConfig{Tools: tools})
		require.NoError(t, err)
		assert.Empty(t, resp.FunctionCalls())
		assert.Equal(t, "echo: use_tool please", resp.Text())
	})
}

func TestSDKEmbedContent(t *testing.T) {
	f := geminifake.New()
	c := newClient(t, f, "k", "")
	dims := int32(8)
	cases := []struct {
		name  string
		texts []string
	}{{"one", []string{"hello"}}, {"several", []string{"hello", "world", "hello"}}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var contents []*genai.Content
			for _, s := range tc.texts {
				contents = append(contents, genai.NewContentFromText(s, genai.RoleUser))
			}
			resp, err := c.Models.EmbedContent(t.Context(), "gemini-embedding-001", contents, &genai.EmbedContentConfig{OutputDimensionality: &dims})
			require.NoError(t, err)
			require.Len(t, resp.Embeddings, len(tc.texts))
			for i, e := range resp.Embeddings {
				require.Len(t, e.Values, 8)
				want := geminifake.Vector(tc.texts[i], 8)
				for j := range want {
					assert.InDelta(t, want[j], float64(e.Values[j]), 1e-6)
				}
			}
		})
	}
	// Same text, same vector; different text, different vector.
	assert.Equal(t, geminifake.Vector("a", 4), geminifake.Vector("a", 4))
	assert.NotEqual(t, geminifake.Vector("a", 4), geminifake.Vector("b", 4))
}

func TestSDKSingleEmbedContentEndpoint(t *testing.T) {
	// The SDK always batches; the single-input endpoint is checked directly.
	srv := httptest.NewServer(geminifake.New())
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/v1beta/models/text-embedding-004:embedContent", "application/json",
		strings.NewReader(`{"content":{"parts":[{"text":"hello"}]},"outputDimensionality":3}`))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	var out struct {
		Embedding struct {
			Values []float64 `json:"values"`
		} `json:"embedding"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	assert.Equal(t, geminifake.Vector("hello", 3), out.Embedding.Values)
}

func TestSDKErrors(t *testing.T) {
	cases := []struct {
		name       string
		fault      geminifake.Fault
		key        string
		wantCode   int
		wantStatus string
		wantMsg    string
	}{
		{"429", geminifake.Fault{Status: 429, RetryAfter: "7"}, "k", 429, "RESOURCE_EXHAUSTED", "Resource has been exhausted"},
		{"500", geminifake.Fault{Status: 500}, "k", 500, "INTERNAL", "internal error"},
		{"503", geminifake.Fault{Status: 503}, "k", 503, "UNAVAILABLE", "overloaded"},
		{"wrong key", geminifake.Fault{}, "bad", 400, "INVALID_ARGUMENT", "API key not valid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := geminifake.New()
			f.APIKey = "k"
			f.Script(tc.fault)
			c := newClient(t, f, tc.key, "")
			_, err := c.Models.GenerateContent(t.Context(), "gemini-2.5-flash", genai.Text("hi"), nil)
			var apiErr genai.APIError
			require.True(t, errors.As(err, &apiErr), "got %T %v", err, err)
			assert.Equal(t, tc.wantCode, apiErr.Code)
			assert.Equal(t, tc.wantStatus, apiErr.Status)
			assert.Contains(t, apiErr.Message, tc.wantMsg)
			if tc.fault.RetryAfter != "" {
				require.Len(t, apiErr.Details, 1)
				assert.Equal(t, "7s", apiErr.Details[0]["retryDelay"])
			}
		})
	}

	t.Run("stream 429", func(t *testing.T) {
		f := geminifake.New()
		f.Script(geminifake.Fault{Status: 429})
		c := newClient(t, f, "k", "")
		for _, err := range c.Models.GenerateContentStream(t.Context(), "gemini-2.5-flash", genai.Text("hi"), nil) {
			var apiErr genai.APIError
			require.True(t, errors.As(err, &apiErr), "got %v", err)
			assert.Equal(t, 429, apiErr.Code)
			break
		}
	})
}

func TestSDKSafetyBlock(t *testing.T) {
	cases := []struct {
		name   string
		setup  func(f *geminifake.Fake)
		reason genai.BlockedReason
	}{
		{"fake field", func(f *geminifake.Fake) { f.Block = "SAFETY" }, genai.BlockedReasonSafety},
		{"scripted", func(f *geminifake.Fake) { f.Script(geminifake.Fault{BlockReason: "PROHIBITED_CONTENT"}) }, genai.BlockedReasonProhibitedContent},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := geminifake.New()
			tc.setup(f)
			c := newClient(t, f, "k", "")
			resp, err := c.Models.GenerateContent(t.Context(), "gemini-2.5-flash", genai.Text("bad words"), nil)
			require.NoError(t, err)
			assert.Empty(t, resp.Candidates)
			require.NotNil(t, resp.PromptFeedback)
			assert.Equal(t, tc.reason, resp.PromptFeedback.BlockReason)
			assert.EqualValues(t, 2, resp.UsageMetadata.PromptTokenCount)
		})
	}
}

func TestSDKListModels(t *testing.T) {
	f := geminifake.New()
	f.Models = []string{"a", "b", "c"}
	c := newClient(t, f, "k", "")
	var names []string
	for m, err := range c.Models.All(t.Context()) {
		require.NoError(t, err)
		names = append(names, m.Name)
	}
	assert.Equal(t, []string{"models/a", "models/b", "models/c"}, names)
}

// rawPost sends a request to the fake without the SDK.
func rawPost(t *testing.T, url, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

const hello = `{"contents":[{"role":"user","parts":[{"text":"one two three"}]}]}`

func TestFaults(t *testing.T) {
	f := geminifake.New()
	srv := httptest.NewServer(f)
	defer srv.Close()
	streamURL := srv.URL + "/v1beta/models/m:streamGenerateContent?alt=sse"

	t.Run("cut", func(t *testing.T) {
		f.Script(geminifake.Fault{CutAfterChunks: 2})
		resp := rawPost(t, streamURL, hello)
		b, err := io.ReadAll(resp.Body)
		require.Error(t, err, "connection must break, not end cleanly")
		assert.Equal(t, 2, strings.Count(string(b), "data: "))
		assert.NotContains(t, string(b), "finishReason")
	})
	t.Run("malformed", func(t *testing.T) {
		f.Script(geminifake.Fault{MalformedSSE: true})
		b, err := io.ReadAll(rawPost(t, streamURL, hello).Body)
		require.NoError(t, err)
		assert.Contains(t, string(b), "data: {\"candidates\": [{\"content\": garbage\r\n")
	})
	t.Run("invalid json", func(t *testing.T) {
		f.Script(geminifake.Fault{InvalidJSON: true})
		resp := rawPost(t, srv.URL+"/v1beta/models/m:generateContent", hello)
		assert.Equal(t, 200, resp.StatusCode)
		b, _ := io.ReadAll(resp.Body)
		assert.False(t, json.Valid(b))
	})
	t.Run("custom body and retry-after", func(t *testing.T) {
		f.Script(geminifake.Fault{Status: 503, Body: `{"oops":1}`, RetryAfter: "3"})
		resp := rawPost(t, srv.URL+"/v1beta/models/m:generateContent", hello)
		assert.Equal(t, 503, resp.StatusCode)
		assert.Equal(t, "3", resp.Header.Get("Retry-After"))
		b, _ := io.ReadAll(resp.Body)
		assert.JSONEq(t, `{"oops":1}`, string(b))
	})
	t.Run("delay between chunks", func(t *testing.T) {
		f.Script(geminifake.Fault{DelayBetweenChunks: 20 * time.Millisecond})
		start := time.Now()
		_, err := io.ReadAll(rawPost(t, streamURL, hello).Body)
		require.NoError(t, err)
		assert.GreaterOrEqual(t, time.Since(start), 60*time.Millisecond, "4 events, 3 gaps")
	})
	t.Run("hang respects the client", func(t *testing.T) {
		f.Script(geminifake.Fault{Hang: true})
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1beta/models/m:generateContent", strings.NewReader(hello))
		_, err := http.DefaultClient.Do(req)
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
	t.Run("stream without alt=sse is a JSON array", func(t *testing.T) {
		b, err := io.ReadAll(rawPost(t, srv.URL+"/v1/models/m:streamGenerateContent", hello).Body)
		require.NoError(t, err)
		var events []map[string]any
		require.NoError(t, json.Unmarshal(b, &events))
		assert.Len(t, events, 4)
	})
	t.Run("errors for bad requests", func(t *testing.T) {
		for _, c := range []struct{ path, body string }{
			{"/v1beta/models/m:generateContent", `{"contents":[]}`},
			{"/v1beta/models/m:generateContent", `{`},
			{"/v1beta/models/m:generateContent", `{"contents":[{"role":"assistant","parts":[{"text":"x"}]}]}`},
			{"/v1beta/models/m:batchEmbedContents", `{"requests":[{"model":"models/other","content":{"parts":[{"text":"x"}]}}]}`},
		} {
			resp := rawPost(t, srv.URL+c.path, c.body)
			assert.Equal(t, 400, resp.StatusCode, c.body)
			var env struct {
				Error struct {
					Code   int    `json:"code"`
					Status string `json:"status"`
				} `json:"error"`
			}
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&env))
			assert.Equal(t, "INVALID_ARGUMENT", env.Error.Status)
		}
		assert.Equal(t, 404, rawPost(t, srv.URL+"/v2/models/m:generateContent", hello).StatusCode)
	})
	t.Run("missing key", func(t *testing.T) {
		g := geminifake.New()
		g.APIKey = "secret"
		s := httptest.NewServer(g)
		defer s.Close()
		assert.Equal(t, 403, rawPost(t, s.URL+"/v1beta/models/m:generateContent", hello).StatusCode)
		assert.Equal(t, 200, rawPost(t, s.URL+"/v1beta/models/m:generateContent?key=secret", hello).StatusCode)
	})
	t.Run("reset", func(t *testing.T) {
		f.Script(geminifake.Fault{Status: 500})
		f.Reset()
		assert.Empty(t, f.Requests())
		assert.Equal(t, 200, rawPost(t, srv.URL+"/v1beta/models/m:generateContent", hello).StatusCode)
	})
}

func TestPiecesConcatenate(t *testing.T) {
	// The stream's text equals the non-stream text even with odd spacing.
	f := geminifake.New()
	srv := httptest.NewServer(f)
	defer srv.Close()
	body := `{"contents":[{"role":"user","parts":[{"text":"  a  b\tc "}]}]}`
	b, err := io.ReadAll(rawPost(t, srv.URL+"/v1beta/models/m:streamGenerateContent", body).Body)
	require.NoError(t, err)
	var events []struct {
		Candidates []struct {
			Content struct {
				Parts []struct{ Text string } `json:"parts"`
			} `json:"content"`
		} `json:"candidates"`
	}
	require.NoError(t, json.Unmarshal(b, &events))
	var got strings.Builder
	for _, e := range events {
		got.WriteString(e.Candidates[0].Content.Parts[0].Text)
	}
	assert.Equal(t, "echo:   a  b\tc ", got.String())
}
