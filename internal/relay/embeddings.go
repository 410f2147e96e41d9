package relay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/sluicehq/sluice/internal/apierr"
	"github.com/sluicehq/sluice/providers"
)

// Embeddings relays POST /v1/embeddings: passed through to
// OpenAI-compatible targets, translated for other Embedders. Targets that
// cannot embed are left out; when none can, the answer is 400.
func (r *Relay) Embeddings(ctx context.Context, w http.ResponseWriter, req *Request) *Result {
	var able []Target
	for _, t := range req.Targets {
		_, pt := passthrough(t.Provider, providers.OpEmbeddings)
		_, emb := t.Provider.(providers.Embedder)
		if pt || emb {
			able = append(able, t)
		}
	}
	if len(req.Targets) > 0 && len(able) == 0 {
		res := &Result{BytesIn: int64(len(req.Body)), Status: http.StatusBadRequest}
		e := &apierr.Error{Status: http.StatusBadRequest, Param: "model", Code: "model_not_supported",
			Message: fmt.Sprintf("model %q cannot make embeddings: its providers do not support them; use an embedding model", req.Model)}
		res.ErrMessage = e.Message
		cw := newClientWriter(w, r.cfg.Now)
		dialectOpenAI.writeError(cw, &failure{status: e.Status, param: e.Param, code: e.Code, message: e.Message})
		res.BytesOut = cw.n
		return res
	}
	var unified *providers.EmbeddingRequest
	var decodeErr error
	m := &meter{}
	res := r.serve(ctx, w, req, dialectOpenAI, able, func(a *attempt) error {
		*m = meter{}
		if pt, ok := passthrough(a.t.Provider, providers.OpEmbeddings); ok {
			return a.passEmbeddings(pt, m)
		}
		if unified == nil && decodeErr == nil {
			unified, decodeErr = decodeEmbeddings(req.Body)
		}
		if decodeErr != nil {
			return decodeErr
		}
		er := *unified
		er.Model = a.t.UpstreamModel
		resp, err := a.t.Provider.(providers.Embedder).Embed(a.ctx, &er)
		if err != nil {
			return err
		}
		a.status = http.StatusOK
		resp.Model = req.Model
		m.unified(resp.Usage)
		data, err := json.Marshal(resp)
		if err != nil {
			return &providers.Error{Err: fmt.Errorf("encoding the answer: %w", err)}
		}
		return a.writeJSON(http.StatusOK, data)
	})
	if res.answered {
		m.result(res, req.Body)
	}
	return res
}

func decodeEmbeddings(body []byte) (*providers.EmbeddingRequest, error) {
	var er providers.EmbeddingRequest
	if err := json.Unmarshal(body, &er); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return nil, apierr.BadRequest(te.Field, fmt.Sprintf("%s: expected %s, got %s", te.Field, te.Type, te.Value))
		}
		return nil, apierr.BadRequest("input", "the request body is not a valid embeddings request: "+err.Error())
	}
	if len(er.Input) == 0 {
		return nil, apierr.BadRequest("input", "input: a string or a non-empty array of strings is required")
	}
	return &er, nil
}

// passEmbeddings forwards the body with only "model" rewritten.
func (a *attempt) passEmbeddings(pt providers.Passthrough, m *meter) error {
	body, err := sjson.SetBytes(a.c.req.Body, "model", a.t.UpstreamModel)
	if err != nil {
		return apierr.BadRequest("model", "the request body could not be rewritten: "+err.Error())
	}
	resp, err := a.forward(pt, providers.OpEmbeddings, body, openAIError)
	if err != nil {
		return err
	}
	data, err := readJSON(resp)
	if err != nil {
		return err
	}
	if pe := openAIBodyError("", data); pe != nil {
		return pe
	}
	if u := gjson.Get(str(data), "usage"); u.IsObject() {
		m.openAI(u)
	}
	return a.writeJSON(resp.StatusCode, setModel(data, "model", a.c.req.Model))
}
