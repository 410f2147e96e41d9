package prompts

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// Limits on rendering. A variable's own maxLength in the schema applies
// first; these caps hold whatever the schema says.
const (
	// MaxValueBytes bounds one inserted value.
	MaxValueBytes = 32 << 10
	// MaxRenderedBytes bounds the rendered text of all messages together.
	MaxRenderedBytes = 1 << 20
)

// placeholderRE is a placeholder: {{name}}, spaces allowed inside the
// braces. A name is a letter or '_' then letters, digits or '_'.
var placeholderRE = regexp.MustCompile(`\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`)

// nameRE is what a variable name may look like.
var nameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Placeholders lists the distinct variable names text refers to, in order
// of first use.
func Placeholders(text string) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range placeholderRE.FindAllStringSubmatch(text, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			out = append(out, m[1])
		}
	}
	return out
}

// RenderError is a variable that could not be inserted.
type RenderError struct {
	// Variable is the variable's name.
	Variable string
	// Message says what is wrong.
	Message string
}

func (e *RenderError) Error() string { return e.Variable + ": " + e.Message }

// Render substitutes vars into text in one pass over the template: the
// text of an inserted value is never scanned again, so a value holding
// "{{other}}" stays literal. A string is inserted as it is; any other
// value as its JSON text; an absent variable as "". A value longer than
// MaxValueBytes is an error naming the variable.
func Render(text string, vars map[string]any) (string, error) {
	matches := placeholderRE.FindAllStringSubmatchIndex(text, -1)
	if len(matches) == 0 {
		return text, nil
	}
	var b strings.Builder
	b.Grow(len(text))
	last := 0
	for _, m := range matches {
		b.WriteString(text[last:m[0]])
		name := text[m[2]:m[3]]
		v, err := valueText(vars[name])
		if err != nil {
			return "", &RenderError{Variable: name, Message: err.Error()}
		}
		if len(v) > MaxValueBytes {
			return "", &RenderError{Variable: name, Message: fmt.Sprintf("the value is %d bytes; at most %d are allowed", len(v), MaxValueBytes)}
		}
		b.WriteString(v)
		if b.Len() > MaxRenderedBytes {
			return "", &RenderError{Variable: name, Message: fmt.Sprintf("the rendered prompt would exceed %d bytes", MaxRenderedBytes)}
		}
		last = m[1]
	}
	b.WriteString(text[last:])
	return b.String(), nil
}

// valueText is how a variable's value reads inside a message.
func valueText(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("the value cannot be written as text: %v", err)
	}
	return string(b), nil
}

// Message is one templated message of a prompt.
type Message struct {
	// Role is system, user or assistant.
	Role string `json:"role"`
	// Content is the text, with {{name}} placeholders.
	Content string `json:"content"`
}

// Roles a prompt message may have.
var roles = map[string]bool{"system": true, "user": true, "assistant": true, "developer": true}

// RenderMessages renders every message; the total is bounded by
// MaxRenderedBytes.
func RenderMessages(msgs []Message, vars map[string]any) ([]Message, error) {
	out := make([]Message, len(msgs))
	total := 0
	for i, m := range msgs {
		text, err := Render(m.Content, vars)
		if err != nil {
			return nil, err
		}
		total += len(text)
		if total > MaxRenderedBytes {
			return nil, &RenderError{Variable: "", Message: fmt.Sprintf("the rendered prompt exceeds %d bytes", MaxRenderedBytes)}
		}
		out[i] = Message{Role: m.Role, Content: text}
	}
	return out, nil
}
