package openai

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/sluicehq/sluice/providers"
)

func TestParseError(t *testing.T) {
	cases := []struct {
		name   string
		status int
		header http.Header
		body   string
		want   providers.Error
	}{
		{
			name: "openai envelope", status: 429, header: http.Header{"Retry-After": {"7"}},
			body: `{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}`,
			want: providers.Error{Status: 429, Type: "requests", Code: "rate_limit_exceeded", Message: "Rate limit reached", RetryAfter: 7 * time.Second},
		},
		{
			name: "numeric code and param", status: 400,
			body: `{"error":{"message":"bad","type":"invalid_request_error","param":"temperature","code":400}}`,
			want: providers.Error{Status: 400, Type: "invalid_request_error", Code: "400", Param: "temperature", Message: "bad"},
		},
		{
			name: "azure envelope", status: 401, header: http.Header{"Retry-After-Ms": {"250"}},
			body: `{"error":{"code":"401","message":"Access denied due to invalid subscription key."}}`,
			want: providers.Error{Status: 401, Code: "401", Message: "Access denied due to invalid subscription key.", RetryAfter: 250 * time.Millisecond},
		},
		{
			name: "azure content filter", status: 400,
			body: `{"error":{"message":"The response was filtered","type":null,"param":"prompt","code":"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":{"hate":{"filtered":true,"severity":"high"}}}}}`,
			want: providers.Error{Status: 400, Code: "content_filter", Param: "prompt", Message: "The response was filtered"},
		},
		{
			name: "ollama string error", status: 404,
			body: `{"error":"model \"llama9\" not found, try pulling it first"}`,
			want: providers.Error{Status: 404, Message: `model "llama9" not found, try pulling it first`},
		},
		{
			name: "vllm top-level", status: 400,
			body: `{"object":"error","message":"max_tokens is too large","type":"BadRequestError","param":null,"code":400}`,
			want: providers.Error{Status: 400, Type: "BadRequestError", Code: "400", Message: "max_tokens is too large"},
		},
		{
			name: "mistral object message", status: 422,
			body: `{"object":"error","message":{"detail":[{"type":"extra_forbidden","loc":["body","stream_options"],"msg":"Extra inputs are not permitted"}]},"type":"invalid_request_error","param":null,"code":null}`,
			want: providers.Error{Status: 422, Type: "invalid_request_error", Message: `{"detail":[{"type":"extra_forbidden","loc":["body","stream_options"],"msg":"Extra inputs are not permitted"}]}`},
		},
		{
			name: "fastapi detail", status: 422,
			body: `{"detail":"Not Found"}`,
			want: providers.Error{Status: 422, Message: "Not Found"},
		},
		{
			name: "html", status: 502,
			body: "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n</html>\r\n",
			want: providers.Error{Status: 502, Message: "<html> <head><title>502 Bad Gateway</title></head> </html>"},
		},
		{
			name: "empty body", status: 503,
			want: providers.Error{Status: 503, Message: "Service Unavailable"},
		},
		{
			name: "json but not an object", status: 500, body: `"oops"`,
			want: providers.Error{Status: 500, Message: `"oops"`},
		},
		{
			name: "null error", status: 500, body: `{"error":null}`,
			want: providers.Error{Status: 500, Message: "Internal Server Error"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := ParseError(tc.status, tc.header, []byte(tc.body))
			if *got != tc.want {
				t.Fatalf("ParseError =\n%+v\nwant\n%+v", *got, tc.want)
			}
		})
	}
}

func TestParseErrorLongTextIsCut(t *testing.T) {
	body := strings.Repeat("é", 1000) // 2000 bytes
	got := ParseError(500, nil, []byte(body))
	if len(got.Message) > maxErrorMessage+len("…") {
		t.Fatalf("message of %d bytes not cut", len(got.Message))
	}
	if !strings.HasSuffix(got.Message, "…") || strings.ContainsRune(got.Message, '\uFFFD') {
		t.Fatalf("message cut badly: %q", got.Message[len(got.Message)-10:])
	}
}

func TestApplyQuirksRejectsUnknownField(t *testing.T) {
	if _, err := ApplyQuirks([]byte(`{"max_tokens":1}`), Quirks{MaxTokensField: "max_output_tokens"}); err == nil {
		t.Fatal("unknown MaxTokensField accepted")
	}
}

func TestDecodeEmbeddings(t *testing.T) {
	cases := []struct {
		name, body string
		want       [][]float64
		wantErr    bool
	}{
		{"floats", `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5,-1]}],"model":"m","usage":{"prompt_tokens":1,"total_tokens":1}}`, [][]float64{{0.5, -1}}, false},
		// 0.5 and -1 as little-endian float32: 0x3f000000, 0xbf800000.
		{"base64", `{"object":"list","data":[{"object":"embedding","index":0,"embedding":"AAAAPwAAgL8="}],"model":"m"}`, [][]float64{{0.5, -1}}, false},
		{"bad base64 length", `{"data":[{"embedding":"AAAA"}]}`, nil, true},
		{"error body", `{"error":{"message":"x"}}`, nil, true},
		{"no data", `{"object":"list"}`, nil, true},
		{"not json", `<html>`, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := DecodeEmbeddings([]byte(tc.body))
			if tc.wantErr {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range tc.want {
				got := res.Data[i].Embedding
				if len(got) != len(want) {
					t.Fatalf("vector %d = %v, want %v", i, got, want)
				}
				for j := range want {
					if got[j] != want[j] {
						t.Fatalf("vector %d = %v, want %v", i, got, want)
					}
				}
			}
		})
	}
}

