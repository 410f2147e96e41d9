package anthropic

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/option"

	"github.com/sluicehq/sluice/internal/fakes/anthropicfake"
	"github.com/sluicehq/sluice/providers"
	"github.com/sluicehq/sluice/providers/sse"
)

// TestRoundTripNativeRequest: a native Anthropic request taken in by the
// ingress and sent out by the anthropic provider survives semantically
// (string content and block content are the same thing; top_k, thinking and
// cache_control are the documented losses and are left out here).
func TestRoundTripNativeRequest(t *testing.T) {
	native := `{
	  "model": "claude-sonnet-4-5",
	  "max_tokens": 512,
	  "system": [{"type":"text","text":"Rule one."},{"type":"text","text":"Rule two."}],
	  "temperature": 0,
	  "top_p": 0.8,
	  "stop_sequences": ["END", "STOP"],
	  "stream": true,
	  "metadata": {"user_id": "u-7"},
	  "tools": [
	    {"name":"get_weather","description":"Weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}},
	    {"name":"get_time","input_schema":{"type":"object","properties":{}}}
	  ],
	  "tool_choice": {"type":"any","disable_parallel_tool_use":true},
	  "output_config": {"format":{"type":"json_schema","schema":{"type":"object","properties":{"a":{"type":"string"}}}}},
	  "messages": [
	    {"role":"user","content":"Weather in Paris?"},
	    {"role":"assistant","content":[
	      {"type":"text","text":"Checking."},
	      {"type":"tool_use","id":"toolu_01A","name":"get_weather","input":{"city":"Paris"}},
	      {"type":"tool_use","id":"toolu_01B","name":"get_time","input":{}}
	    ]},
	    {"role":"user","content":[
	      {"type":"tool_result","tool_use_id":"toolu_01A","content":"18C"},
	      {"type":"tool_result","tool_use_id":"toolu_01B","content":"noon"},
	      {"type":"text","text":"And this picture?"},
	      {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},
	      {"type":"image","source":{"type":"url","url":"https://example.com/a.jpg"}},
	      {"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0="}}
	    ]},
	    {"role":"assistant","content":"It is sunny."},
	    {"role":"user","content":[{"type":"text","text":"Thanks"}]}
	  ]
	}`
	uni, err := RequestToUnified([]byte(native))
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(providers.Config{})
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := buildRequest(uni, p.opts, uni.Stream)
	if err != nil {
		t.Fatal(err)
	}
	got, want := normalize(t, out), normalize(t, []byte(native))
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Fatalf("round trip changed the request\n--- got\n%s\n--- want\n%s", g, w)
	}
}

// normalize decodes a Messages request and writes string content as one
// text block, so equivalent requests compare equal.
func normalize(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	blocks := func(v any) any {
		if s, ok := v.(string); ok {
			return []any{map[string]any{"type": "text", "text": s}}
		}
		return v
	}
	if s, ok := m["system"]; ok {
		m["system"] = blocks(s)
	}
	for _, msg := range m["messages"].([]any) {
		mm := msg.(map[string]any)
		mm["content"] = blocks(mm["content"])
	}
	return m
}

