package gemini

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Function parameters go to Gemini as its OpenAPI 3.0 subset Schema
// (FunctionDeclaration.parameters), which rejects many JSON Schema keywords.
// sanitizeSchema rewrites an OpenAI tool's JSON Schema into that subset:
//
//   - kept: type, format (only the ones Gemini takes: enum and date-time for
//     strings, int32/int64 for integers, float/double for numbers), title,
//     description, nullable, enum (only when every value is a string),
//     properties, required (only names that are in properties), items,
//     anyOf, minItems, maxItems, minLength, maxLength, minProperties,
//     maxProperties, minimum, maximum, pattern, default, example.
//   - rewritten: type names upper-cased ("object" → "OBJECT"); a type list
//     ["string","null"] → type STRING + nullable; several non-null types →
//     anyOf; oneOf → anyOf; const → enum of one string; a one-element allOf
//     merged in; an enum without a type gets type STRING; local $ref ("#/$defs/X", "#/definitions/X") inlined up to
//     maxRefDepth levels.
//   - dropped, with everything else: $schema, $id, $defs, definitions,
//     $comment, additionalProperties, strict, patternProperties, examples,
//     not, if/then/else, allOf of several, readOnly, writeOnly, deprecated.
//
// A root object with no properties is dropped altogether: Gemini wants a
// function without parameters to have no parameters field.
func sanitizeSchema(raw json.RawMessage) (json.RawMessage, error) {
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var root any
	if err := dec.Decode(&root); err != nil {
		return nil, err
	}
	obj, ok := root.(map[string]any)
	if !ok {
		return nil, errSchemaNotObject
	}
	s := schemaSanitizer{root: obj}
	out := s.convert(obj, 0)
	if props, _ := out["properties"].(map[string]any); len(props) == 0 && out["type"] == "OBJECT" && out["anyOf"] == nil {
		return nil, nil
	}
	return json.Marshal(out)
}

// maxRefDepth bounds $ref inlining so a recursive schema terminates.
const maxRefDepth = 8

type schemaSanitizer struct {
	root map[string]any
}

var errSchemaNotObject = schemaError("function parameters must be a JSON Schema object")

type schemaError string

func (e schemaError) Error() string { return string(e) }

// convert returns the Gemini form of one schema node.
func (s *schemaSanitizer) convert(in map[string]any, depth int) map[string]any {
	if ref, ok := in["$ref"].(string); ok {
		if target := s.resolve(ref); target != nil && depth < maxRefDepth {
			merged := make(map[string]any, len(target)+len(in))
			for k, v := range target {
				merged[k] = v
			}
			for k, v := range in {
				if k != "$ref" {
					merged[k] = v
				}
			}
			return s.convert(merged, depth+1)
		}
		return map[string]any{"type": "OBJECT"}
	}
	if all, ok := in["allOf"].([]any); ok && len(all) == 1 {
		if sub, ok := all[0].(map[string]any); ok {
			merged := make(map[string]any, len(sub)+len(in))
			for k, v := range sub {
				merged[k] = v
			}
			for k, v := range in {
				if k != "allOf" {
					merged[k] = v
				}
			}
			return s.convert(merged, depth+1)
		}
	}

	out := make(map[string]any, len(in))
	for k, v := range in {
		switch k {
		case "title", "description", "pattern":
			if str, ok := v.(string); ok {
				out[k] = str
			}
		case "nullable":
			if b, ok := v.(bool); ok {
				out[k] = b
			}
		case "minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties", "minimum", "maximum":
			if n, ok := v.(json.Number); ok {
				out[k] = n
			}
		case "default", "example":
			out[k] = v
		case "enum":
			if vals, ok := v.([]any); ok && allStrings(vals) {
				out[k] = vals
			}
		case "const":
			if _, hasEnum := in["enum"]; hasEnum {
				continue
			}
			if str, ok := v.(string); ok {
				out["enum"] = []any{str}
			}
		case "properties":
			props, ok := v.(map[string]any)
			if !ok {
				continue
			}
			conv := make(map[string]any, len(props))
			for name, p := range props {
				if ps, ok := p.(map[string]any); ok {
					conv[name] = s.convert(ps, depth)
				}
			}
			out[k] = conv
		case "items":
			if is, ok := v.(map[string]any); ok {
				out[k] = s.convert(is, depth)
			}
		case "anyOf", "oneOf":
			list, ok := v.([]any)
			if !ok {
				continue
			}
			conv := make([]any, 0, len(list))
			nullable := false
			for _, a := range list {
				as, ok := a.(map[string]any)
				if !ok {
					continue
				}
				if t, _ := as["type"].(string); t == "null" && len(as) == 1 {
					nullable = true
					continue
				}
				conv = append(conv, s.convert(as, depth))
			}
			switch {
			case len(conv) == 1:
				for ck, cv := range conv[0].(map[string]any) {
					if _, set := out[ck]; !set {
						out[ck] = cv
					}
				}
			case len(conv) > 1:
				out["anyOf"] = conv
			}
			if nullable {
				out["nullable"] = true
			}
		}
	}

	s.convertType(in["type"], out)
	if _, typed := out["type"]; !typed && out["enum"] != nil {
		out["type"] = "STRING" // Gemini takes enums of strings only, and wants the type
	}
	if f, ok := in["format"].(string); ok && formatAllowed(out["type"], f) {
		out["format"] = f
	}
	if req, ok := in["required"].([]any); ok {
		props, _ := out["properties"].(map[string]any)
		keep := make([]any, 0, len(req))
		for _, r := range req {
			if name, ok := r.(string); ok {
				if _, exists := props[name]; exists {
					keep = append(keep, name)
				}
			}
		}
		if len(keep) > 0 {
			out["required"] = keep
		}
	}
	return out
}

