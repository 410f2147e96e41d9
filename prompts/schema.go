package prompts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Schema is a prompt's compiled JSON Schema for its variables: an object
// whose properties are the variables.
type Schema struct {
	// Raw is the schema as it was saved.
	Raw map[string]any
	// props are the declared variables' own schemas.
	props map[string]map[string]any
	sch   *jsonschema.Schema
}

// schemaURL names the schema being compiled; nothing is ever fetched.
const schemaURL = "urn:sluice:prompt-variables"

// noLoader refuses every external $ref and $schema: a variables schema is
// self-contained, so saving one never reads a file or the network.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("external reference %q: a variables schema must be self-contained (use $defs)", url)
}

// EmptySchema is the schema of a prompt without variables.
const EmptySchema = `{"type":"object","properties":{},"additionalProperties":false}`

// CompileSchema checks and compiles a variables schema. An empty raw means
// EmptySchema. The schema must be an object schema whose property names
// are variable names.
func CompileSchema(raw []byte) (*Schema, error) {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		raw = []byte(EmptySchema)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("not valid JSON: %v", err)
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, errors.New("must be a JSON Schema object such as {\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"}}}")
	}
	if t, ok := obj["type"]; ok && t != "object" {
		return nil, errors.New(`"type" must be "object": the variables are the properties of one object`)
	}
	s := &Schema{Raw: obj, props: map[string]map[string]any{}}
	if p, ok := obj["properties"]; ok {
		pm, ok := p.(map[string]any)
		if !ok {
			return nil, errors.New(`"properties" must be an object mapping each variable name to its schema`)
		}
		for name, v := range pm {
			if !nameRE.MatchString(name) {
				return nil, fmt.Errorf("variable name %q: use letters, digits and '_', starting with a letter or '_'", name)
			}
			sub, _ := v.(map[string]any)
			s.props[name] = sub
		}
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(noLoader{})
	if err := c.AddResource(schemaURL, obj); err != nil {
		return nil, err
	}
	if s.sch, err = c.Compile(schemaURL); err != nil {
		return nil, errors.New(strings.ReplaceAll(err.Error(), schemaURL, "schema"))
	}
	return s, nil
}

// Variables lists the declared variable names, sorted.
func (s *Schema) Variables() []string {
	return slices.Sorted(maps.Keys(s.props))
}

// Declares reports whether name is a declared variable.
func (s *Schema) Declares(name string) bool {
	_, ok := s.props[name]
	return ok
}

// VariableError is one variable failing the schema.
type VariableError struct {
	// Variable is the variable's path: its name, then keys or indexes
	// inside it joined by '.' (items.0.title).
	Variable string `json:"variable"`
	// Message says what is wrong.
	Message string `json:"message"`
}

// ValidationError lists every variable that fails the schema.
type ValidationError struct {
	Errors []VariableError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Errors))
	for i, v := range e.Errors {
		parts[i] = v.Variable + ": " + v.Message
	}
	return "invalid variables: " + strings.Join(parts, "; ")
}

// Prepare fills in the schema's defaults for absent variables and
// validates the result. vars should be decoded with numbers as
// json.Number (DecodeVariables); it is not modified.
func (s *Schema) Prepare(vars map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(s.props)+len(vars))
	maps.Copy(out, vars)
	for name, p := range s.props {
		if _, ok := out[name]; ok {
			continue
		}
		if d, ok := p["default"]; ok {
			out[name] = d
		}
	}
	var errs []VariableError
	if err := s.sch.Validate(out); err != nil {
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			return nil, err
		}
		errs = collect(ve, errs)
	}
	// The renderer's own cap, whatever the schema says.
	for name, v := range out {
		if t, err := valueText(v); err == nil && len(t) > MaxValueBytes {
			errs = append(errs, VariableError{Variable: name, Message: fmt.Sprintf("must be at most %d bytes as text (got %d)", MaxValueBytes, len(t))})
		}
	}
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Variable < errs[j].Variable })
		return nil, &ValidationError{Errors: dedupe(errs)}
	}
	return out, nil
}

var printer = message.NewPrinter(language.English)

// collect appends the leaf errors of ve, one per failing variable.
func collect(ve *jsonschema.ValidationError, out []VariableError) []VariableError {
	if len(ve.Causes) > 0 {
		for _, c := range ve.Causes {
			out = collect(c, out)
		}
		return out
	}
	path := strings.Join(ve.InstanceLocation, ".")
	at := func(name string) string {
		if path == "" {
			return name
		}
		return path + "." + name
	}
	switch k := ve.ErrorKind.(type) {
	case *kind.Required:
		for _, m := range k.Missing {
			out = append(out, VariableError{Variable: at(m), Message: "is required"})
		}
		return out
	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			out = append(out, VariableError{Variable: at(p), Message: "is not a variable of this prompt"})
		}
		return out
	case *kind.Type:
		return append(out, VariableError{Variable: path, Message: fmt.Sprintf("must be %s, not %s", strings.Join(article(k.Want), " or "), k.Got)})
	case *kind.MaxLength:
		return append(out, VariableError{Variable: path, Message: fmt.Sprintf("must have at most %d characters (got %d)", k.Want, k.Got)})
	case *kind.MinLength:
		return append(out, VariableError{Variable: path, Message: fmt.Sprintf("must have at least %d characters (got %d)", k.Want, k.Got)})
	case *kind.Enum:
		want, _ := json.Marshal(k.Want)
		return append(out, VariableError{Variable: path, Message: "must be one of " + string(want)})
	}
	if path == "" {
		path = "variables"
	}
	return append(out, VariableError{Variable: path, Message: ve.ErrorKind.LocalizedString(printer)})
}

func article(types []string) []string {
	out := make([]string, len(types))
	for i, t := range types {
		switch t {
		case "object", "array", "integer":
			out[i] = "an " + t
		default:
			out[i] = "a " + t
		}
	}
	return out
}

func dedupe(errs []VariableError) []VariableError {
	out := errs[:0]
	seen := map[VariableError]bool{}
	for _, e := range errs {
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	return out
}

// DecodeVariables decodes a JSON object of variables, numbers kept exact
// (json.Number) for the schema.
func DecodeVariables(raw []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return map[string]any{}, nil
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("variables must be a JSON object mapping each variable name to its value")
	}
	return m, nil
}
