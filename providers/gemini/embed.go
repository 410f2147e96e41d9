package gemini

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/sluicehq/sluice/providers"
)

// maxModelPages bounds how many pages ListModels follows.
const maxModelPages = 50

// Embed embeds one input with :embedContent, several with
// :batchEmbedContents. Gemini reports no token usage for embeddings, so
// Usage is nil.
func (p *Provider) Embed(ctx context.Context, req *providers.EmbeddingRequest) (*providers.EmbeddingResponse, error) {
	method, body, err := embedBody(req)
	if err != nil {
		return nil, err
	}
	ctx, cancel := p.attemptContext(ctx)
	defer cancel()
	resp, err := p.send(ctx, http.MethodPost, p.modelURL(req.Model, method), body)
	if err != nil {
		return nil, err
	}
	defer providers.DrainClose(resp.Body)
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, &providers.Error{Err: fmt.Errorf("gemini: reading response: %w", err)}
	}
	return decodeEmbeddings(raw, req.Model, len(req.Input))
}

// embedBody picks the method and builds its body.
func embedBody(req *providers.EmbeddingRequest) (method string, body []byte, err error) {
	if len(req.Input) == 0 {
		return "", nil, badRequest("input must not be empty")
	}
	one := func(text, model string) embedContentRequest {
		return embedContentRequest{Model: model, Content: content{Parts: []part{{Text: text}}}, OutputDimensionality: req.Dimensions}
	}
	if len(req.Input) == 1 {
		body, err = json.Marshal(one(req.Input[0], ""))
		return "embedContent", body, err
	}
	name := req.Model
	if !strings.Contains(name, "/") {
		name = "models/" + name
	}
	batch := batchEmbedRequest{Requests: make([]embedContentRequest, len(req.Input))}
	for i, in := range req.Input {
		batch.Requests[i] = one(in, name)
	}
	body, err = json.Marshal(batch)
	return "batchEmbedContents", body, err
}

// decodeEmbeddings translates either embedding answer; want is the number
// of inputs, which must match the number of vectors.
func decodeEmbeddings(raw []byte, model string, want int) (*providers.EmbeddingResponse, error) {
	var r embedResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, &providers.Error{Err: fmt.Errorf("gemini: invalid JSON from upstream: %w", err)}
	}
	vecs := r.Embeddings
	if r.Embedding != nil {
		vecs = append(vecs, *r.Embedding)
	}
	if len(vecs) != want {
		return nil, &providers.Error{Err: fmt.Errorf("gemini: upstream returned %d embeddings for %d inputs", len(vecs), want)}
	}
	out := &providers.EmbeddingResponse{Object: "list", Model: model, Data: make([]providers.Embedding, len(vecs))}
	for i, v := range vecs {
		values := v.Values
		if values == nil {
			values = []float64{}
		}
		out.Data[i] = providers.Embedding{Object: "embedding", Index: i, Embedding: values}
	}
	return out, nil
}

// ListModels returns the model ids (without "models/") of GET models,
// following nextPageToken.
func (p *Provider) ListModels(ctx context.Context) ([]string, error) {
	ctx, cancel := p.attemptContext(ctx)
	defer cancel()
	var names []string
	token := ""
	for page := 0; page < maxModelPages; page++ {
		q := url.Values{"pageSize": {"1000"}}
		if token != "" {
			q.Set("pageToken", token)
		}
		resp, err := p.send(ctx, http.MethodGet, p.root+"/models?"+q.Encode(), nil)
		if err != nil {
			return nil, err
		}
		raw, err := io.ReadAll(resp.Body)
		providers.DrainClose(resp.Body)
		if err != nil {
			return nil, &providers.Error{Err: fmt.Errorf("gemini: reading response: %w", err)}
		}
		var r listModelsResponse
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, &providers.Error{Err: fmt.Errorf("gemini: invalid JSON from upstream: %w", err)}
		}
		for _, m := range r.Models {
			names = append(names, strings.TrimPrefix(m.Name, "models/"))
		}
		if r.NextPageToken == "" {
			return names, nil
		}
		token = r.NextPageToken
	}
	return names, nil
}
