package anthropicfake

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

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/option"
)

// The fake is checked with Anthropic's official Go SDK, so it cannot drift
// from the real wire format unnoticed.

func newClient(t *testing.T, f *Fake, key string) anthropic.Client {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return anthropic.NewClient(option.WithBaseURL(srv.URL), option.WithAPIKey(key), option.WithMaxRetries(0))
}

func userParams(text string, tools ...string) anthropic.MessageNewParams {
	p := anthropic.MessageNewParams{
		Model:     "claude-test",
		MaxTokens: 100,
		System:    []anthropic.TextBlockParam{{Text: "be brief"}},
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(text))},
	}
	for _, name := range tools {
		p.Tools = append(p.Tools, anthropic.ToolUnionParamOfTool(anthropic.ToolInputSchemaParam{
			Properties: map[string]any{"echo": map[string]any{"type": "string"}},
		}, name))
	}
	return p
}

func TestSDKNonStreamAndStreamAgree(t *testing.T) {
	f := New()
	f.APIKey = "sk-ant-test"
	c := newClient(t, f, "sk-ant-test")
	ctx := context.Background()

	msg, err := c.Messages.New(ctx, userParams("hello there world"))
	if err != nil {
		t.Fatal(err)
	}
	if len(msg.Content) != 1 || msg.Content[0].Text != "echo: hello there world" {
		t.Fatalf("content = %+v", msg.Content)
	}
	if msg.StopReason != anthropic.StopReasonEndTurn {
		t.Fatalf("stop reason = %q", msg.StopReason)
	}
	// prompt: "be brief" + "hello there world" = 5 words; reply: 4 words.
	if msg.Usage.InputTokens != 5 || msg.Usage.OutputTokens != 4 {
		t.Fatalf("usage = %+v", msg.Usage)
	}
	if !msg.Usage.JSON.CacheReadInputTokens.Valid() || msg.Usage.CacheReadInputTokens != 0 {
		t.Fatalf("cache_read_input_tokens missing: %s", msg.Usage.RawJSON())
	}

	stream := c.Messages.NewStreaming(ctx, userParams("hello there world"))
	acc := anthropic.Message{}
	seen := map[string]int{}
	for stream.Next() {
		ev := stream.Current()
		seen[ev.Type]++
		if err := acc.Accumulate(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop"} {
		if seen[typ] == 0 {
			t.Errorf("no %s event", typ)
		}
	}
	if seen["content_block_delta"] != 4 {
		t.Errorf("want one delta per word (4), got %d", seen["content_block_delta"])
	}
	if acc.Content[0].Text != msg.Content[0].Text || acc.StopReason != msg.StopReason ||
		acc.Usage.InputTokens != msg.Usage.InputTokens || acc.Usage.OutputTokens != msg.Usage.OutputTokens {
		t.Fatalf("accumulated %+v / %+v\nnon-stream %+v / %+v", acc.Content, acc.Usage, msg.Content, msg.Usage)
	}
	if got := f.Requests(); len(got) != 2 || got[0].Path != "/v1/messages" || got[0].Header.Get("X-Api-Key") != "sk-ant-test" || got[0].Header.Get("Anthropic-Version") != "2023-06-01" {
		t.Fatalf("recorded %+v", got)
	}
}

func TestSDKToolUse(t *testing.T) {
	cases := []struct {
		name  string
		text  string
		tools []string
		want  []string
	}{
		{"one tool", "please use_tool now", []string{"get_weather", "get_time"}, []string{"get_weather"}},
		{"parallel tools", "please use_tools now", []string{"get_weather", "get_time"}, []string{"get_weather", "get_time"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, New(), "k")
			ctx := context.Background()
			msg, err := c.Messages.New(ctx, userParams(tc.text, tc.tools...))
			if err != nil {
				t.Fatal(err)
			}
			checkToolUse(t, msg, tc.text, tc.want)

			stream := c.Messages.NewStreaming(ctx, userParams(tc.text, tc.tools...))
			acc := anthropic.Message{}
			for stream.Next() {
				if err := acc.Accumulate(stream.Current()); err != nil {
					t.Fatal(err)
				}
			}
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			checkToolUse(t, &acc, tc.text, tc.want)
			if acc.Usage.OutputTokens != msg.Usage.OutputTokens {
				t.Fatalf("stream usage %d != %d", acc.Usage.OutputTokens, msg.Usage.OutputTokens)
			}
		})
	}
}

