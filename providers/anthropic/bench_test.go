package anthropic

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/providers"
)

// Benchmarks of the translation hot paths; run with -benchmem.

func goldenInput(b *testing.B, path string) []byte {
	b.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	in, _, _ := strings.Cut(string(raw), separator)
	var lines []string
	for _, l := range strings.Split(in, "\n") {
		if !strings.HasPrefix(l, "# ") {
			lines = append(lines, l)
		}
	}
	return []byte(strings.Join(lines, "\n"))
}

func BenchmarkBuildRequest(b *testing.B) {
	var req providers.ChatRequest
	if err := json.Unmarshal(goldenInput(b, "testdata/request/tool_results_parallel.txt"), &req); err != nil {
		b.Fatal(err)
	}
	opts := options{defaultMaxTokens: DefaultMaxTokens}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := buildRequest(&req, opts, false); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeResponse(b *testing.B) {
	body := goldenInput(b, "testdata/response/tool_use_parallel.txt")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeResponse(body, translation{}, 1); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStreamDecode measures one content_block_delta event (one op):
// SSE read plus decode into a chunk.
func BenchmarkStreamDecode(b *testing.B) {
	ev := []byte("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" word\"}}\n\n")
	body := bytes.Repeat(ev, b.N)
	s := newStream(io.NopCloser(bytes.NewReader(body)), nil, newDecoder(translation{}, 1))
	s.dec.blocks[0] = blockState{kind: blockText}
	b.ReportAllocs()
	b.SetBytes(int64(len(ev)))
	b.ResetTimer()
	for range b.N {
		if _, err := s.Recv(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRequestToUnified(b *testing.B) {
	body := goldenInput(b, "testdata/ingress_request/tool_use_and_results.txt")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := RequestToUnified(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkResponseFromUnified(b *testing.B) {
	var resp providers.ChatResponse
	if err := json.Unmarshal(goldenInput(b, "testdata/ingress_response/tool_calls.txt"), &resp); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ResponseFromUnified(&resp, "m"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStreamEncode(b *testing.B) {
	word := " word"
	chunk := &providers.ChatChunk{ID: "chatcmpl-1", Model: "m", Choices: []providers.ChunkChoice{{Delta: providers.Delta{Content: &word}}}}
	enc := NewStreamEncoder("m")
	if _, err := enc.Encode(chunk); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := enc.Encode(chunk); err != nil {
			b.Fatal(err)
		}
	}
}