// convertType sets out["type"] (and nullable or anyOf) from a JSON Schema
// type, which may be a string or a list.
func (s *schemaSanitizer) convertType(t any, out map[string]any) {
	switch t := t.(type) {
	case string:
		if t == "null" {
			out["nullable"] = true
			return
		}
		out["type"] = strings.ToUpper(t)
	case []any:
		var types []string
		for _, x := range t {
			name, ok := x.(string)
			if !ok {
				continue
			}
			if name == "null" {
				out["nullable"] = true
				continue
			}
			types = append(types, strings.ToUpper(name))
		}
		switch len(types) {
		case 0:
		case 1:
			out["type"] = types[0]
		default:
			alts := make([]any, len(types))
			for i, ty := range types {
				alts[i] = map[string]any{"type": ty}
			}
			out["anyOf"] = alts
		}
	}
}

// resolve finds a local reference "#/$defs/Name" or "#/definitions/Name".
func (s *schemaSanitizer) resolve(ref string) map[string]any {
	for _, prefix := range []string{"#/$defs/", "#/definitions/"} {
		if name, ok := strings.CutPrefix(ref, prefix); ok {
			defs, _ := s.root[strings.TrimSuffix(strings.TrimPrefix(prefix, "#/"), "/")].(map[string]any)
			target, _ := defs[name].(map[string]any)
			return target
		}
	}
	return nil
}

// formatAllowed reports whether Gemini accepts format f for type t.
func formatAllowed(t any, f string) bool {
	switch t {
	case "STRING":
		return f == "enum" || f == "date-time"
	case "INTEGER":
		return f == "int32" || f == "int64"
	case "NUMBER":
		return f == "float" || f == "double"
	}
	return false
}

func allStrings(vals []any) bool {
	for _, v := range vals {
		if _, ok := v.(string); !ok {
			return false
		}
	}
	return len(vals) > 0
}

// responseJSONSchema prepares a response_format json_schema for
// generationConfig.responseJsonSchema, which takes standard JSON Schema:
// the schema goes as is, only the "$schema" meta keyword is removed.
func responseJSONSchema(raw json.RawMessage) (json.RawMessage, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, err
	}
	if _, ok := obj["$schema"]; !ok {
		var buf bytes.Buffer
		if err := json.Compact(&buf, trimmed); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	delete(obj, "$schema")
	return json.Marshal(obj)
}
