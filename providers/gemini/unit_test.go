package gemini

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluicehq/sluice/providers"
)

func TestErrorEnvelope(t *testing.T) {
	cases := []struct {
		name   string
		status int
		header http.Header
		body   string
		want   providers.Error
	}{
		{
			name: "quota with RetryInfo", status: 429,
			body: `{"error":{"code":429,"message":"You exceeded your current quota.","status":"RESOURCE_EXHAUSTED","details":[
				{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaMetric":"x"}]},
				{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"38s"}]}}`,
			want: providers.Error{Status: 429, Type: "RESOURCE_EXHAUSTED", Message: "You exceeded your current quota.", RetryAfter: 38 * time.Second},
		},
		{
			name: "Retry-After header wins", status: 429, header: http.Header{"Retry-After": {"3"}},
			body: `{"error":{"code":429,"message":"slow down","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"38s"}]}}`,
			want: providers.Error{Status: 429, Type: "RESOURCE_EXHAUSTED", Message: "slow down", RetryAfter: 3 * time.Second},
		},
		{
			name: "invalid key", status: 400,
			body: `{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}}`,
			want: providers.Error{Status: 400, Type: "INVALID_ARGUMENT", Code: "API_KEY_INVALID", Message: "API key not valid. Please pass a valid API key."},
		},
		{
			name: "bad field", status: 400,
			body: `{"error":{"code":400,"message":"Invalid value","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"generation_config.temperature","description":"x"}]}]}}`,
			want: providers.Error{Status: 400, Type: "INVALID_ARGUMENT", Param: "generation_config.temperature", Message: "Invalid value"},
		},
		{
			name: "array envelope of a streaming endpoint", status: 503,
			body: `[{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}]`,
			want: providers.Error{Status: 503, Type: "UNAVAILABLE", Message: "The model is overloaded."},
		},
		{
			name: "not JSON", status: 502, body: "<html>Bad Gateway</html>",
			want: providers.Error{Status: 502, Message: "<html>Bad Gateway</html>"},
		},
		{
			name: "empty", status: 504,
			want: providers.Error{Status: 504, Message: "Gateway Timeout"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.header
			if h == nil {
				h = http.Header{}
			}
			resp := &http.Response{StatusCode: tc.status, Header: h, Body: ioNopCloser(tc.body)}
			err := errorFromResponse(resp)
			pe, ok := err.(*providers.Error)
			require.True(t, ok)
			assert.Equal(t, tc.want, *pe)
		})
	}
}

