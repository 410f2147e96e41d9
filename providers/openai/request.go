package openai

import (
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/sluicehq/sluice/providers"
)

// ChatBody returns the upstream JSON body of req under quirks q. The request
// is not modified. For a stream it sets "stream":true and asks for usage in
// a last chunk (stream_options.include_usage), which ApplyQuirks removes
// again for upstreams that reject it; otherwise it clears both, since OpenAI
// rejects stream_options without stream.
func ChatBody(req *providers.ChatRequest, q Quirks, stream bool) ([]byte, error) {
	r := *req
	r.Stream = stream
	r.StreamOptions = nil
	if stream {
		r.StreamOptions = &providers.StreamOptions{IncludeUsage: true}
	}
	body, err := json.Marshal(&r)
	if err != nil {
		return nil, fmt.Errorf("openai: encoding chat request: %w", err)
	}
	return ApplyQuirks(body, q)
}

// ApplyQuirks rewrites a chat completions JSON body for an upstream with
// quirks q. It is used both for translated requests and for passthrough
// bodies, so it works on bytes and leaves every field it does not name
// untouched; a body no quirk applies to is returned as is, byte for byte.
func ApplyQuirks(body []byte, q Quirks) ([]byte, error) {
	if q == (Quirks{}) {
		return body, nil
	}
	var err error
	del := func(field string) {
		if err == nil && gjson.GetBytes(body, field).Exists() {
			body, err = sjson.DeleteBytes(body, field)
		}
	}
	move := func(from, to string, v gjson.Result) {
		if !v.Exists() || err != nil {
			return
		}
		del(from)
		if err == nil {
			body, err = sjson.SetRawBytes(body, to, []byte(v.Raw))
		}
	}
	if q.NoStreamOptions {
		del("stream_options")
	}
	if q.NoUserMetadata {
		del("user")
		del("metadata")
	}
	if q.SeedField != "" && q.SeedField != "seed" {
		move("seed", q.SeedField, gjson.GetBytes(body, "seed"))
	}
	switch q.MaxTokensField {
	case "max_tokens", "max_completion_tokens":
		mct := gjson.GetBytes(body, "max_completion_tokens")
		mt := gjson.GetBytes(body, "max_tokens")
		limit := mt
		if mct.Exists() && mct.Type != gjson.Null {
			limit = mct
		}
		other := "max_tokens"
		if q.MaxTokensField == "max_tokens" {
			other = "max_completion_tokens"
		}
		if limit.Exists() {
			del(other)
			if err == nil {
				body, err = sjson.SetRawBytes(body, q.MaxTokensField, []byte(limit.Raw))
			}
		}
	case "":
	default:
		return nil, fmt.Errorf("openai: unknown MaxTokensField %q", q.MaxTokensField)
	}
	if err != nil {
		return nil, fmt.Errorf("openai: applying quirks: %w", err)
	}
	return body, nil
}

// opPath is the endpoint of an operation, relative to the base URL.
func opPath(op providers.Operation) (string, error) {
	switch op {
	case providers.OpChat:
		return "/chat/completions", nil
	case providers.OpEmbeddings:
		return "/embeddings", nil
	}
	return "", fmt.Errorf("openai: operation %q is not supported", op)
}

// endpoint returns the URL of op for a request naming model.
func (p *Provider) endpoint(op providers.Operation, model string) (string, error) {
	path, err := opPath(op)
	if err != nil {
		return "", err
	}
	if p.azure == nil {
		return p.base + path, nil
	}
	dep := p.azure.deployment
	if dep == "" {
		dep = model
	}
	if dep == "" {
		return "", fmt.Errorf("azure provider: no deployment: set settings.%s or send a model", SettingDeployment)
	}
	return p.base + "/openai/deployments/" + url.PathEscape(dep) + path +
		"?api-version=" + url.QueryEscape(p.azure.apiVersion), nil
}

// modelsURL returns the URL of the model list.
func (p *Provider) modelsURL() string {
	if p.azure == nil {
		return p.base + "/models"
	}
	return p.base + "/openai/models?api-version=" + url.QueryEscape(p.azure.apiVersion)
}
