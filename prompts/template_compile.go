package prompts

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/sluicehq/sluice/admin"
)

// Bounds of what a version may hold.
const (
	MaxMessages       = 100
	MaxMessageBytes   = 100 << 10
	maxParameterBytes = 256 << 10
)

// DefaultOverrides are the chat parameters a caller may set on a prompt
// call when the version does not list its own.
var DefaultOverrides = []string{"max_tokens", "max_completion_tokens", "temperature", "top_p", "seed", "user", "stream_options"}

// reserved are the body fields a prompt owns: never in parameters, never
// overridden.
var reserved = map[string]bool{"model": true, "messages": true, "stream": true, "variables": true}

// Template is a compiled prompt version: everything needed to turn a
// call's variables into a chat completions body.
type Template struct {
	// Model is the public model name the prompt calls.
	Model string
	// Messages are the templated messages.
	Messages []Message
	// Parameters are the default chat parameters, by name.
	Parameters map[string]json.RawMessage
	// Schema validates the variables.
	Schema *Schema
	// Overrides are the parameters a caller may set.
	Overrides []string
}

// Compile checks a version's parts and compiles them. Its errors are
// *admin.FieldError naming the request field at fault (model, messages,
// parameters, variables_schema, allowed_overrides).
func Compile(model string, messages []Message, parameters, schema []byte, overrides []string) (*Template, error) {
	t := &Template{Model: strings.TrimSpace(model), Messages: messages, Parameters: map[string]json.RawMessage{}}
	if t.Model == "" || len(t.Model) > 200 {
		return nil, &admin.FieldError{Field: "model", Message: "model is required: the public name of a model (GET /models)"}
	}
	if len(messages) == 0 || len(messages) > MaxMessages {
		return nil, &admin.FieldError{Field: "messages", Message: fmt.Sprintf("messages must hold 1 to %d messages {role, content}", MaxMessages)}
	}
	for i, m := range messages {
		f := fmt.Sprintf("messages[%d]", i)
		if !roles[m.Role] {
			return nil, &admin.FieldError{Field: f + ".role", Message: f + ".role must be system, user, assistant or developer"}
		}
		if strings.TrimSpace(m.Content) == "" || len(m.Content) > MaxMessageBytes || !utf8.ValidString(m.Content) {
			return nil, &admin.FieldError{Field: f + ".content", Message: fmt.Sprintf("%s.content must be non-empty UTF-8 text of at most %d bytes", f, MaxMessageBytes)}
		}
	}
	if p := bytes.TrimSpace(parameters); len(p) > 0 && string(p) != "null" {
		if len(p) > maxParameterBytes {
			return nil, &admin.FieldError{Field: "parameters", Message: fmt.Sprintf("parameters must be at most %d bytes", maxParameterBytes)}
		}
		if err := json.Unmarshal(p, &t.Parameters); err != nil {
			return nil, &admin.FieldError{Field: "parameters", Message: "parameters must be a JSON object of chat completions parameters, e.g. {\"temperature\":0.2,\"max_tokens\":200}"}
		}
		for k := range t.Parameters {
			if reserved[k] {
				return nil, &admin.FieldError{Field: "parameters." + k, Message: fmt.Sprintf("parameters.%s is set by the prompt itself; leave it out", k)}
			}
		}
		if rf, ok := t.Parameters["response_format"]; ok && (len(rf) == 0 || rf[0] != '{') {
			return nil, &admin.FieldError{Field: "parameters.response_format", Message: "parameters.response_format must be an object such as {\"type\":\"json_object\"}"}
		}
	}
	var err error
	if t.Schema, err = CompileSchema(schema); err != nil {
		return nil, &admin.FieldError{Field: "variables_schema", Message: "variables_schema: " + err.Error()}
	}
	for i, m := range messages {
		for _, name := range Placeholders(m.Content) {
			if !t.Schema.Declares(name) {
				return nil, &admin.FieldError{Field: fmt.Sprintf("messages[%d].content", i),
					Message: fmt.Sprintf("placeholder {{%s}} is not declared in variables_schema.properties; declare it (e.g. \"%s\":{\"type\":\"string\",\"maxLength\":1000}) or remove it", name, name)}
			}
		}
	}
	if overrides == nil {
		overrides = DefaultOverrides
	}
	for _, o := range overrides {
		if reserved[o] || o == "" {
			return nil, &admin.FieldError{Field: "allowed_overrides", Message: fmt.Sprintf("allowed_overrides cannot hold %q: the prompt sets it", o)}
		}
	}
	t.Overrides = slices.Clone(overrides)
	return t, nil
}

// JSONOutput reports whether the prompt asks for JSON (response_format
// json_object or json_schema), so its output is answered parsed.
func (t *Template) JSONOutput() bool {
	rf, ok := t.Parameters["response_format"]
	if !ok {
		return false
	}
	var v struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(rf, &v)
	return v.Type == "json_schema" || v.Type == "json_object"
}
