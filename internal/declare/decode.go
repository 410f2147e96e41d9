package declare

import (
	"fmt"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// Error is a problem with one entry of the file: Path names it the way a
// reader finds it (providers[1].kind), Problem says what is expected.
type Error struct {
	Path    string
	Problem string
	// Err is the store's error behind Problem, if any.
	Err error
}

func (e *Error) Error() string { return e.Path + ": " + e.Problem }

// Unwrap returns the store's error.
func (e *Error) Unwrap() error { return e.Err }

func errorf(path, format string, args ...any) error {
	return &Error{Path: path, Problem: fmt.Sprintf(format, args...)}
}

// isNull reports whether n is absent or an explicit null.
func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// decodeSection decodes a section (a list of entries) into dst, a pointer
// to a slice of structs.
func decodeSection(n *yaml.Node, name string, dst any) error {
	if isNull(n) {
		return nil
	}
	return decodeNode(n, reflect.ValueOf(dst).Elem(), name)
}

// decodeNode decodes n into v, refusing unknown fields and wrong shapes
// with an Error naming the path. Struct fields are matched by their yaml
// tag; a pointer or map field is left nil when its key is absent or null,
// so "not given" differs from "given empty".
func decodeNode(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if v.Type() == reflect.TypeFor[yaml.Node]() {
		// Free-form (a JSON value written as YAML): kept as it is.
		v.Set(reflect.ValueOf(*n))
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		if isNull(n) {
			return nil
		}
		p := reflect.New(v.Type().Elem())
		if err := decodeNode(n, p.Elem(), path); err != nil {
			return err
		}
		v.Set(p)
		return nil
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return errorf(path, "expected a mapping with the fields %s", strings.Join(fieldNames(v.Type()), ", "))
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i].Value, n.Content[i+1]
			f, ok := fieldByTag(v, key)
			if !ok {
				return errorf(path+"."+key, "unknown field; expected one of %s", strings.Join(fieldNames(v.Type()), ", "))
			}
			if err := decodeNode(val, f, path+"."+key); err != nil {
				return err
			}
		}
		return nil
	case reflect.Slice:
		if isNull(n) {
			return nil
		}
		if n.Kind != yaml.SequenceNode {
			return errorf(path, "expected a list")
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			if err := decodeNode(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case reflect.Map:
		if isNull(n) {
			return nil
		}
		if n.Kind != yaml.MappingNode {
			return errorf(path, "expected a mapping of names to text values")
		}
		m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i].Value, n.Content[i+1]
			e := reflect.New(v.Type().Elem()).Elem()
			if err := decodeNode(val, e, path+"."+key); err != nil {
				return err
			}
			m.SetMapIndex(reflect.ValueOf(key), e)
		}
		v.Set(m)
		return nil
	}
	if n.Kind != yaml.ScalarNode || isNull(n) {
		return errorf(path, "expected a single %s value", kindName(v.Kind()))
	}
	if err := n.Decode(v.Addr().Interface()); err != nil {
		return errorf(path, "expected a %s, got %q", kindName(v.Kind()), n.Value)
	}
	return nil
}

func kindName(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "text"
	case reflect.Bool:
		return "true or false"
	case reflect.Float32, reflect.Float64:
		return "number"
	}
	return "whole number"
}

// fieldByTag finds the field of struct v whose yaml tag is name.
func fieldByTag(v reflect.Value, name string) (reflect.Value, bool) {
	t := v.Type()
	for i := range t.NumField() {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); tag == name {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// fieldNames are the yaml names of a struct's fields, in order.
func fieldNames(t reflect.Type) []string {
	out := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); tag != "" {
			out = append(out, tag)
		}
	}
	return out
}