func TestDecodeModels(t *testing.T) {
	ids, err := DecodeModels([]byte(`{"object":"list","data":[{"id":"a","object":"model"},{"id":""},{"id":"b"}]}`))
	if err != nil || strings.Join(ids, ",") != "a,b" {
		t.Fatalf("DecodeModels = %v, %v", ids, err)
	}
	if _, err := DecodeModels([]byte(`nope`)); err == nil {
		t.Fatal("invalid JSON accepted")
	}
}

// The fuzz targets must never panic, and keep their invariants on any
// input; their seed corpora run in every plain go test.

func FuzzDecodeChunk(f *testing.F) {
	for _, s := range []string{
		`{"id":"c","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}]}`,
		`{"choices":[],"usage":{"prompt_tokens":1,"prompt_cache_hit_tokens":3}}`,
		`{"error":{"message":"m","code":502}}`,
		`{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{"}}]}}]}`,
		`null`, `[]`, `"x"`, `{`, ``, `{"choices":[{"delta":{"content":[1]}}]}`,
	} {
		f.Add("", []byte(s))
		f.Add("error", []byte(s))
	}
	f.Fuzz(func(t *testing.T, event string, data []byte) {
		c, err := DecodeChunk(event, data)
		if err != nil && c != nil {
			t.Fatal("chunk and error together")
		}
		if err != nil {
			if _, ok := err.(*providers.Error); !ok {
				t.Fatalf("error %T is not *providers.Error", err)
			}
		}
	})
}

func FuzzStream(f *testing.F) {
	f.Add([]byte("data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: [DONE]\n\n"))
	f.Add([]byte("data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n"))
	f.Add([]byte(": c\r\n\r\nevent: error\r\ndata: {}\r\n\r\n"))
	f.Add([]byte("data: {\"choices\":[]}\n\ndata: [DONE]"))
	f.Add([]byte("data"))
	f.Fuzz(func(t *testing.T, body []byte) {
		s := NewStream(io.NopCloser(bytes.NewReader(body)))
		defer s.Close()
		for range 10000 {
			c, err := s.Recv()
			if err == io.EOF {
				if !bytes.Contains(body, []byte("[DONE]")) {
					t.Fatal("clean end without [DONE]")
				}
				return
			}
			if err != nil {
				return
			}
			if c == nil {
				t.Fatal("nil chunk without error")
			}
		}
		t.Fatal("stream did not end")
	})
}

func FuzzDecodeChat(f *testing.F) {
	for _, s := range []string{
		`{"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}`,
		`{"id":"x","choices":[],"usage":{"prompt_cache_hit_tokens":2}}`,
		`{"error":"boom"}`, `{}`, `null`, `{"choices":[{"message":{"content":{}}}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := DecodeChat(data)
		if (res == nil) == (err == nil) {
			t.Fatalf("DecodeChat = %v, %v", res, err)
		}
	})
}

func FuzzParseError(f *testing.F) {
	for _, s := range []string{
		`{"error":{"message":"m","type":"t","param":"p","code":1}}`, `{"error":"s"}`,
		`{"message":{"a":[1]}}`, `{"detail":[{"msg":"x"}]}`, `<html>`, "\xff\xfe", ``,
	} {
		f.Add(500, []byte(s))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := ParseError(status, http.Header{"Retry-After": {"1"}}, body)
		if e.Status != status {
			t.Fatal("status lost")
		}
		if len(body) > 0 && e.Message == "" && http.StatusText(status) != "" {
			t.Fatalf("no message for %q", body)
		}
	})
}

func FuzzApplyQuirks(f *testing.F) {
	for _, s := range []string{
		`{"model":"m","seed":1,"max_tokens":2,"max_completion_tokens":3,"stream_options":{},"user":"u","metadata":{}}`,
		`{"max_tokens":null,"max_completion_tokens":null}`, `{}`, `[]`, `{"a":"\"seed\":1"}`,
	} {
		f.Add([]byte(s))
	}
	mistral := Quirks{NoStreamOptions: true, MaxTokensField: "max_tokens", SeedField: "random_seed", NoUserMetadata: true}
	openaiQ := Quirks{MaxTokensField: "max_completion_tokens"}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, q := range []Quirks{mistral, openaiQ} {
			out, err := ApplyQuirks(body, q)
			if err != nil || !json.Valid(body) || !gjson.ValidBytes(body) {
				continue
			}
			if !json.Valid(out) {
				t.Fatalf("valid %s became invalid %s", body, out)
			}
			if q.NoStreamOptions && gjson.GetBytes(out, "stream_options").Exists() {
				t.Fatalf("stream_options left in %s", out)
			}
		}
	})
}