func checkToolUse(t *testing.T, msg *anthropic.Message, text string, want []string) {
	t.Helper()
	if msg.StopReason != anthropic.StopReasonToolUse {
		t.Fatalf("stop reason = %q", msg.StopReason)
	}
	if len(msg.Content) != len(want) {
		t.Fatalf("content = %+v", msg.Content)
	}
	for i, name := range want {
		b := msg.Content[i].AsToolUse()
		var in map[string]string
		if err := json.Unmarshal(b.Input, &in); err != nil {
			t.Fatal(err)
		}
		if b.Name != name || b.ID != "toolu_"+string(rune('1'+i)) || in["echo"] != text {
			t.Fatalf("block %d = %+v input %s", i, b, b.Input)
		}
	}
}

func TestSDKToolResultTurn(t *testing.T) {
	c := newClient(t, New(), "k")
	p := userParams("use_tool", "get_weather")
	p.Messages = append(p.Messages,
		anthropic.NewAssistantMessage(anthropic.NewToolUseBlock("toolu_1", map[string]string{"echo": "use_tool"}, "get_weather")),
		anthropic.NewUserMessage(anthropic.NewToolResultBlock("toolu_1", "sunny", false)),
	)
	msg, err := c.Messages.New(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if msg.StopReason != anthropic.StopReasonEndTurn || msg.Content[0].Text != "echo: sunny" {
		t.Fatalf("got %+v %q", msg.Content, msg.StopReason)
	}
}

func TestSDKMaxTokens(t *testing.T) {
	c := newClient(t, New(), "k")
	p := userParams("one two three four")
	p.MaxTokens = 2
	msg, err := c.Messages.New(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if msg.StopReason != anthropic.StopReasonMaxTokens || msg.Content[0].Text != "echo: one" || msg.Usage.OutputTokens != 2 {
		t.Fatalf("got %+v %q %+v", msg.Content, msg.StopReason, msg.Usage)
	}
}

func TestSDKErrors(t *testing.T) {
	cases := []struct {
		name     string
		fault    Fault
		key      string
		status   int
		errType  string
		inBody   string
		retryHdr string
	}{
		{"rate limit", Fault{Status: 429, RetryAfter: "7"}, "k", 429, "rate_limit_error", "rate limit", "7"},
		{"overloaded", Fault{Status: 529}, "k", 529, "overloaded_error", "Overloaded", ""},
		{"server error", Fault{Status: 500}, "k", 500, "api_error", "Internal server error", ""},
		{"bad key", Fault{}, "wrong", 401, "authentication_error", "invalid x-api-key", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := New()
			f.APIKey = "k"
			f.Script(tc.fault)
			c := newClient(t, f, tc.key)
			_, err := c.Messages.New(context.Background(), userParams("hi"))
			var apiErr *anthropic.Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v (%T)", err, err)
			}
			if apiErr.StatusCode != tc.status || string(apiErr.Type()) != tc.errType || !strings.Contains(apiErr.RawJSON(), tc.inBody) {
				t.Fatalf("status %d type %q body %s", apiErr.StatusCode, apiErr.Type(), apiErr.RawJSON())
			}
			if got := apiErr.Response.Header.Get("Retry-After"); got != tc.retryHdr {
				t.Fatalf("Retry-After = %q", got)
			}
		})
	}
}

