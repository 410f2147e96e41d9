package anthropic

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/providers"
)

// seedGoldens adds the inputs of the golden files in dir to the corpus.
func seedGoldens(f *testing.F, dir string) {
	files, _ := filepath.Glob(filepath.Join("testdata", dir, "*.txt"))
	if len(files) == 0 {
		f.Fatalf("no seeds in testdata/%s", dir)
	}
	for _, p := range files {
		raw, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		in, _, _ := strings.Cut(string(raw), separator)
		f.Add([]byte(in))
	}
}

// FuzzRequestToUnified: the ingress never panics, rejects with a 400
// *providers.Error, and what it accepts translates onward without panic.
func FuzzRequestToUnified(f *testing.F) {
	seedGoldens(f, "ingress_request")
	f.Add([]byte(`{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"x","content":[{"type":"image"}]}]}]}`))
	f.Add([]byte(`{"model":"m","max_tokens":1,"system":null,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"a","name":"b","input":[1]}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := RequestToUnified(body)
		if err != nil {
			pe, ok := err.(*providers.Error)
			if !ok || pe.Status != 400 {
				t.Fatalf("error %v is not a 400 *providers.Error", err)
			}
			return
		}
		_, _, _ = buildRequest(req, options{defaultMaxTokens: DefaultMaxTokens}, req.Stream)
		_, _, _ = buildRequest(req, options{defaultMaxTokens: DefaultMaxTokens, toolStructured: true}, req.Stream)
	})
}

// FuzzDecodeResponse: the response decoder never panics, and what it
// accepts renders back through the ingress without panic.
func FuzzDecodeResponse(f *testing.F) {
	seedGoldens(f, "response")
	f.Add([]byte(`{"type":"message","content":[{"type":"tool_use","input":"x"}],"stop_reason":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, tr := range []translation{{}, {jsonTool: "person"}} {
			resp, err := decodeResponse(body, tr, 1)
			if err != nil {
				continue
			}
			if len(resp.Choices) != 1 || resp.Usage == nil {
				t.Fatalf("decoded %+v", resp)
			}
			_, _ = ResponseFromUnified(resp, "m")
		}
	})
}

// FuzzStreamDecoder: the stream reader and decoder never panic, a stream
// ends in io.EOF only after message_stop, and the chunks re-encode as
// Anthropic events without panic.
func FuzzStreamDecoder(f *testing.F) {
	seedGoldens(f, "stream")
	f.Add([]byte("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"))
	f.Add([]byte("data: {\"type\":\"content_block_delta\",\"index\":-5,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"x\"}}\n\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		s := newStream(io.NopCloser(bytes.NewReader(body)), nil, newDecoder(translation{jsonTool: "person"}, 1))
		defer s.Close()
		enc := NewStreamEncoder("m")
		for i := 0; ; i++ {
			c, err := s.Recv()
			if err == io.EOF {
				if !s.dec.done {
					t.Fatal("io.EOF before message_stop")
				}
				evs := enc.Finish()
				for _, e := range evs {
					if !json.Valid(e.Data) {
						t.Fatalf("invalid event %s", e.Data)
					}
				}
				return
			}
			if err != nil {
				_ = enc.Error(err)
				return
			}
			if _, err := enc.Encode(c); err != nil {
				t.Fatal(err)
			}
			if i > 1<<20 {
				t.Fatal("no end")
			}
		}
	})
}
