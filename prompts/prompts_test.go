package prompts

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/admin"
	"github.com/sluicehq/sluice/internal/apierr"
)

func TestRender(t *testing.T) {
	cases := []struct {
		name, text string
		vars       map[string]any
		want       string
	}{
		{"plain", "hello", nil, "hello"},
		{"one", "Hi {{name}}!", map[string]any{"name": "Ada"}, "Hi Ada!"},
		{"spaces inside braces", "Hi {{ name }}/{{name  }}", map[string]any{"name": "Ada"}, "Hi Ada/Ada"},
		{"value holding a placeholder stays literal", "Q: {{q}} S: {{secret}}", map[string]any{"q": "{{secret}}", "secret": "hidden"}, "Q: {{secret}} S: hidden"},
		{"number as JSON text", "n={{n}}", map[string]any{"n": json.Number("3.50")}, "n=3.50"},
		{"object as JSON text", "o={{o}}", map[string]any{"o": map[string]any{"a": []any{1, "x"}}}, `o={"a":[1,"x"]}`},
		{"absent is empty", "[{{missing}}]", nil, "[]"},
		{"not a placeholder", "{{ 1x }} {x} {{x-y}} {{{x}}}", map[string]any{"x": "X"}, "{{ 1x }} {x} {{x-y}} {X}"},
		{"adjacent", "{{a}}{{b}}", map[string]any{"a": "{{", "b": "b}}"}, "{{b}}"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Render(c.text, c.vars)
			if err != nil || got != c.want {
				t.Fatalf("Render(%q) = %q, %v; want %q", c.text, got, err, c.want)
			}
		})
	}
	if _, err := Render("{{big}}", map[string]any{"big": strings.Repeat("x", MaxValueBytes+1)}); err == nil || !strings.Contains(err.Error(), "big") {
		t.Fatalf("oversized value: %v", err)
	}
}

func TestPlaceholders(t *testing.T) {
	got := Placeholders("{{a}} {{ b }} {{a}} {{not valid}}")
	if strings.Join(got, ",") != "a,b" {
		t.Fatalf("Placeholders = %v", got)
	}
}

const topicSchema = `{"type":"object","properties":{
	"topic":{"type":"string","maxLength":10},
	"tone":{"type":"string","enum":["formal","casual"],"default":"casual"},
	"count":{"type":"integer","minimum":1}},
	"required":["topic","count"],"additionalProperties":false}`

