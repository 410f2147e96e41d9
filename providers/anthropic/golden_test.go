package anthropic

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/providers"
)

var update = flag.Bool("update", false, "rewrite the expected output of golden files")

// goldenCreated is the creation time the decoders report in golden tests.
const goldenCreated = 1700000000

// separator splits a golden file into input and expected output.
const separator = "\n-----\n"

// golden is one golden file: "# key: value" header lines, the input, the
// separator line, the expected output.
type golden struct {
	path   string
	header map[string]string
	input  []byte
	want   string
}

func loadGoldens(t *testing.T, dir string) []golden {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files in testdata/%s: %v", dir, err)
	}
	var out []golden
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		in, want, ok := strings.Cut(string(raw), separator)
		if !ok {
			t.Fatalf("%s: no separator line", f)
		}
		g := golden{path: f, header: map[string]string{}, want: want}
		var body []string
		for _, line := range strings.Split(in, "\n") {
			if k, v, ok := strings.Cut(strings.TrimPrefix(line, "# "), ": "); strings.HasPrefix(line, "# ") && ok && len(body) == 0 {
				g.header[k] = v
				continue
			}
			body = append(body, line)
		}
		g.input = []byte(strings.Join(body, "\n"))
		out = append(out, g)
	}
	return out
}

// check compares got with the expected output, or rewrites it with -update.
func (g golden) check(t *testing.T, got string) {
	t.Helper()
	got = strings.TrimRight(got, "\n") + "\n"
	if *update {
		raw, err := os.ReadFile(g.path)
		if err != nil {
			t.Fatal(err)
		}
		in, _, _ := strings.Cut(string(raw), separator)
		if err := os.WriteFile(g.path, []byte(in+separator+got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got != g.want {
		t.Errorf("%s: output differs\n--- got\n%s\n--- want\n%s", g.path, got, g.want)
	}
}

func name(path string) string { return strings.TrimSuffix(filepath.Base(path), ".txt") }

func pretty(t *testing.T, v any) string {
	t.Helper()
	var b []byte
	switch x := v.(type) {
	case []byte:
		b = x
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		t.Fatalf("invalid JSON %s: %v", b, err)
	}
	return buf.String()
}

// errLine renders an error for a golden file.
func errLine(err error) string {
	var pe *providers.Error
	if errors.As(err, &pe) {
		s := fmt.Sprintf("error: status=%d type=%s param=%s message=%s", pe.Status, pe.Type, pe.Param, pe.Message)
		if pe.Err != nil {
			s += " cause=" + pe.Err.Error()
		}
		if errors.Is(err, providers.ErrTruncated) {
			s += " [truncated]"
		}
		return s
	}
	return "error: " + err.Error()
}

func optionsFrom(t *testing.T, h map[string]string) options {
	t.Helper()
	settings := map[string]string{}
	if s := h["settings"]; s != "" {
		if err := json.Unmarshal([]byte(s), &settings); err != nil {
			t.Fatal(err)
		}
	}
	p, err := New(providers.Config{Settings: settings})
	if err != nil {
		t.Fatal(err)
	}
	return p.opts
}

// TestGoldenRequest: unified request → Anthropic request body.
func TestGoldenRequest(t *testing.T) {
	for _, g := range loadGoldens(t, "request") {
		t.Run(name(g.path), func(t *testing.T) {
			var req providers.ChatRequest
			if err := json.Unmarshal(g.input, &req); err != nil {
				t.Fatal(err)
			}
			body, tr, err := buildRequest(&req, optionsFrom(t, g.header), g.header["stream"] == "true")
			if err != nil {
				g.check(t, errLine(err))
				return
			}
			out := pretty(t, body)
			if tr.jsonTool != "" {
				out += "\n# json tool: " + tr.jsonTool
			}
			g.check(t, out)
		})
	}
}

// TestGoldenResponse: Anthropic Message → unified chat completion.
func TestGoldenResponse(t *testing.T) {
	for _, g := range loadGoldens(t, "response") {
		t.Run(name(g.path), func(t *testing.T) {
			resp, err := decodeResponse(g.input, translation{jsonTool: g.header["json tool"]}, goldenCreated)
			if err != nil {
				g.check(t, errLine(err))
				return
			}
			g.check(t, pretty(t, resp))
		})
	}
}

// TestGoldenStream: Anthropic SSE stream → unified chunks, one per line,
// through the real stream reader; the last line is how the stream ended.
func TestGoldenStream(t *testing.T) {
	for _, g := range loadGoldens(t, "stream") {
		t.Run(name(g.path), func(t *testing.T) {
			s := newStream(io.NopCloser(bytes.NewReader(g.input)), nil, newDecoder(translation{jsonTool: g.header["json tool"]}, goldenCreated))
			defer s.Close()
			var lines []string
			for {
				c, err := s.Recv()
				if err == io.EOF {
					lines = append(lines, "EOF")
					break
				}
				if err != nil {
					lines = append(lines, errLine(err))
					break
				}
				b, _ := json.Marshal(c)
				lines = append(lines, string(b))
			}
			g.check(t, strings.Join(lines, "\n"))
		})
	}
}

// TestGoldenIngressRequest: Anthropic request → unified request.
func TestGoldenIngressRequest(t *testing.T) {
	for _, g := range loadGoldens(t, "ingress_request") {
		t.Run(name(g.path), func(t *testing.T) {
			req, err := RequestToUnified(g.input)
			if err != nil {
				g.check(t, errLine(err))
				return
			}
			g.check(t, pretty(t, req))
		})
	}
}

// TestGoldenIngressResponse: unified chat completion → Anthropic Message.
func TestGoldenIngressResponse(t *testing.T) {
	for _, g := range loadGoldens(t, "ingress_response") {
		t.Run(name(g.path), func(t *testing.T) {
			var resp providers.ChatResponse
			if err := json.Unmarshal(g.input, &resp); err != nil {
				t.Fatal(err)
			}
			b, err := ResponseFromUnified(&resp, g.header["model"])
			if err != nil {
				g.check(t, errLine(err))
				return
			}
			g.check(t, pretty(t, b))
		})
	}
}

// TestGoldenIngressStream: unified chunks (one JSON per line; a last line
// "FINISH" or "ERROR <status> <message>") → Anthropic SSE events.
func TestGoldenIngressStream(t *testing.T) {
	for _, g := range loadGoldens(t, "ingress_stream") {
		t.Run(name(g.path), func(t *testing.T) {
			enc := NewStreamEncoder(g.header["model"])
			var out bytes.Buffer
			write := func(evs ...Event) {
				for _, e := range evs {
					fmt.Fprintf(&out, "event: %s\ndata: %s\n\n", e.Name, e.Data)
				}
			}
			for _, line := range strings.Split(strings.TrimSpace(string(g.input)), "\n") {
				switch {
				case line == "FINISH":
					write(enc.Finish()...)
				case strings.HasPrefix(line, "ERROR "):
					var status int
					var msg string
					fmt.Sscanf(line, "ERROR %d", &status)
					_, msg, _ = strings.Cut(strings.TrimPrefix(line, "ERROR "), " ")
					write(enc.Error(&providers.Error{Status: status, Message: msg}))
				case line == "TRUNCATED":
					write(enc.Error(&providers.Error{Err: providers.ErrTruncated}))
				default:
					var c providers.ChatChunk
					if err := json.Unmarshal([]byte(line), &c); err != nil {
						t.Fatalf("%s: %v", line, err)
					}
					evs, err := enc.Encode(&c)
					if err != nil {
						t.Fatal(err)
					}
					write(evs...)
				}
			}
			g.check(t, out.String())
		})
	}
}
