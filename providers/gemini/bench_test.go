package gemini

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/providers"
)

// benchRequest is a typical agent turn: system prompt, history, tools and
// a tool result.
func benchRequest(b *testing.B) *providers.ChatRequest {
	b.Helper()
	var req providers.ChatRequest
	raw := `{"model":"gemini-2.5-flash","temperature":0.2,"max_tokens":512,"messages":[
	 {"role":"system","content":"You are a helpful assistant that answers briefly."},
	 {"role":"user","content":"What is the weather in Paris and Rome today?"},
	 {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},{"id":"call_2","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Rome\"}"}}]},
	 {"role":"tool","tool_call_id":"call_1","content":"{\"temp\":21,\"sky\":\"clear\"}"},
	 {"role":"tool","tool_call_id":"call_2","content":"rain, 14 degrees"},
	 {"role":"user","content":[{"type":"text","text":"And this picture?"},{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}],
	 "tools":[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","additionalProperties":false,"properties":{"city":{"type":"string"},"unit":{"type":["string","null"],"enum":["c","f"]}},"required":["city"]}}}]}`
	if err := json.Unmarshal([]byte(raw), &req); err != nil {
		b.Fatal(err)
	}
	return &req
}

func BenchmarkTranslateRequest(b *testing.B) {
	req := benchRequest(b)
	b.ReportAllocs()
	for b.Loop() {
		gr, err := translateRequest(req)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(gr); err != nil {
			b.Fatal(err)
		}
	}
}

const benchResponse = `{"candidates":[{"content":{"parts":[{"text":"The weather in Paris is clear and 21 degrees; in Rome it rains at 14 degrees. The picture shows a cat."}],"role":"model"},"finishReason":"STOP","index":0,"safetyRatings":[{"category":"HARM_CATEGORY_HATE_SPEECH","probability":"NEGLIGIBLE"}]}],"usageMetadata":{"promptTokenCount":120,"candidatesTokenCount":28,"totalTokenCount":148,"promptTokensDetails":[{"modality":"TEXT","tokenCount":120}]},"modelVersion":"gemini-2.5-flash","responseId":"abc"}`

func BenchmarkDecodeResponse(b *testing.B) {
	body := []byte(benchResponse)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := decodeResponse(body, testMeta); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStreamChunk measures reading and translating one SSE event.
func BenchmarkStreamChunk(b *testing.B) {
	event := `data: {"candidates":[{"content":{"parts":[{"text":"word "}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":120,"totalTokenCount":120},"modelVersion":"gemini-2.5-flash","responseId":"abc"}` + "\r\n\r\n"
	const events = 100
	body := []byte(strings.Repeat(event, events) + `data: {"candidates":[{"content":{"parts":[{"text":"end"}],"role":"model"},"finishReason":"STOP"}]}` + "\r\n\r\n")
	b.ReportAllocs()
	b.SetBytes(int64(len(body)) / events)
	for b.Loop() {
		s := newStream(io.NopCloser(bytes.NewReader(body)), testMeta, nil)
		for {
			if _, err := s.Recv(); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*(events+1)), "ns/event")
}