func TestSanitizeSchemaEdges(t *testing.T) {
	cases := []struct {
		name, in, want string
		wantErr        bool
	}{
		{name: "absent", in: ``, want: ``},
		{name: "null", in: `null`, want: ``},
		{name: "not an object", in: `[1]`, wantErr: true},
		{name: "invalid JSON", in: `{`, wantErr: true},
		{name: "recursive ref ends", in: `{"type":"object","properties":{"n":{"$ref":"#/$defs/N"}},"$defs":{"N":{"type":"object","properties":{"next":{"$ref":"#/$defs/N"}}}}}`,
			want: `{"properties":{"n":{"properties":{"next":{"properties":{"next":{"properties":{"next":{"properties":{"next":{"properties":{"next":{"properties":{"next":{"properties":{"next":{"properties":{"next":{"type":"OBJECT"}},"type":"OBJECT"}},"type":"OBJECT"}},"type":"OBJECT"}},"type":"OBJECT"}},"type":"OBJECT"}},"type":"OBJECT"}},"type":"OBJECT"}},"type":"OBJECT"}},"type":"OBJECT"}`},
		{name: "unknown ref", in: `{"type":"object","properties":{"x":{"$ref":"https://example.com/s.json"}}}`, want: `{"properties":{"x":{"type":"OBJECT"}},"type":"OBJECT"}`},
		{name: "null only", in: `{"type":"object","properties":{"x":{"type":"null"}}}`, want: `{"properties":{"x":{"nullable":true}},"type":"OBJECT"}`},
		{name: "root without properties but anyOf", in: `{"anyOf":[{"type":"object","properties":{"a":{"type":"string"}}},{"type":"object","properties":{"b":{"type":"string"}}}]}`,
			want: `{"anyOf":[{"properties":{"a":{"type":"STRING"}},"type":"OBJECT"},{"properties":{"b":{"type":"STRING"}},"type":"OBJECT"}]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := sanitizeSchema(json.RawMessage(tc.in))
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(got))
		})
	}
}

func TestNeedsSignature(t *testing.T) {
	for model, want := range map[string]bool{
		"gemini-3-pro-preview":        true,
		"gemini-3.1-flash":            true,
		"models/gemini-3-flash":       true,
		"gemini-10-ultra":             true,
		"gemini-2.5-pro":              false,
		"gemini-1.5-flash":            false,
		"gemini-flash-latest":         false,
		"gemma-3-27b-it":              false,
		"tunedModels/gemini-3-custom": true,
	} {
		assert.Equal(t, want, needsSignature(model), model)
	}
}

func TestCallIDRoundTrip(t *testing.T) {
	for _, tc := range []struct{ id, sig string }{{"call_1", ""}, {"call_2", "CiQB+/=="}, {"fc_x", "abc"}} {
		joined := joinCallID(tc.id, tc.sig)
		id, sig := splitCallID(joined)
		assert.Equal(t, tc.id, id)
		assert.Equal(t, tc.sig, sig)
	}
}

func TestSmallHelpers(t *testing.T) {
	assert.Equal(t, "image/jpeg", guessMIME("/a/b"))
	assert.Equal(t, "image/png", guessMIME("/a/B.PNG"))
	assert.Equal(t, "application/pdf", guessMIME("/doc.pdf"))

	mime, data, err := parseDataURL("data:image/png;base64,AAAA")
	require.NoError(t, err)
	assert.Equal(t, "image/png", mime)
	assert.Equal(t, "AAAA", data)
	mime, _, err = parseDataURL("data:;base64,AAAA")
	require.NoError(t, err)
	assert.Equal(t, "text/plain", mime)
	_, _, err = parseDataURL("data:image/png;base64")
	require.Error(t, err)
	_, _, err = parseDataURL("data:text/plain,%zz")
	require.Error(t, err)

	args, err := callArgs(`  { "a" : 1 }  `)
	require.NoError(t, err)
	assert.Equal(t, `{"a":1}`, string(args))
	_, err = callArgs(`{"a":`)
	require.Error(t, err)

	assert.Equal(t, `{"a":[1,2]}`, string(toolResponse(providers.TextContent(` {"a": [1, 2]} `))))
	assert.Equal(t, `{"content":"[1]"}`, string(toolResponse(providers.TextContent(`[1]`))))
	assert.Equal(t, `{"content":"{broken"}`, string(toolResponse(providers.TextContent(`{broken`))))
	assert.Equal(t, "{}", compactArgs(nil))
	assert.Equal(t, "{}", compactArgs(json.RawMessage("null")))
}

func TestFallbackIDs(t *testing.T) {
	a, b := newID(), newID()
	assert.True(t, strings.HasPrefix(a, "chatcmpl-"))
	assert.Len(t, a, len("chatcmpl-")+24)
	assert.NotEqual(t, a, b)
}

func TestDecodeEmbeddingsMismatch(t *testing.T) {
	_, err := decodeEmbeddings([]byte(`{"embeddings":[{"values":[1]}]}`), "m", 2)
	require.Error(t, err)
	_, err = decodeEmbeddings([]byte(`{`), "m", 1)
	require.Error(t, err)
	resp, err := decodeEmbeddings([]byte(`{"embedding":{"values":[0.5,-0.5]}}`), "m", 1)
	require.NoError(t, err)
	assert.Equal(t, []float64{0.5, -0.5}, resp.Data[0].Embedding)
}

func ioNopCloser(s string) io.ReadCloser { return io.NopCloser(strings.NewReader(s)) }
