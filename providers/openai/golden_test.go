package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/providers"
)

var update = flag.Bool("update", false, "rewrite the expected output of golden files")

// goldenSep separates a golden file's input from its expected output.
const goldenSep = "\n=== want ===\n"

// runGolden runs fn on the input of every file in testdata/dir, one t.Run
// per file, and compares its output with the file's expected output.
func runGolden(t *testing.T, dir string, fn func(t *testing.T, input []byte) string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no golden files in testdata/%s", dir)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			input, want, found := strings.Cut(string(raw), goldenSep)
			if !found && !*update {
				t.Fatalf("%s has no %q line", file, strings.TrimSpace(goldenSep))
			}
			got := strings.TrimRight(fn(t, []byte(input)), "\n") + "\n"
			if *update {
				if err := os.WriteFile(file, []byte(input+goldenSep+got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != want {
				t.Errorf("output differs from %s\n--- got ---\n%s--- want ---\n%s", file, got, want)
			}
		})
	}
}

// quirksOf returns the quirks of a registered kind.
func quirksOf(t testing.TB, kind string) Quirks {
	t.Helper()
	p, err := providers.New(providers.Config{Kind: kind, BaseURL: "http://upstream.test/v1"})
	if err != nil {
		t.Fatal(err)
	}
	return p.(*Provider).Quirks()
}

func indent(t *testing.T, b []byte) string {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, b)
	}
	return out.String()
}

// TestGoldenRequest checks what reaches each kind of upstream: the input is
// {"kind","stream","request"} for a translated request (ChatBody), or
// {"kind","forward"} for a passthrough body (ApplyQuirks on the bytes).
func TestGoldenRequest(t *testing.T) {
	runGolden(t, "request", func(t *testing.T, input []byte) string {
		var in struct {
			Kind    string                 `json:"kind"`
			Stream  bool                   `json:"stream"`
			Request *providers.ChatRequest `json:"request"`
			Forward json.RawMessage        `json:"forward"`
		}
		if err := json.Unmarshal(input, &in); err != nil {
			t.Fatal(err)
		}
		q := quirksOf(t, in.Kind)
		if in.Forward != nil {
			var compact bytes.Buffer
			if err := json.Compact(&compact, in.Forward); err != nil {
				t.Fatal(err)
			}
			out, err := ApplyQuirks(compact.Bytes(), q)
			if err != nil {
				return "error: " + err.Error()
			}
			same := "changed"
			if bytes.Equal(out, compact.Bytes()) {
				same = "unchanged"
			}
			return same + "\n" + string(out)
		}
		before, _ := json.Marshal(in.Request)
		out, err := ChatBody(in.Request, q, in.Stream)
		if err != nil {
			return "error: " + err.Error()
		}
		if after, _ := json.Marshal(in.Request); !bytes.Equal(before, after) {
			t.Error("ChatBody modified the request")
		}
		return indent(t, out)
	})
}

// TestGoldenResponse decodes a non-streamed answer body.
func TestGoldenResponse(t *testing.T) {
	runGolden(t, "response", func(t *testing.T, input []byte) string {
		res, err := DecodeChat(bytes.TrimSpace(input))
		if err != nil {
			return describeErr(err)
		}
		b, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		return indent(t, b)
	})
}

// TestGoldenStream reads an SSE body with Stream: one line per Recv.
func TestGoldenStream(t *testing.T) {
	runGolden(t, "stream", func(t *testing.T, input []byte) string {
		// Golden files hold "\n" line ends; a "⏎" marks a "\r" to restore.
		body := strings.ReplaceAll(string(input), "⏎", "\r")
		s := NewStream(io.NopCloser(strings.NewReader(body)))
		defer s.Close()
		var out strings.Builder
		for i := 0; i < 1000; i++ {
			c, err := s.Recv()
			if err == io.EOF {
				out.WriteString("EOF\n")
				break
			}
			if err != nil {
				out.WriteString(describeErr(err) + "\n")
				if _, again := s.Recv(); again != err {
					t.Errorf("error not sticky: %v then %v", err, again)
				}
				break
			}
			b, _ := json.Marshal(c)
			out.Write(b)
			out.WriteByte('\n')
		}
		return out.String()
	})
}

// TestGoldenURL checks the URL and headers each kind sends: the input is
// {"kind","base_url","api_key","settings","headers","op","model","body"}
// where op is chat, embeddings (sent with Forward) or models.
func TestGoldenURL(t *testing.T) {
	runGolden(t, "url", func(t *testing.T, input []byte) string {
		var in struct {
			Kind     string            `json:"kind"`
			BaseURL  string            `json:"base_url"`
			APIKey   string            `json:"api_key"`
			Settings map[string]string `json:"settings"`
			Headers  map[string]string `json:"headers"`
			Op       string            `json:"op"`
			Model    string            `json:"model"`
		}
		if err := json.Unmarshal(input, &in); err != nil {
			t.Fatal(err)
		}
		rec := &recordingDoer{}
		p, err := providers.New(providers.Config{Kind: in.Kind, BaseURL: in.BaseURL, APIKey: in.APIKey,
			Settings: in.Settings, Headers: in.Headers, HTTP: rec})
		if err != nil {
			return "factory error: " + err.Error()
		}
		pr := p.(*Provider)
		switch in.Op {
		case "models":
			rec.body = `{"object":"list","data":[{"id":"m1"},{"id":"m2"}]}`
			_, err = pr.ListModels(t.Context())
		case "chat":
			rec.body = `{"id":"x","choices":[]}`
			_, err = pr.Chat(t.Context(), &providers.ChatRequest{Model: in.Model,
				Messages: []providers.Message{{Role: "user", Content: providers.TextContent("hi")}}})
		case "embeddings":
			rec.body = `{"object":"list","data":[]}`
			_, err = pr.Embed(t.Context(), &providers.EmbeddingRequest{Model: in.Model, Input: providers.EmbeddingInput{"hi"}})
		default:
			t.Fatalf("unknown op %q", in.Op)
		}
		if err != nil {
			return "error: " + err.Error()
		}
		return rec.describe()
	})
}

// recordingDoer answers every request with 200 and body, keeping the
// request.
type recordingDoer struct {
	req  *http.Request
	body string
}

func (d *recordingDoer) Do(req *http.Request) (*http.Response, error) {
	d.req = req
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(d.body)), Request: req}, nil
}

func (d *recordingDoer) describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", d.req.Method, d.req.URL)
	keys := make([]string, 0, len(d.req.Header))
	for k := range d.req.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %s\n", k, strings.Join(d.req.Header[k], ", "))
	}
	return b.String()
}

// describeErr shows an error with what the gateway decides on.
func describeErr(err error) string {
	var pe *providers.Error
	if !errors.As(err, &pe) {
		return "error (not *providers.Error): " + err.Error()
	}
	return fmt.Sprintf("error: %v [status=%d type=%q code=%q param=%q retryable=%t truncated=%t]",
		err, pe.Status, pe.Type, pe.Code, pe.Param, pe.Retryable(), errors.Is(err, providers.ErrTruncated))
}
