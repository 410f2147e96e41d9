package anthropic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/fakes/anthropicfake"
	"github.com/sluicehq/sluice/providers"
)

// The adapter end to end against the fake: adapter → httptest fake → back.

func newFakeProvider(t *testing.T, settings map[string]string) (*Provider, *anthropicfake.Fake, *httptest.Server) {
	t.Helper()
	fake := anthropicfake.New()
	fake.APIKey = "sk-ant-test"
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	p, err := providers.New(providers.Config{
		Kind: Kind, BaseURL: srv.URL + "/", APIKey: "sk-ant-test", Settings: settings,
		Headers: map[string]string{"anthropic-beta": "prompt-caching-2024-07-31"},
		HTTP:    srv.Client(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return p.(*Provider), fake, srv
}

func userReq(text string, tools ...string) *providers.ChatRequest {
	r := &providers.ChatRequest{Model: "claude-test", Messages: []providers.Message{
		{Role: "system", Content: providers.TextContent("be brief")},
		{Role: "user", Content: providers.TextContent(text)},
	}}
	for _, name := range tools {
		r.Tools = append(r.Tools, providers.Tool{Type: "function", Function: providers.FunctionDef{Name: name}})
	}
	return r
}

// collect reads a stream to its end and returns the chunks and the final error.
func collect(s providers.Stream) ([]*providers.ChatChunk, error) {
	defer s.Close()
	var out []*providers.ChatChunk
	for {
		c, err := s.Recv()
		if err != nil {
			return out, err
		}
		out = append(out, c)
	}
}

func TestChatAgainstFake(t *testing.T) {
	p, fake, _ := newFakeProvider(t, nil)
	resp, err := p.Chat(context.Background(), userReq("hello there world"))
	if err != nil {
		t.Fatal(err)
	}
	c := resp.Choices[0]
	if c.Message.Content.String() != "echo: hello there world" || c.FinishReason != "stop" || resp.ID != "msg_fake_1" || resp.Model != "claude-test" {
		t.Fatalf("got %+v", resp)
	}
	if u := resp.Usage; u.PromptTokens != 5 || u.CompletionTokens != 4 || u.TotalTokens != 9 || u.PromptTokensDetails.CachedTokens != 0 {
		t.Fatalf("usage %+v", u)
	}
	rec := fake.Requests()[0]
	if rec.Path != "/v1/messages" || rec.Header.Get("X-Api-Key") != "sk-ant-test" || rec.Header.Get("Anthropic-Version") != APIVersion ||
		rec.Header.Get("Anthropic-Beta") != "prompt-caching-2024-07-31" || rec.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("request %+v", rec)
	}
	var body map[string]any
	if err := json.Unmarshal(rec.Body, &body); err != nil {
		t.Fatal(err)
	}
	if body["max_tokens"] != float64(DefaultMaxTokens) || body["stream"] != nil {
		t.Fatalf("body %s", rec.Body)
	}
}

func TestChatStreamAgainstFake(t *testing.T) {
	p, _, _ := newFakeProvider(t, nil)
	ctx := context.Background()
	want, err := p.Chat(ctx, userReq("one two three"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := p.ChatStream(ctx, userReq("one two three"))
	if err != nil {
		t.Fatal(err)
	}
	chunks, err := collect(s)
	if err != io.EOF {
		t.Fatalf("stream ended with %v", err)
	}
	var text strings.Builder
	finish := ""
	for _, c := range chunks {
		for _, ch := range c.Choices {
			if ch.Delta.Content != nil {
				text.WriteString(*ch.Delta.Content)
			}
			if ch.FinishReason != nil {
				finish = *ch.FinishReason
			}
		}
	}
	if chunks[0].Choices[0].Delta.Role != "assistant" {
		t.Fatalf("first chunk %+v", chunks[0])
	}
	last := chunks[len(chunks)-1]
	if text.String() != want.Choices[0].Message.Content.String() || finish != "stop" {
		t.Fatalf("stream text %q finish %q", text.String(), finish)
	}
	if len(last.Choices) != 0 || last.Usage == nil || last.Usage.PromptTokens != want.Usage.PromptTokens ||
		last.Usage.CompletionTokens != want.Usage.CompletionTokens || last.Usage.TotalTokens != want.Usage.TotalTokens ||
		last.Usage.PromptTokensDetails == nil || *last.Usage.PromptTokensDetails != *want.Usage.PromptTokensDetails {
		t.Fatalf("usage chunk %+v want %+v", last, want.Usage)
	}
	// Recv after the end keeps answering io.EOF.
	if _, err := s.Recv(); err != io.EOF {
		t.Fatalf("Recv after end = %v", err)
	}
}

func TestToolCallsAgainstFake(t *testing.T) {
	cases := []struct {
		name string
		text string
		want []string
	}{
		{"one", "please use_tool", []string{"get_weather"}},
		{"parallel", "please use_tools", []string{"get_weather", "get_time"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, _, _ := newFakeProvider(t, nil)
			ctx := context.Background()
			resp, err := p.Chat(ctx, userReq(tc.text, "get_weather", "get_time"))
			if err != nil {
				t.Fatal(err)
			}
			m := resp.Choices[0].Message
			if resp.Choices[0].FinishReason != "tool_calls" || len(m.ToolCalls) != len(tc.want) || !m.Content.IsNull() {
				t.Fatalf("got %+v", resp.Choices[0])
			}
			wantArgs, _ := json.Marshal(map[string]string{"echo": tc.text})
			for i, name := range tc.want {
				if m.ToolCalls[i].Function.Name != name || m.ToolCalls[i].Function.Arguments != string(wantArgs) || m.ToolCalls[i].ID == "" {
					t.Fatalf("call %d = %+v", i, m.ToolCalls[i])
				}
			}

			s, err := p.ChatStream(ctx, userReq(tc.text, "get_weather", "get_time"))
			if err != nil {
				t.Fatal(err)
			}
			chunks, err := collect(s)
			if err != io.EOF {
				t.Fatal(err)
			}
			args := map[int]string{}
			ids := map[int]string{}
			finish := ""
			for _, c := range chunks {
				for _, ch := range c.Choices {
					for _, call := range ch.Delta.ToolCalls {
						args[*call.Index] += call.Function.Arguments
						if call.ID != "" {
							ids[*call.Index] = call.ID
						}
					}
					if ch.FinishReason != nil {
						finish = *ch.FinishReason
					}
				}
			}
			for i := range tc.want {
				if args[i] != m.ToolCalls[i].Function.Arguments || ids[i] != m.ToolCalls[i].ID {
					t.Fatalf("stream call %d: %q %q", i, ids[i], args[i])
				}
			}
			if finish != "tool_calls" || len(args) != len(tc.want) {
				t.Fatalf("finish %q, %d calls", finish, len(args))
			}
		})
	}
}

func TestFaultsAgainstFake(t *testing.T) {
	cases := []struct {
		name       string
		fault      anthropicfake.Fault
		stream     bool
		timeout    time.Duration
		status     int
		errType    string
		retryAfter time.Duration
		retryable  bool
		is         error
	}{
		{name: "500", fault: anthropicfake.Fault{Status: 500}, status: 500, errType: "api_error", retryable: true},
		{name: "429 retry-after", fault: anthropicfake.Fault{Status: 429, RetryAfter: "7"}, status: 429, errType: "rate_limit_error", retryAfter: 7 * time.Second, retryable: true},
		{name: "529 overloaded", fault: anthropicfake.Fault{Status: 529}, status: 529, errType: "overloaded_error", retryable: true},
		{name: "529 overloaded stream", fault: anthropicfake.Fault{Status: 529}, stream: true, status: 529, errType: "overloaded_error", retryable: true},
		{name: "400 not retryable", fault: anthropicfake.Fault{Status: 400}, status: 400, errType: "invalid_request_error"},
		{name: "non-envelope body", fault: anthropicfake.Fault{Status: 502, Body: "<html>bad gateway</html>"}, status: 502, retryable: true},
		{name: "invalid JSON", fault: anthropicfake.Fault{InvalidJSON: true}, retryable: true, is: errInvalidJSON},
		{name: "slow first byte", fault: anthropicfake.Fault{DelayFirstByte: time.Hour}, timeout: 50 * time.Millisecond, retryable: true, is: context.DeadlineExceeded},
		{name: "slow first byte stream", fault: anthropicfake.Fault{DelayFirstByte: time.Hour}, stream: true, timeout: 50 * time.Millisecond, retryable: true, is: context.DeadlineExceeded},
		{name: "hang", fault: anthropicfake.Fault{Hang: true}, timeout: 50 * time.Millisecond, retryable: true, is: context.DeadlineExceeded},
		{name: "cut stream", fault: anthropicfake.Fault{CutAfterChunks: 4}, stream: true, retryable: true, is: providers.ErrTruncated},
		{name: "malformed SSE", fault: anthropicfake.Fault{MalformedSSE: true}, stream: true, retryable: true, is: errInvalidJSON},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, fake, _ := newFakeProvider(t, nil)
			fake.Script(tc.fault)
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			start := time.Now()
			var err error
			if tc.stream {
				var s providers.Stream
				s, err = p.ChatStream(ctx, userReq("a b c d e"))
				if err == nil {
					_, err = collect(s)
				}
			} else {
				_, err = p.Chat(ctx, userReq("a b c d e"))
			}
			if time.Since(start) > 5*time.Second {
				t.Fatalf("took %v", time.Since(start))
			}
			var pe *providers.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v (%T), want *providers.Error", err, err)
			}
			if pe.Status != tc.status || pe.Type != tc.errType || pe.RetryAfter != tc.retryAfter {
				t.Fatalf("got status %d type %q retry-after %v (%v)", pe.Status, pe.Type, pe.RetryAfter, pe)
			}
			if tc.status != 0 && pe.Message == "" {
				t.Fatal("no message")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("err %v is not %v", err, tc.is)
			}
			if pe.Retryable() != tc.retryable {
				t.Fatalf("Retryable = %v", pe.Retryable())
			}
		})
	}
}

func TestConfigTimeoutBoundsFirstByte(t *testing.T) {
	for _, stream := range []bool{false, true} {
		_, fake, srv := newFakeProvider(t, nil)
		fake.APIKey = ""
		p, err := New(providers.Config{BaseURL: srv.URL, Timeout: 50 * time.Millisecond, HTTP: srv.Client()})
		if err != nil {
			t.Fatal(err)
		}
		fake.Script(anthropicfake.Fault{DelayFirstByte: time.Hour})
		if stream {
			_, err = p.ChatStream(context.Background(), userReq("x"))
		} else {
			_, err = p.Chat(context.Background(), userReq("x"))
		}
		if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			t.Fatalf("stream=%v: err = %v", stream, err)
		}
	}
}