// ingressServer is a miniature /v1/messages relay: Anthropic in, the
// anthropic provider (against the fake) behind, Anthropic out. It is what
// the gateway's handler does, minus auth and logging.
func ingressServer(t *testing.T, p providers.Provider) *httptest.Server {
	t.Helper()
	fail := func(w http.ResponseWriter, err error) {
		status := http.StatusBadGateway
		var pe *providers.Error
		if errors.As(err, &pe) && pe.Status != 0 {
			status = pe.Status
		}
		msg := "upstream failed"
		if pe != nil && pe.Message != "" {
			msg = pe.Message
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(ErrorBody(status, msg))
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, err := RequestToUnified(body)
		if err != nil {
			fail(w, err)
			return
		}
		if !req.Stream {
			resp, err := p.Chat(r.Context(), req)
			if err != nil {
				fail(w, err)
				return
			}
			out, err := ResponseFromUnified(resp, req.Model)
			if err != nil {
				fail(w, err)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(out)
			return
		}
		s, err := p.ChatStream(r.Context(), req)
		if err != nil {
			fail(w, err)
			return
		}
		defer s.Close()
		w.Header().Set("Content-Type", "text/event-stream")
		sw := sse.NewWriter(w)
		enc := NewStreamEncoder(req.Model)
		write := func(evs ...Event) {
			for _, e := range evs {
				_ = sw.Event(e.Name, e.Data)
			}
		}
		for {
			c, err := s.Recv()
			if err == io.EOF {
				write(enc.Finish()...)
				return
			}
			if err != nil {
				write(enc.Error(err))
				return
			}
			evs, err := enc.Encode(c)
			if err != nil {
				write(enc.Error(err))
				return
			}
			write(evs...)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestIngressWithSDK drives the ingress with Anthropic's official SDK and
// checks it gets the same answers through Sluice as from the upstream
// directly: non-stream, stream (accumulated), tools, errors.
func TestIngressWithSDK(t *testing.T) {
	p, fake, upstream := newFakeProvider(t, nil)
	gw := ingressServer(t, p)
	direct := anthropic.NewClient(option.WithBaseURL(upstream.URL), option.WithAPIKey("sk-ant-test"), option.WithMaxRetries(0))
	via := anthropic.NewClient(option.WithBaseURL(gw.URL), option.WithAPIKey("consumer-key"), option.WithMaxRetries(0))
	ctx := context.Background()

	params := func(text string, tools ...string) anthropic.MessageNewParams {
		ps := anthropic.MessageNewParams{
			Model: "claude-test", MaxTokens: 200,
			System:   []anthropic.TextBlockParam{{Text: "be brief"}},
			Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(text))},
		}
		for _, n := range tools {
			ps.Tools = append(ps.Tools, anthropic.ToolUnionParamOfTool(anthropic.ToolInputSchemaParam{Properties: map[string]any{}}, n))
		}
		return ps
	}
	accumulate := func(t *testing.T, c anthropic.Client, ps anthropic.MessageNewParams) anthropic.Message {
		t.Helper()
		s := c.Messages.NewStreaming(ctx, ps)
		acc := anthropic.Message{}
		for s.Next() {
			if err := acc.Accumulate(s.Current()); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Err(); err != nil {
			t.Fatal(err)
		}
		return acc
	}
	same := func(t *testing.T, got, want *anthropic.Message) {
		t.Helper()
		if len(got.Content) != len(want.Content) || got.StopReason != want.StopReason ||
			got.Usage.InputTokens != want.Usage.InputTokens || got.Usage.OutputTokens != want.Usage.OutputTokens {
			t.Fatalf("via sluice %+v %q %+v\ndirect %+v %q %+v", got.Content, got.StopReason, got.Usage, want.Content, want.StopReason, want.Usage)
		}
		for i := range got.Content {
			g, w := got.Content[i], want.Content[i]
			if g.Type != w.Type || g.Text != w.Text || g.ID != w.ID || g.Name != w.Name || string(g.Input) != string(w.Input) {
				t.Fatalf("block %d: %+v vs %+v", i, g, w)
			}
		}
	}

	for _, tc := range []struct {
		name  string
		text  string
		tools []string
	}{
		{"text", "hello through sluice", nil},
		{"tool", "use_tool now", []string{"get_weather", "get_time"}},
		{"parallel tools", "use_tools now", []string{"get_weather", "get_time"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := direct.Messages.New(ctx, params(tc.text, tc.tools...))
			if err != nil {
				t.Fatal(err)
			}
			got, err := via.Messages.New(ctx, params(tc.text, tc.tools...))
			if err != nil {
				t.Fatal(err)
			}
			same(t, got, want)
			if got.Model != "claude-test" {
				t.Fatalf("model %q", got.Model)
			}
			streamed := accumulate(t, via, params(tc.text, tc.tools...))
			same(t, &streamed, want)
		})
	}

	t.Run("upstream 529", func(t *testing.T) {
		fake.Script(anthropicfake.Fault{Status: 529})
		_, err := via.Messages.New(ctx, params("x"))
		var apiErr *anthropic.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 529 || apiErr.Type() != "overloaded_error" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("invalid request", func(t *testing.T) {
		ps := params("x")
		ps.Messages = nil
		_, err := via.Messages.New(ctx, ps)
		var apiErr *anthropic.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Type() != "invalid_request_error" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("stream cut upstream", func(t *testing.T) {
		fake.Script(anthropicfake.Fault{CutAfterChunks: 4})
		s := via.Messages.NewStreaming(ctx, params("a b c d"))
		for s.Next() {
		}
		if s.Err() == nil {
			t.Fatal("a cut stream finished cleanly through the ingress")
		}
	})
}

func TestRequestToUnifiedInvalidUTF8(t *testing.T) {
	_, err := RequestToUnified([]byte("{\"model\":\"m\xff\",\"max_tokens\":1,\"messages\":[]}"))
	var pe *providers.Error
	if !errors.As(err, &pe) || pe.Status != 400 {
		t.Fatalf("err = %v", err)
	}
}

func TestResponseFromUnifiedNil(t *testing.T) {
	if _, err := ResponseFromUnified(nil, "m"); err == nil {
		t.Fatal("nil response accepted")
	}
}
