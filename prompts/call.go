package prompts

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/sluicehq/sluice/internal/apierr"
)

// Call is a decoded POST /v1/prompts/{slug} body.
type Call struct {
	// Variables are the values of the prompt's variables.
	Variables map[string]any
	// Stream asks for chat.completion.chunk events.
	Stream bool
	// Overrides are the other top-level fields: chat parameters the
	// prompt lets callers set.
	Overrides map[string]json.RawMessage
}

// ParseCall decodes a prompt call body: {"variables":{…},"stream":bool}
// plus overrides. Its errors are 400 *apierr.Error.
func ParseCall(body []byte) (*Call, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, apierr.BadRequest("", `empty body: send {"variables":{…}}`)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, apierr.BadRequest("", `the body must be a JSON object such as {"variables":{"name":"value"},"stream":false}`)
	}
	c := &Call{Overrides: map[string]json.RawMessage{}}
	for k, v := range top {
		switch k {
		case "variables":
			vars, err := DecodeVariables(v)
			if err != nil {
				return nil, apierr.BadRequest("variables", "variables must be a JSON object mapping each variable name to its value")
			}
			c.Variables = vars
		case "stream":
			if err := json.Unmarshal(v, &c.Stream); err != nil {
				return nil, apierr.BadRequest("stream", "stream must be true or false")
			}
		default:
			c.Overrides[k] = v
		}
	}
	if c.Variables == nil {
		c.Variables = map[string]any{}
	}
	return c, nil
}

// Body validates the call's variables, renders the messages and builds the
// chat completions body: the version's parameters, then the caller's
// allowed overrides, then model, messages and stream. Its errors are 400
// *apierr.Error naming every failing variable.
func (t *Template) Body(c *Call) ([]byte, error) {
	for k := range c.Overrides {
		if !slices.Contains(t.Overrides, k) {
			allowed := "none"
			if len(t.Overrides) > 0 {
				allowed = strings.Join(t.Overrides, ", ")
			}
			return nil, apierr.BadRequest(k, fmt.Sprintf("unknown or fixed field %q: a prompt call takes variables, stream and the overrides this prompt allows (%s)", k, allowed))
		}
	}
	vars, err := t.Schema.Prepare(c.Variables)
	if err != nil {
		return nil, variablesError(err)
	}
	msgs, err := RenderMessages(t.Messages, vars)
	if err != nil {
		return nil, variablesError(err)
	}
	body := make(map[string]json.RawMessage, len(t.Parameters)+len(c.Overrides)+3)
	for k, v := range t.Parameters {
		body[k] = v
	}
	for k, v := range c.Overrides {
		body[k] = v
	}
	body["model"], _ = json.Marshal(t.Model)
	body["messages"], _ = json.Marshal(msgs)
	if c.Stream {
		body["stream"] = json.RawMessage("true")
	} else {
		delete(body, "stream_options")
	}
	return json.Marshal(body)
}

// variablesError is the 400 for variables that fail.
func variablesError(err error) error {
	var ve *ValidationError
	if e, ok := err.(*ValidationError); ok {
		ve = e
	}
	if re, ok := err.(*RenderError); ok {
		ve = &ValidationError{Errors: []VariableError{{Variable: re.Variable, Message: re.Message}}}
	}
	if ve == nil {
		return apierr.From(err)
	}
	param := "variables"
	if len(ve.Errors) == 1 && ve.Errors[0].Variable != "" {
		param = "variables." + ve.Errors[0].Variable
	}
	return &apierr.Error{Status: http.StatusBadRequest, Code: "invalid_variables", Param: param,
		Message: ve.Error() + "; GET this prompt's URL for its variables schema", Err: nil}
}

// Completion is the non-streaming answer of a prompt call.
type Completion struct {
	ID           string          `json:"id"`
	Object       string          `json:"object"`
	Created      int64           `json:"created,omitempty"`
	Prompt       string          `json:"prompt"`
	Version      int             `json:"version"`
	Model        string          `json:"model"`
	Output       json.RawMessage `json:"output"`
	ToolCalls    json.RawMessage `json:"tool_calls,omitempty"`
	FinishReason string          `json:"finish_reason"`
	Usage        json.RawMessage `json:"usage"`
}

// Answer turns an OpenAI chat.completion body into the prompt.completion
// answer. With jsonOutput, content that is valid JSON becomes output as
// parsed JSON; otherwise output is the content string.
func Answer(chat []byte, slug string, version int, jsonOutput bool) ([]byte, error) {
	if !gjson.ValidBytes(chat) {
		return nil, fmt.Errorf("the upstream answer is not JSON")
	}
	r := gjson.ParseBytes(chat)
	choice := r.Get("choices.0")
	content := choice.Get("message.content")
	out := Completion{
		ID: r.Get("id").String(), Object: "prompt.completion", Created: r.Get("created").Int(),
		Prompt: slug, Version: version, Model: r.Get("model").String(),
		FinishReason: choice.Get("finish_reason").String(),
		Usage:        json.RawMessage(r.Get("usage").Raw),
	}
	switch {
	case content.Type == gjson.String && jsonOutput && gjson.Valid(content.Str):
		out.Output = json.RawMessage(content.Str)
	case content.Type == gjson.String:
		out.Output, _ = json.Marshal(content.Str)
	default:
		out.Output = json.RawMessage("null")
	}
	if tc := choice.Get("message.tool_calls"); tc.IsArray() {
		out.ToolCalls = json.RawMessage(tc.Raw)
	}
	if len(out.Usage) == 0 {
		out.Usage = json.RawMessage("null")
	}
	return json.Marshal(out)
}

// Example is a request body that satisfies the schema: each variable's
// default, first enum value or first example, else a value of its type.
func (t *Template) Example() map[string]any {
	vars := map[string]any{}
	required := map[string]bool{}
	if r, ok := t.Schema.Raw["required"].([]any); ok {
		for _, n := range r {
			if s, ok := n.(string); ok {
				required[s] = true
			}
		}
	}
	names := t.Schema.Variables()
	sort.Strings(names)
	for _, name := range names {
		p := t.Schema.props[name]
		vars[name] = exampleValue(name, p)
	}
	return map[string]any{"variables": vars, "stream": false}
}

func exampleValue(name string, p map[string]any) any {
	if p == nil {
		return "…"
	}
	if d, ok := p["default"]; ok {
		return d
	}
	if e, ok := p["enum"].([]any); ok && len(e) > 0 {
		return e[0]
	}
	if c, ok := p["const"]; ok {
		return c
	}
	if e, ok := p["examples"].([]any); ok && len(e) > 0 {
		return e[0]
	}
	typ, _ := p["type"].(string)
	if ts, ok := p["type"].([]any); ok && len(ts) > 0 {
		typ, _ = ts[0].(string)
	}
	switch typ {
	case "integer", "number":
		if m, ok := p["minimum"]; ok {
			return m
		}
		return 1
	case "boolean":
		return true
	case "array":
		return []any{}
	case "object":
		return map[string]any{}
	case "null":
		return nil
	}
	ex := "example " + name
	if n, ok := p["maxLength"].(json.Number); ok {
		if m, err := n.Int64(); err == nil && m >= 0 && int64(len(ex)) > m {
			ex = ex[:m]
		}
	}
	return ex
}