func TestSchemaListsEveryFailingVariable(t *testing.T) {
	s, err := CompileSchema([]byte(topicSchema))
	if err != nil {
		t.Fatal(err)
	}
	vars, err := DecodeVariables([]byte(`{"topic":"a very long topic","tone":"angry","extra":1}`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Prepare(vars)
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v", err)
	}
	got := map[string]string{}
	for _, e := range ve.Errors {
		got[e.Variable] = e.Message
	}
	for name, want := range map[string]string{"topic": "at most 10", "tone": "one of", "count": "required", "extra": "not a variable"} {
		if !strings.Contains(got[name], want) {
			t.Errorf("%s: %q, want %q (all: %v)", name, got[name], want, ve.Errors)
		}
	}
	// Wrong type.
	vars, _ = DecodeVariables([]byte(`{"topic":5,"count":"two"}`))
	_, err = s.Prepare(vars)
	if err == nil || !strings.Contains(err.Error(), "topic: must be a string, not number") || !strings.Contains(err.Error(), "count: must be an integer") {
		t.Fatalf("wrong types: %v", err)
	}
	// Defaults fill in.
	vars, _ = DecodeVariables([]byte(`{"topic":"go","count":2}`))
	out, err := s.Prepare(vars)
	if err != nil || out["tone"] != "casual" {
		t.Fatalf("defaults: %v %v", out, err)
	}
}

func TestCompileSchemaRefusesExternalRefs(t *testing.T) {
	for _, s := range []string{
		`{"type":"object","properties":{"a":{"$ref":"file:///etc/passwd"}}}`,
		`{"type":"object","properties":{"a":{"$ref":"https://example.com/s.json"}}}`,
		`{"type":"array"}`,
		`[1]`,
		`{"type":"object","properties":{"bad-name":{"type":"string"}}}`,
	} {
		if _, err := CompileSchema([]byte(s)); err == nil {
			t.Errorf("CompileSchema(%s) accepted", s)
		}
	}
}

func TestCompileRefusesUndeclaredPlaceholders(t *testing.T) {
	_, err := Compile("gpt-4o", []Message{{Role: "system", Content: "be brief"}, {Role: "user", Content: "about {{topic}} and {{secret}}"}},
		nil, []byte(topicSchema), nil)
	var fe *admin.FieldError
	if !errors.As(err, &fe) || fe.Field != "messages[1].content" || !strings.Contains(fe.Message, "{{secret}}") {
		t.Fatalf("err = %v", err)
	}
	_, err = Compile("gpt-4o", []Message{{Role: "user", Content: "x"}}, []byte(`{"model":"other"}`), nil, nil)
	if !errors.As(err, &fe) || fe.Field != "parameters.model" {
		t.Fatalf("reserved parameter: %v", err)
	}
	_, err = Compile("gpt-4o", []Message{{Role: "robot", Content: "x"}}, nil, nil, nil)
	if !errors.As(err, &fe) || fe.Field != "messages[0].role" {
		t.Fatalf("role: %v", err)
	}
}

func TestBody(t *testing.T) {
	tpl, err := Compile("gpt-4o", []Message{{Role: "system", Content: "Tone: {{tone}}"}, {Role: "user", Content: "Write {{count}} lines on {{topic}}"}},
		[]byte(`{"temperature":0.2,"max_tokens":100}`), []byte(topicSchema), []string{"max_tokens"})
	if err != nil {
		t.Fatal(err)
	}
	call, err := ParseCall([]byte(`{"variables":{"topic":"{{tone}}","count":3},"stream":true,"max_tokens":5}`))
	if err != nil {
		t.Fatal(err)
	}
	body, err := tpl.Body(call)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	msgs := got["messages"].([]any)
	if got["model"] != "gpt-4o" || got["stream"] != true || got["max_tokens"] != 5.0 || got["temperature"] != 0.2 ||
		msgs[0].(map[string]any)["content"] != "Tone: casual" || msgs[1].(map[string]any)["content"] != "Write 3 lines on {{tone}}" {
		t.Fatalf("body %s", body)
	}
	// An override the prompt does not allow is refused by name.
	call, _ = ParseCall([]byte(`{"variables":{"topic":"x","count":1},"temperature":2}`))
	_, err = tpl.Body(call)
	if e := apierr.From(err); e.Status != http.StatusBadRequest || e.Param != "temperature" {
		t.Fatalf("override: %v", err)
	}
	// Failing variables: a 400 listing each.
	call, _ = ParseCall([]byte(`{"variables":{"topic":"far too long a topic"}}`))
	_, err = tpl.Body(call)
	if e := apierr.From(err); e.Status != http.StatusBadRequest || !strings.Contains(e.Message, "topic:") || !strings.Contains(e.Message, "count: is required") {
		t.Fatalf("variables: %v", err)
	}
}

func TestAnswer(t *testing.T) {
	chat := `{"id":"chatcmpl-1","object":"chat.completion","created":7,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"{\"a\":1}"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}`
	b, err := Answer([]byte(chat), "p", 2, true)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	_ = json.Unmarshal(b, &got)
	if got["object"] != "prompt.completion" || got["prompt"] != "p" || got["version"] != 2.0 || got["finish_reason"] != "stop" ||
		got["output"].(map[string]any)["a"] != 1.0 || got["usage"].(map[string]any)["total_tokens"] != 5.0 || got["id"] != "chatcmpl-1" {
		t.Fatalf("answer %s", b)
	}
	b, _ = Answer([]byte(chat), "p", 2, false)
	_ = json.Unmarshal(b, &got)
	if got["output"] != `{"a":1}` {
		t.Fatalf("text answer %s", b)
	}
}

func TestCompare(t *testing.T) {
	a := &Version{Version: 1, Model: "m1", Messages: []Message{{Role: "system", Content: "be brief"}, {Role: "user", Content: "on {{topic}}"}},
		Parameters: json.RawMessage(`{"temperature":0.2}`), VariablesSchema: json.RawMessage(`{"type":"object","properties":{"topic":{"type":"string"}}}`)}
	b := &Version{Version: 2, Model: "m2", Messages: []Message{{Role: "system", Content: "be very brief"}, {Role: "user", Content: "on {{topic}}"}},
		Parameters: json.RawMessage(`{"temperature":0.5,"max_tokens":9}`), VariablesSchema: a.VariablesSchema}
	d := Compare(a, b)
	if !strings.Contains(d.Messages, "-be brief\n+be very brief\n") || !strings.Contains(d.Messages, " on {{topic}}") {
		t.Fatalf("messages diff:\n%s", d.Messages)
	}
	paths := map[string]Change{}
	for _, c := range d.Changes {
		paths[c.Path] = c
	}
	if len(paths) != 3 || string(paths["model"].To) != `"m2"` || string(paths["parameters.temperature"].From) != "0.2" ||
		paths["parameters.max_tokens"].From != nil {
		t.Fatalf("changes %+v", d.Changes)
	}
	if Compare(a, a).Messages != "" || len(Compare(a, a).Changes) != 0 {
		t.Fatal("a version differs from itself")
	}
}

func TestExampleSatisfiesSchema(t *testing.T) {
	tpl, err := Compile("m", []Message{{Role: "user", Content: "{{topic}} {{tone}} {{count}}"}}, nil, []byte(topicSchema), nil)
	if err != nil {
		t.Fatal(err)
	}
	ex := tpl.Example()
	b, _ := json.Marshal(ex)
	call, err := ParseCall(b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tpl.Body(call); err != nil {
		t.Fatalf("example %s fails: %v", b, err)
	}
}

// FuzzRender checks that rendering never re-expands inserted text: the
// output is the template with each placeholder replaced by its value, so
// with values free of braces the output has exactly the template's text
// outside placeholders, and a value's own placeholders survive literally.
func FuzzRender(f *testing.F) {
	f.Add("Hello {{name}}, {{ other }}!", "{{other}}", "x")
	f.Add("{{a}}{{b}}", "{{", "}}")
	f.Add("{{name}", "}", "{")
	f.Fuzz(func(t *testing.T, tmpl, v1, v2 string) {
		vars := map[string]any{"name": v1, "other": v2, "a": v1, "b": v2}
		out, err := Render(tmpl, vars)
		if err != nil {
			if len(v1) <= MaxValueBytes && len(v2) <= MaxValueBytes && len(tmpl) < MaxRenderedBytes/4 {
				t.Fatalf("Render(%q) failed: %v", tmpl, err)
			}
			return
		}
		// Rendering with placeholder values replaced by markers, then
		// substituting the markers, must give the same text: the renderer
		// is a pure one-pass substitution.
		want := placeholderRE.ReplaceAllStringFunc(tmpl, func(m string) string {
			name := placeholderRE.FindStringSubmatch(m)[1]
			s, _ := vars[name].(string)
			return s
		})
		if out != want {
			t.Fatalf("Render(%q) = %q, want %q", tmpl, out, want)
		}
		// A template without placeholders renders as itself whatever the values.
		if len(Placeholders(tmpl)) == 0 && out != tmpl {
			t.Fatalf("template without placeholders changed: %q → %q", tmpl, out)
		}
	})
}
