package openai

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/sluicehq/sluice/providers"
)

// hasError reports whether raw, the "error" member of an answer, holds an
// error (it is absent or null in a normal answer).
func hasError(raw json.RawMessage) bool {
	return len(raw) > 0 && !bytes.Equal(raw, []byte("null"))
}

// DecodeChat decodes a 2xx chat completion body. A body that is not JSON,
// or that holds an {"error":…} instead of a completion (some
// OpenAI-compatible servers answer errors with 200), is an error.
func DecodeChat(data []byte) (*providers.ChatResponse, error) {
	var w struct {
		providers.ChatResponse
		Usage *wireUsage      `json:"usage"`
		Error json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, invalidJSON(err)
	}
	if hasError(w.Error) {
		return nil, streamError(data)
	}
	if w.Choices == nil && w.ID == "" {
		return nil, invalidJSON(errors.New("no choices in chat completion"))
	}
	w.ChatResponse.Usage = w.Usage.unified()
	return &w.ChatResponse, nil
}

// wireUsage is usage as sent, with the cache counter DeepSeek reports
// instead of prompt_tokens_details.cached_tokens.
type wireUsage struct {
	providers.Usage
	PromptCacheHitTokens int `json:"prompt_cache_hit_tokens"`
}

// unified returns the usage with DeepSeek's cache hits as cached tokens.
func (u *wireUsage) unified() *providers.Usage {
	if u == nil {
		return nil
	}
	out := u.Usage
	if u.PromptCacheHitTokens > 0 && (out.PromptTokensDetails == nil || out.PromptTokensDetails.CachedTokens == 0) {
		d := providers.PromptTokensDetails{}
		if out.PromptTokensDetails != nil {
			d = *out.PromptTokensDetails
		}
		d.CachedTokens = u.PromptCacheHitTokens
		out.PromptTokensDetails = &d
	}
	return &out
}

// EmbeddingBody returns the upstream JSON body of an embeddings request.
func EmbeddingBody(req *providers.EmbeddingRequest) ([]byte, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("openai: encoding embeddings request: %w", err)
	}
	return body, nil
}

// DecodeEmbeddings decodes a 2xx embeddings body. Vectors may be JSON
// numbers or, for encoding_format "base64", a base64 string of
// little-endian float32 values; both decode to []float64.
func DecodeEmbeddings(data []byte) (*providers.EmbeddingResponse, error) {
	var w struct {
		Object string `json:"object"`
		Data   []struct {
			Object    string          `json:"object"`
			Index     int             `json:"index"`
			Embedding json.RawMessage `json:"embedding"`
		} `json:"data"`
		Model string           `json:"model"`
		Usage *providers.Usage `json:"usage"`
		Error json.RawMessage  `json:"error"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, invalidJSON(err)
	}
	if hasError(w.Error) {
		return nil, streamError(data)
	}
	if w.Data == nil {
		return nil, invalidJSON(errors.New("no data in embeddings answer"))
	}
	out := &providers.EmbeddingResponse{
		Object: w.Object,
		Model:  w.Model,
		Usage:  w.Usage,
		Data:   make([]providers.Embedding, len(w.Data)),
	}
	for i, d := range w.Data {
		vec, err := decodeVector(d.Embedding)
		if err != nil {
			return nil, invalidJSON(fmt.Errorf("embedding %d: %w", i, err))
		}
		out.Data[i] = providers.Embedding{Object: d.Object, Index: d.Index, Embedding: vec}
	}
	return out, nil
}

// decodeVector reads a list of numbers or a base64 string of float32s.
func decodeVector(raw json.RawMessage) ([]float64, error) {
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("base64 embedding: %w", err)
		}
		if len(b)%4 != 0 {
			return nil, errors.New("base64 embedding is not a list of float32")
		}
		vec := make([]float64, len(b)/4)
		for i := range vec {
			vec[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(b[i*4:])))
		}
		return vec, nil
	}
	var vec []float64
	if err := json.Unmarshal(raw, &vec); err != nil {
		return nil, err
	}
	return vec, nil
}

// DecodeModels decodes a model list {"object":"list","data":[{"id":…}]}
// into the model ids.
func DecodeModels(data []byte) ([]string, error) {
	var w struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
		Error json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, invalidJSON(err)
	}
	if hasError(w.Error) {
		return nil, streamError(data)
	}
	ids := make([]string, 0, len(w.Data))
	for _, m := range w.Data {
		if m.ID != "" {
			ids = append(ids, m.ID)
		}
	}
	return ids, nil
}
