package gemini

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/providers"
)

var update = flag.Bool("update", false, "rewrite the expected output of golden files")

// goldenSep separates a golden file's input from its expected output.
const goldenSep = "\n==== expected ====\n"

// testMeta is the fixed id, model and time of translated golden answers.
var testMeta = meta{fallbackID: "chatcmpl-fallback", model: "requested-model", created: 1700000000}

// runGolden runs fn on the input of every testdata/<dir>/*.txt file and
// compares its output with the file's expected part (-update rewrites it).
func runGolden(t *testing.T, dir string, fn func(t *testing.T, input []byte) string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files in testdata/%s: %v", dir, err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			input, want, found := bytes.Cut(raw, []byte(goldenSep))
			got := strings.TrimRight(fn(t, input), "\n") + "\n"
			if *update {
				out := append(append(append([]byte{}, input...), goldenSep...), got...)
				if err := os.WriteFile(file, out, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if !found {
				t.Fatalf("%s has no %q line; run with -update", file, strings.TrimSpace(goldenSep))
			}
			if got != string(want) {
				t.Errorf("%s: output differs\n--- got ---\n%s--- want ---\n%s", file, got, want)
			}
		})
	}
}

func indentJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// describeErr renders an error for a golden file, marking the kinds the
// gateway tells apart.
func describeErr(err error) string {
	var pe *providers.Error
	var b strings.Builder
	b.WriteString("error")
	if errors.As(err, &pe) {
		b.WriteString(" (providers.Error")
		if pe.Status != 0 {
			b.WriteString(" status=")
			b.WriteString(itoa(pe.Status))
		}
		if pe.Type != "" {
			b.WriteString(" type=" + pe.Type)
		}
		if pe.Code != "" {
			b.WriteString(" code=" + pe.Code)
		}
		if pe.RetryAfter != 0 {
			b.WriteString(" retry_after=" + pe.RetryAfter.String())
		}
		b.WriteString(")")
	}
	if errors.Is(err, providers.ErrTruncated) {
		b.WriteString(" [truncated]")
	}
	b.WriteString(": " + err.Error())
	return b.String()
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestGoldenRequests(t *testing.T) {
	runGolden(t, "request", func(t *testing.T, input []byte) string {
		var req providers.ChatRequest
		if err := json.Unmarshal(input, &req); err != nil {
			t.Fatalf("bad input: %v", err)
		}
		out, err := translateRequest(&req)
		if err != nil {
			return describeErr(err)
		}
		return indentJSON(t, out)
	})
}

func TestGoldenResponses(t *testing.T) {
	runGolden(t, "response", func(t *testing.T, input []byte) string {
		resp, err := decodeResponse(input, testMeta)
		if err != nil {
			return describeErr(err)
		}
		return indentJSON(t, resp)
	})
}

// TestGoldenStreams feeds each input as an upstream body to the stream and
// prints every chunk (compact JSON, one per line) and how it ended.
func TestGoldenStreams(t *testing.T) {
	runGolden(t, "stream", func(t *testing.T, input []byte) string {
		s := newStream(io.NopCloser(bytes.NewReader(input)), testMeta, nil)
		defer s.Close()
		var b strings.Builder
		for {
			c, err := s.Recv()
			if err == io.EOF {
				b.WriteString("EOF\n")
				break
			}
			if err != nil {
				b.WriteString(describeErr(err) + "\n")
				break
			}
			line, _ := json.Marshal(c)
			b.Write(line)
			b.WriteByte('\n')
		}
		return b.String()
	})
}
