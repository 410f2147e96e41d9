package openai

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/providers"
)

func benchRequest() *providers.ChatRequest {
	temp, max := 0.0, 256
	return &providers.ChatRequest{
		Model: "gpt-4o",
		Messages: []providers.Message{
			{Role: "system", Content: providers.TextContent("You are a helpful assistant.")},
			{Role: "user", Content: providers.TextContent(strings.Repeat("Tell me about the weather. ", 20))},
		},
		Temperature: &temp,
		MaxTokens:   &max,
		Tools: []providers.Tool{{Type: "function", Function: providers.FunctionDef{
			Name: "get_weather", Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}}}`),
		}}},
	}
}

func BenchmarkChatBody(b *testing.B) {
	for _, tc := range []struct {
		name string
		q    Quirks
	}{
		{"no-quirks", Quirks{}},
		{"openai", Quirks{MaxTokensField: "max_completion_tokens"}},
		{"mistral", Quirks{NoStreamOptions: true, MaxTokensField: "max_tokens", SeedField: "random_seed", NoUserMetadata: true}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			req := benchRequest()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ChatBody(req, tc.q, true); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecodeChat(b *testing.B) {
	data := []byte(`{"id":"chatcmpl-1","object":"chat.completion","created":1735689600,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"` +
		strings.Repeat("word ", 200) + `","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":20,"completion_tokens":200,"total_tokens":220,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0}},"system_fingerprint":"fp"}`)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeChat(data); err != nil {
			b.Fatal(err)
		}
	}
}

const benchChunk = `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1735689600,"model":"gpt-4o","system_fingerprint":"fp","choices":[{"index":0,"delta":{"content":" word"},"logprobs":null,"finish_reason":null}],"usage":null}`

func BenchmarkDecodeChunk(b *testing.B) {
	data := []byte(benchChunk)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeChunk("", data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStream reads a 200-chunk SSE body through Stream.Recv.
func BenchmarkStream(b *testing.B) {
	var body bytes.Buffer
	for range 200 {
		body.WriteString("data: " + benchChunk + "\n\n")
	}
	body.WriteString("data: [DONE]\n\n")
	raw := body.Bytes()
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		s := NewStream(io.NopCloser(bytes.NewReader(raw)))
		n := 0
		for {
			_, err := s.Recv()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != 200 {
			b.Fatal(n)
		}
	}
}