func TestSDKStreamFaults(t *testing.T) {
	t.Run("cut", func(t *testing.T) {
		f := New()
		f.Script(Fault{CutAfterChunks: 3})
		c := newClient(t, f, "k")
		stream := c.Messages.NewStreaming(context.Background(), userParams("a b c d"))
		n := 0
		for stream.Next() {
			n++
		}
		// message_start and one content_block_start reach the SDK (ping is skipped).
		if n != 2 {
			t.Fatalf("events = %d", n)
		}
	})
	t.Run("malformed", func(t *testing.T) {
		f := New()
		f.Script(Fault{MalformedSSE: true})
		c := newClient(t, f, "k")
		stream := c.Messages.NewStreaming(context.Background(), userParams("a b"))
		for stream.Next() {
		}
		if stream.Err() == nil {
			t.Fatal("malformed event not reported")
		}
	})
}

func TestCountTokens(t *testing.T) {
	c := newClient(t, New(), "k")
	res, err := c.Messages.CountTokens(context.Background(), anthropic.MessageCountTokensParams{
		Model:    "claude-test",
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("one two three"))},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.InputTokens != 3 {
		t.Fatalf("input tokens = %d", res.InputTokens)
	}
}

func TestHangAndDelayRespectContext(t *testing.T) {
	for _, fault := range []Fault{{Hang: true}, {DelayFirstByte: time.Hour}, {DelayBetweenChunks: time.Hour}} {
		f := New()
		f.Script(fault)
		srv := httptest.NewServer(f)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/messages",
			strings.NewReader(`{"model":"m","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"a b c"}]}`))
		req.Header.Set("anthropic-version", "2023-06-01")
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		cancel()
		if err == nil || time.Since(start) > 5*time.Second {
			t.Fatalf("%+v: err %v after %v", fault, err, time.Since(start))
		}
		srv.Close() // waits for the handler to return: no goroutine left
	}
}

func TestNotFoundAndVersion(t *testing.T) {
	srv := httptest.NewServer(New())
	defer srv.Close()
	cases := []struct {
		name, path, version string
		status              int
		errType             string
	}{
		{"unknown path", "/v1/nope", "2023-06-01", 404, "not_found_error"},
		{"missing version", "/v1/messages", "", 400, "invalid_request_error"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+tc.path, strings.NewReader(`{}`))
			if tc.version != "" {
				req.Header.Set("anthropic-version", tc.version)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var env struct {
				Type  string                `json:"type"`
				Error struct{ Type string } `json:"error"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status || env.Type != "error" || env.Error.Type != tc.errType {
				t.Fatalf("%d %+v", resp.StatusCode, env)
			}
		})
	}
}

func TestFixedReplyAndDisableRecording(t *testing.T) {
	f := New()
	f.FixedReply = "the same every time"
	f.DisableRecording = true
	c := newClient(t, f, "k")
	msg, err := c.Messages.New(context.Background(), userParams("anything"))
	if err != nil {
		t.Fatal(err)
	}
	if msg.Content[0].Text != "the same every time" || msg.Usage.OutputTokens != 4 {
		t.Fatalf("got %+v %+v", msg.Content, msg.Usage)
	}
	if n := len(f.Requests()); n != 0 {
		t.Fatalf("%d requests recorded", n)
	}
}

func TestConcurrentAndReset(t *testing.T) {
	f := New()
	c := newClient(t, f, "k")
	f.Script(Fault{Status: 500})
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			_, err := c.Messages.New(context.Background(), userParams("parallel"))
			errs <- err
		}()
	}
	failed := 0
	for range 8 {
		if err := <-errs; err != nil {
			failed++
		}
	}
	if failed != 1 || len(f.Requests()) != 8 {
		t.Fatalf("%d failed, %d recorded; want 1 fault used once, 8 recorded", failed, len(f.Requests()))
	}
	f.Script(Fault{Status: 500})
	f.Reset()
	if len(f.Requests()) != 0 {
		t.Fatal("Reset kept requests")
	}
	if _, err := c.Messages.New(context.Background(), userParams("x")); err != nil {
		t.Fatalf("Reset kept faults: %v", err)
	}
}
