package gemini

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/sluicehq/sluice/providers"
)

// goldenInputs returns the inputs of the golden files in testdata/<dir>,
// the seed corpus of the fuzz tests.
func goldenInputs(f *testing.F, dir string) [][]byte {
	files, _ := filepath.Glob(filepath.Join("testdata", dir, "*.txt"))
	var out [][]byte
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		in, _, _ := bytes.Cut(raw, []byte(goldenSep))
		out = append(out, in)
	}
	if len(out) == 0 {
		f.Fatalf("no seeds in testdata/%s", dir)
	}
	return out
}

// FuzzDecodeResponse: any body yields a response or an error, never a
// panic, and a response always has at least one choice.
func FuzzDecodeResponse(f *testing.F) {
	for _, in := range goldenInputs(f, "response") {
		f.Add(in)
	}
	f.Add([]byte(`{"candidates":[null,{"content":null},{"content":{"parts":[null,{"functionCall":null}]}}]}`))
	f.Add([]byte(`{"candidates":[{"index":-5,"content":{"parts":[{"functionCall":{"name":"x","args":"not an object"}}]}}]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		resp, err := decodeResponse(body, testMeta)
		if err != nil {
			var pe *providers.Error
			if !errors.As(err, &pe) {
				t.Fatalf("error is %T, want *providers.Error", err)
			}
			return
		}
		if len(resp.Choices) == 0 {
			t.Fatal("response without choices")
		}
		if _, err := json.Marshal(resp); err != nil {
			t.Fatalf("response does not encode: %v", err)
		}
	})
}

// FuzzStream: any upstream body ends in io.EOF or an error within a bounded
// number of chunks, never a panic; a clean end needs a finish reason.
func FuzzStream(f *testing.F) {
	for _, in := range goldenInputs(f, "stream") {
		f.Add(in)
	}
	f.Add([]byte("data: {\"candidates\":[{\"finishReason\":\"STOP\",\"index\":3}]}\n\n"))
	f.Add([]byte("data: null\n\ndata: []\n\n"))
	f.Add([]byte("event: x\nid: 1\nretry: 5\n\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		s := newStream(io.NopCloser(bytes.NewReader(body)), testMeta, nil)
		defer s.Close()
		sawFinish := false
		for i := 0; ; i++ {
			if i > len(body)+10 {
				t.Fatal("stream does not end")
			}
			c, err := s.Recv()
			if err == io.EOF {
				if !sawFinish {
					t.Fatal("clean end without a finish reason")
				}
				return
			}
			if err != nil {
				return
			}
			for _, ch := range c.Choices {
				if ch.FinishReason != nil {
					sawFinish = true
				}
			}
		}
	})
}

// FuzzTranslateRequest: any chat request translates or is refused with a
// 400, never a panic, and what it produces encodes to JSON.
func FuzzTranslateRequest(f *testing.F) {
	for _, in := range goldenInputs(f, "request") {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req providers.ChatRequest
		if json.Unmarshal(body, &req) != nil {
			return
		}
		out, err := translateRequest(&req)
		if err != nil {
			var pe *providers.Error
			if !errors.As(err, &pe) || pe.Status != 400 {
				t.Fatalf("translation error is not a 400 *providers.Error: %v", err)
			}
			return
		}
		if _, err := json.Marshal(out); err != nil {
			t.Fatalf("translated request does not encode: %v", err)
		}
	})
}