func TestStreamCancelMidway(t *testing.T) {
	p, fake, _ := newFakeProvider(t, nil)
	fake.Script(anthropicfake.Fault{DelayBetweenChunks: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	s, err := p.ChatStream(ctx, userReq("a b c"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Recv(); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := s.Recv(); err == nil || err == io.EOF {
		t.Fatalf("Recv after cancel = %v", err)
	}
}

func TestConnectionRefused(t *testing.T) {
	p, _, srv := newFakeProvider(t, nil)
	srv.Close()
	for _, stream := range []bool{false, true} {
		var err error
		if stream {
			_, err = p.ChatStream(context.Background(), userReq("x"))
		} else {
			_, err = p.Chat(context.Background(), userReq("x"))
		}
		var pe *providers.Error
		if !errors.As(err, &pe) || pe.Status != 0 || !pe.Retryable() {
			t.Fatalf("stream=%v: err = %v", stream, err)
		}
	}
}

func TestBadRequestNotSent(t *testing.T) {
	p, fake, _ := newFakeProvider(t, nil)
	n := 2
	req := userReq("x")
	req.N = &n
	_, err := p.Chat(context.Background(), req)
	var pe *providers.Error
	if !errors.As(err, &pe) || pe.Status != 400 || pe.Param != "n" {
		t.Fatalf("err = %v", err)
	}
	if len(fake.Requests()) != 0 {
		t.Fatal("a request that cannot be translated was sent")
	}
}

func TestPassthrough(t *testing.T) {
	p, fake, _ := newFakeProvider(t, nil)
	if !p.PassesThrough(providers.OpMessages) || p.PassesThrough(providers.OpChat) || p.PassesThrough(providers.OpEmbeddings) {
		t.Fatal("PassesThrough wrong")
	}
	body := []byte(`{"model":"claude-test","max_tokens":50,"top_k":3,"future_field":{"x":1},"messages":[{"role":"user","content":"hi you"}]}`)
	resp, err := p.Forward(context.Background(), providers.OpMessages, body)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(raw, []byte(`"text":"echo: hi you"`)) {
		t.Fatalf("%d %s", resp.StatusCode, raw)
	}
	rec := fake.Requests()[0]
	if !bytes.Equal(rec.Body, body) || rec.Header.Get("X-Api-Key") != "sk-ant-test" || rec.Header.Get("Anthropic-Version") != APIVersion {
		t.Fatalf("forwarded %s %v", rec.Body, rec.Header)
	}

	fake.Script(anthropicfake.Fault{Status: 429, RetryAfter: "3"})
	resp, err = p.Forward(context.Background(), providers.OpMessages, body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "3" {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if _, err := p.Forward(context.Background(), providers.OpChat, body); err == nil {
		t.Fatal("OpChat forwarded")
	}
}

func TestNewSettings(t *testing.T) {
	cases := []struct {
		name     string
		settings map[string]string
		ok       bool
	}{
		{"defaults", nil, true},
		{"max tokens", map[string]string{"default_max_tokens": "100"}, true},
		{"bad max tokens", map[string]string{"default_max_tokens": "lots"}, false},
		{"zero max tokens", map[string]string{"default_max_tokens": "0"}, false},
		{"tool mode", map[string]string{"structured_output": "tool"}, true},
		{"bad mode", map[string]string{"structured_output": "magic"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(providers.Config{Settings: tc.settings})
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v", err)
			}
		})
	}
	p, _ := New(providers.Config{BaseURL: "https://proxy.example/v1/"})
	if p.endpoint != "https://proxy.example/v1/messages" {
		t.Fatalf("endpoint %s", p.endpoint)
	}
	p, _ = New(providers.Config{})
	if p.endpoint != DefaultBaseURL+"/v1/messages" {
		t.Fatalf("endpoint %s", p.endpoint)
	}
}

func TestStructuredToolModeAgainstFake(t *testing.T) {
	// The fake answers a forced tool like any other when asked to use_tool;
	// the adapter must hand the tool input back as message text.
	p, _, _ := newFakeProvider(t, map[string]string{"structured_output": "tool"})
	req := userReq("use_tool please")
	req.ResponseFormat = &providers.ResponseFormat{Type: "json_schema", JSONSchema: &providers.JSONSchema{
		Name: "answer", Schema: json.RawMessage(`{"type":"object","properties":{"echo":{"type":"string"}}}`),
	}}
	resp, err := p.Chat(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	c := resp.Choices[0]
	if c.FinishReason != "stop" || len(c.Message.ToolCalls) != 0 || c.Message.Content.String() != `{"echo":"use_tool please"}` {
		t.Fatalf("got %+v", c)
	}
	s, err := p.ChatStream(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	chunks, err := collect(s)
	if err != io.EOF {
		t.Fatal(err)
	}
	var text strings.Builder
	for _, ch := range chunks {
		for _, cc := range ch.Choices {
			if cc.Delta.Content != nil {
				text.WriteString(*cc.Delta.Content)
			}
			if len(cc.Delta.ToolCalls) > 0 {
				t.Fatalf("tool call leaked: %+v", cc.Delta)
			}
		}
	}
	if text.String() != `{"echo":"use_tool please"}` {
		t.Fatalf("stream text %q", text.String())
	}
}

// TestStreamCloseClosesBody checks Close releases the upstream body and is
// safe to call twice.
func TestStreamCloseClosesBody(t *testing.T) {
	body := &closeCounter{Reader: strings.NewReader("event: ping\ndata: {\"type\":\"ping\"}\n\n")}
	s := newStream(body, nil, newDecoder(translation{}, 0))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	if body.closed != 1 {
		t.Fatalf("closed %d times", body.closed)
	}
}

type closeCounter struct {
	io.Reader
	closed int
}

func (c *closeCounter) Close() error { c.closed++; return nil }

// TestStatusForType maps error types to statuses and back.
func TestStatusForType(t *testing.T) {
	for typ, want := range map[string]int{
		"invalid_request_error": 400, "authentication_error": 401, "billing_error": 402, "permission_error": 403,
		"not_found_error": 404, "request_too_large": 413, "rate_limit_error": 429, "api_error": 500,
		"timeout_error": 504, "overloaded_error": 529, "brand_new_error": 500,
	} {
		if got := statusForType(typ); got != want {
			t.Errorf("%s: %d, want %d", typ, got, want)
		}
		if typ != "brand_new_error" && ErrorType(want) != typ {
			t.Errorf("ErrorType(%d) = %s, want %s", want, ErrorType(want), typ)
		}
	}
	if ErrorType(503) != "overloaded_error" || ErrorType(418) != "invalid_request_error" || ErrorType(502) != "api_error" {
		t.Error("ErrorType fallbacks")
	}
	var env errorEnvelope
	if err := json.Unmarshal(ErrorBody(http.StatusTooManyRequests, "slow down"), &env); err != nil || env.Type != "error" || env.Error.Type != "rate_limit_error" || env.Error.Message != "slow down" {
		t.Fatalf("ErrorBody: %+v %v", env, err)
	}
}
