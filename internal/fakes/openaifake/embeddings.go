package openaifake

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"hash/fnv"
	"math"
	"net/http"
	"strings"
)

// EmbeddingDims is the length of the fake's vectors unless the request
// asks for "dimensions".
const EmbeddingDims = 8

type embeddingRequest struct {
	Model          string          `json:"model"`
	Input          json.RawMessage `json:"input"`
	EncodingFormat string          `json:"encoding_format"`
	Dimensions     int             `json:"dimensions"`
}

type embeddingList struct {
	Object string      `json:"object"`
	Data   []embedding `json:"data"`
	Model  string      `json:"model"`
	Usage  struct {
		PromptTokens int `json:"prompt_tokens"`
		TotalTokens  int `json:"total_tokens"`
	} `json:"usage"`
}

type embedding struct {
	Object    string `json:"object"`
	Index     int    `json:"index"`
	Embedding any    `json:"embedding"` // []float32, or a base64 string
}

// embeddings answers /embeddings with one deterministic unit vector per
// input, derived from a hash of the input.
func (c *call) embeddings() {
	var req embeddingRequest
	if err := json.Unmarshal(c.body, &req); err != nil {
		c.badRequest("We could not parse the JSON body of your request.", "", "")
		return
	}
	if req.Model == "" && !c.azure {
		c.badRequest("you must provide a model parameter", "", "")
		return
	}
	inputs, words, err := embeddingInputs(req.Input)
	if err != nil {
		c.badRequest(err.Error(), "input", "")
		return
	}
	if req.EncodingFormat != "" && req.EncodingFormat != "float" && req.EncodingFormat != "base64" {
		c.badRequest("Invalid value for 'encoding_format': must be 'float' or 'base64'.", "encoding_format", "")
		return
	}
	dims := EmbeddingDims
	if req.Dimensions > 0 {
		dims = min(req.Dimensions, 4096)
	}
	if c.fault.InvalidJSON {
		c.writeInvalidJSON()
		return
	}
	out := embeddingList{Object: "list", Model: req.Model, Data: make([]embedding, len(inputs))}
	if out.Model == "" {
		out.Model = c.deployment
	}
	for i, in := range inputs {
		vec := Vector(in, dims)
		var v any = vec
		if req.EncodingFormat == "base64" {
			b := make([]byte, 4*len(vec))
			for j, x := range vec {
				binary.LittleEndian.PutUint32(b[4*j:], math.Float32bits(x))
			}
			v = base64.StdEncoding.EncodeToString(b)
		}
		out.Data[i] = embedding{Object: "embedding", Index: i, Embedding: v}
	}
	out.Usage.PromptTokens, out.Usage.TotalTokens = words, words
	c.writeJSON(http.StatusOK, out)
}

// embeddingInputs reads the input (a string, strings, tokens or lists of
// tokens) as texts to hash, and counts its tokens (words of the texts).
func embeddingInputs(raw json.RawMessage) ([]string, int, error) {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, countWords(one), nil
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil && len(many) > 0 {
		n := 0
		for _, s := range many {
			n += countWords(s)
		}
		return many, n, nil
	}
	var tokens []int
	if json.Unmarshal(raw, &tokens) == nil && len(tokens) > 0 {
		return []string{string(raw)}, len(tokens), nil
	}
	var lists [][]int
	if json.Unmarshal(raw, &lists) == nil && len(lists) > 0 {
		out, n := make([]string, len(lists)), 0
		for i, l := range lists {
			b, _ := json.Marshal(l)
			out[i] = string(b)
			n += len(l)
		}
		return out, n, nil
	}
	return nil, 0, inputError{}
}

type inputError struct{}

func (inputError) Error() string {
	return "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference."
}

// Vector is the fake's embedding of text: dims values from a hash of the
// text, scaled to unit length. Tests use it to know what to expect.
func Vector(text string, dims int) []float32 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(text))
	state := h.Sum64()
	vec := make([]float32, dims)
	var norm float64
	for i := range vec {
		// splitmix64
		state += 0x9e3779b97f4a7c15
		z := state
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		z ^= z >> 31
		x := float64(z>>11)/float64(1<<53)*2 - 1
		vec[i] = float32(x)
		norm += x * x
	}
	if norm > 0 {
		s := 1 / math.Sqrt(norm)
		for i := range vec {
			vec[i] = float32(float64(vec[i]) * s)
		}
	}
	return vec
}

// modelObject is one entry of the model list.
type modelObject struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

func (f *Fake) modelIDs() []string {
	if f.Models != nil {
		return f.Models
	}
	return DefaultModels()
}

// models answers GET /models.
func (c *call) models() {
	ids := c.f.modelIDs()
	list := struct {
		Object string        `json:"object"`
		Data   []modelObject `json:"data"`
	}{Object: "list", Data: make([]modelObject, len(ids))}
	for i, id := range ids {
		list.Data[i] = modelObject{ID: id, Object: "model", Created: Created, OwnedBy: "system"}
	}
	c.writeJSON(http.StatusOK, list)
}

// model answers GET /models/{id}.
func (c *call) model() {
	id := strings.TrimPrefix(c.r.URL.Path, "/v1/models/")
	for _, m := range c.f.modelIDs() {
		if m == id {
			c.writeJSON(http.StatusOK, modelObject{ID: id, Object: "model", Created: Created, OwnedBy: "system"})
			return
		}
	}
	c.writeError(http.StatusNotFound, "The model '"+id+"' does not exist", "invalid_request_error", "model", "model_not_found")
}
