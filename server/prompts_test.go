package server

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/admin"
	"github.com/sluicehq/sluice/internal/calllog"
	"github.com/sluicehq/sluice/prompts"
)

// promptEnv is the gateway with the prompt store writing to its database
// and reloading its snapshot after each write, as the admin API does.
type promptEnv struct {
	*gateway
	t     *testing.T
	store *prompts.Store
	actor admin.Actor
}

func newPromptEnv(t *testing.T) *promptEnv {
	g := newGateway(t, admin.Limits{})
	return &promptEnv{gateway: g, t: t, store: prompts.NewStore(g.f.DB, g.store, nil), actor: admin.Actor{Email: "ops@example.com"}}
}

const summarizeSchema = `{"type":"object","properties":{
	"text":{"type":"string","maxLength":40},
	"audience":{"type":"string","enum":["devs","execs"],"default":"devs"}},
	"required":["text"],"additionalProperties":false}`

func (e *promptEnv) version(id uint64, model, user string, params string) int {
	e.t.Helper()
	v := &prompts.Version{Model: model, Messages: []prompts.Message{{Role: "system", Content: "You are terse."}, {Role: "user", Content: user}},
		VariablesSchema: json.RawMessage(summarizeSchema)}
	if params != "" {
		v.Parameters = json.RawMessage(params)
	}
	if err := e.store.AddVersion(context.Background(), e.actor, id, v); err != nil {
		e.t.Fatal(err)
	}
	return v.Version
}

func (e *promptEnv) publish(id uint64, n int) {
	e.t.Helper()
	if _, err := e.store.Publish(context.Background(), e.actor, id, n); err != nil {
		e.t.Fatal(err)
	}
}

// call sends a prompt call; it answers the status and the decoded body.
func (e *promptEnv) call(method, slug, body string) (int, map[string]any) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, e.url+"/v1/prompts/"+slug, rd)
	req.Header.Set("Authorization", "Bearer "+e.f.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &out); err != nil {
		e.t.Fatalf("%s %s: %d %s", method, slug, resp.StatusCode, b)
	}
	return resp.StatusCode, out
}

func errMsg(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}

func TestPromptAPI(t *testing.T) {
	e := newPromptEnv(t)
	ctx := context.Background()
	p, err := e.store.Create(ctx, e.actor, &prompts.Prompt{Slug: "summarize", Name: "Summarize", Description: "Summaries for an audience", ServiceID: e.f.Service.ID})
	if err != nil {
		t.Fatal(err)
	}
	v1 := e.version(p.ID, "gpt-4o", "Summarize for {{audience}}: {{ text }}", `{"temperature":0.1,"max_tokens":50}`)

	// Unknown and unpublished prompts are both 404.
	for _, slug := range []string{"nope", "summarize"} {
		if code, body := e.call("POST", slug, `{"variables":{"text":"hi"}}`); code != 404 || !strings.Contains(errMsg(body), slug) {
			t.Fatalf("%s before publish: %d %v", slug, code, body)
		}
		if code, _ := e.call("GET", slug, ""); code != 404 {
			t.Fatalf("GET %s before publish: %d", slug, code)
		}
	}

	e.publish(p.ID, v1)
	code, body := e.call("POST", "summarize", `{"variables":{"text":"hello world"}}`)
	if code != 200 || body["object"] != "prompt.completion" || body["prompt"] != "summarize" || body["version"] != 1.0 ||
		body["model"] != "gpt-4o" || body["output"] != "echo: Summarize for devs: hello world" || body["finish_reason"] != "stop" ||
		body["usage"].(map[string]any)["total_tokens"].(float64) == 0 || body["id"] == "" {
		t.Fatalf("call v1: %d %v", code, body)
	}
	// The upstream got the rendered messages with the prompt's parameters.
	reqs := e.fake.Requests()
	last := string(reqs[len(reqs)-1].Body)
	for _, want := range []string{`"model":"gpt-4o-mini-2024"`, `You are terse.`, `Summarize for devs: hello world`, `"temperature":0.1`, `_tokens":50`} {
		if !strings.Contains(last, want) {
			t.Fatalf("upstream body %s lacks %s", last, want)
		}
	}
	// An allowed override reaches the upstream.
	if code, _ := e.call("POST", "summarize", `{"variables":{"text":"x"},"max_tokens":7}`); code != 200 {
		t.Fatalf("override: %d", code)
	}
	reqs = e.fake.Requests()
	if !strings.Contains(string(reqs[len(reqs)-1].Body), `_tokens":7`) {
		t.Fatalf("override not sent: %s", reqs[len(reqs)-1].Body)
	}

	// Streaming: OpenAI chunks ending with [DONE].
	req, _ := http.NewRequest("POST", e.url+"/v1/prompts/summarize", strings.NewReader(`{"variables":{"text":"streamed words","audience":"execs"},"stream":true}`))
	req.Header.Set("Authorization", "Bearer "+e.f.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var text strings.Builder
	var lastData string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		lastData = line
		if line == "[DONE]" {
			continue
		}
		var chunk struct {
			Object  string `json:"object"`
			Choices []struct {
				Delta struct {
					Content string `json:"content"`
				} `json:"delta"`
			} `json:"choices"`
		}
		if err := json.Unmarshal([]byte(line), &chunk); err != nil || chunk.Object != "chat.completion.chunk" {
			t.Fatalf("chunk %s: %v", line, err)
		}
		for _, c := range chunk.Choices {
			text.WriteString(c.Delta.Content)
		}
	}
	resp.Body.Close()
	if text.String() != "echo: Summarize for execs: streamed words" || lastData != "[DONE]" {
		t.Fatalf("streamed %q, last %q", text.String(), lastData)
	}

	// v2, published: callers see version 2; rollback to v1.
	v2 := e.version(p.ID, "gpt-4o", "TL;DR ({{audience}}): {{text}}", "")
	e.publish(p.ID, v2)
	if code, body := e.call("POST", "summarize", `{"variables":{"text":"abc"}}`); code != 200 || body["version"] != 2.0 || body["output"] != "echo: TL;DR (devs): abc" {
		t.Fatalf("call v2: %d %v", code, body)
	}
	e.publish(p.ID, v1)
	if code, body := e.call("POST", "summarize", `{"variables":{"text":"abc"}}`); code != 200 || body["version"] != 1.0 || body["output"] != "echo: Summarize for devs: abc" {
		t.Fatalf("rollback: %d %v", code, body)
	}

	// Injection: a value holding a placeholder stays literal.
	if code, body := e.call("POST", "summarize", `{"variables":{"text":"{{audience}} {{secret}}","audience":"execs"}}`); code != 200 ||
		body["output"] != "echo: Summarize for execs: {{audience}} {{secret}}" {
		t.Fatalf("injection: %d %v", code, body)
	}

	// Schema violations: a 400 naming each variable, and no upstream call.
	before := len(e.fake.Requests())
	for _, c := range []struct{ body, want string }{
		{`{"variables":{}}`, "text: is required"},
		{`{"variables":{"text":5}}`, "text: must be a string"},
		{`{"variables":{"text":"` + strings.Repeat("x", 41) + `"}}`, "text: must have at most 40 characters"},
		{`{"variables":{"text":"ok","audience":"kids","extra":1}}`, "audience: must be one of"},
		{`{"variables":{"text":"ok","audience":"kids","extra":1}}`, "extra: is not a variable"},
		{`{"variables":{"text":"ok"},"model":"claude"}`, `"model"`},
		{`{"variables":"text"}`, "variables must be a JSON object"},
		{`not json`, "JSON object"},
	} {
		code, body := e.call("POST", "summarize", c.body)
		if code != 400 || !strings.Contains(errMsg(body), c.want) {
			t.Errorf("%s: %d %q, want 400 with %q", c.body, code, errMsg(body), c.want)
		}
	}
	if n := len(e.fake.Requests()); n != before {
		t.Fatalf("invalid calls reached the upstream (%d requests)", n-before)
	}

	// GET describes the prompt with an example request that works.
	code, desc := e.call("GET", "summarize", "")
	if code != 200 || desc["description"] != "Summaries for an audience" || desc["version"] != 1.0 || desc["service"] != "chat" ||
		desc["variables_schema"].(map[string]any)["required"].([]any)[0] != "text" {
		t.Fatalf("describe: %d %v", code, desc)
	}
	ex, _ := json.Marshal(desc["example_request"])
	if code, body := e.call("POST", "summarize", string(ex)); code != 200 {
		t.Fatalf("example request %s: %d %v", ex, code, body)
	}

	// The call log carries slug and version.
	var prompted []*calllog.Record
	for _, r := range e.log.all() {
		if r.Endpoint == "prompt" && r.Status == 200 && r.PromptSlug != "" {
			prompted = append(prompted, r)
		}
	}
	if len(prompted) < 6 {
		t.Fatalf("%d prompt records", len(prompted))
	}
	first := prompted[0]
	if first.PromptSlug != "summarize" || first.PromptVersion != 1 || first.Model != "gpt-4o" || first.ServiceID != e.f.Service.ID ||
		first.Provider != "openai-main" || first.TokensIn == 0 {
		t.Fatalf("record %+v", first)
	}
	sawV2 := false
	for _, r := range prompted {
		sawV2 = sawV2 || r.PromptVersion == 2
	}
	// A call refused for its variables still counts for the prompt's service.
	refused := 0
	for _, r := range e.log.all() {
		if r.Endpoint == "prompt" && r.Status == 400 {
			refused++
			if r.ServiceID != e.f.Service.ID || r.PromptSlug != "summarize" {
				t.Fatalf("refused prompt call recorded without its service: %+v", r)
			}
		}
	}
	if refused == 0 {
		t.Fatal("no refused prompt call was recorded")
	}
	if !sawV2 {
		t.Fatal("no record of version 2")
	}
}

func TestPromptSubscriptionAndMissingModel(t *testing.T) {
	e := newPromptEnv(t)
	ctx := context.Background()
	p, err := e.store.Create(ctx, e.actor, &prompts.Prompt{Slug: "s", Name: "S", ServiceID: e.f.Service.ID})
	if err != nil {
		t.Fatal(err)
	}
	e.publish(p.ID, e.version(p.ID, "gpt-4o", "{{text}}", ""))
	var sub admin.Subscription
	if err := e.f.DB.Where("consumer_id = ?", e.f.Consumer.ID).Take(&sub).Error; err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ status, want string }{
		{admin.StatusPending, `subscription to service "chat" is pending`},
		{admin.StatusRevoked, `subscription to service "chat" was revoked`},
	} {
		e.f.SetStatus(t, sub, c.status)
		e.changed(t)
		if code, body := e.call("POST", "s", `{"variables":{"text":"x"}}`); code != 403 || !strings.Contains(errMsg(body), c.want) {
			t.Fatalf("%s: %d %v", c.status, code, body)
		}
	}
	e.f.DB.Delete(&sub)
	e.changed(t)
	if code, body := e.call("POST", "s", `{"variables":{"text":"x"}}`); code != 403 || !strings.Contains(errMsg(body), `POST /v1/subscriptions {"service":"chat"}`) {
		t.Fatalf("no subscription: %d %v", code, body)
	}
	e.f.Subscribe(t, admin.StatusApproved)
	e.changed(t)

	// A prompt whose model was deleted after publishing: 503 naming it.
	e.publish(p.ID, e.version(p.ID, "claude", "{{text}}", ""))
	if err := e.f.DB.Where("name = ?", "claude").Delete(&admin.Model{}).Error; err != nil {
		t.Fatal(err)
	}
	e.changed(t)
	if code, body := e.call("POST", "s", `{"variables":{"text":"x"}}`); code != 503 || !strings.Contains(errMsg(body), `"claude"`) {
		t.Fatalf("deleted model: %d %v", code, body)
	}
}

func TestPromptJSONOutput(t *testing.T) {
	e := newPromptEnv(t)
	e.fake.FixedReply = `{"sentiment":"positive","score":0.9}`
	p, err := e.store.Create(context.Background(), e.actor, &prompts.Prompt{Slug: "classify", Name: "Classify", ServiceID: e.f.Service.ID})
	if err != nil {
		t.Fatal(err)
	}
	e.publish(p.ID, e.version(p.ID, "gpt-4o", "Classify: {{text}}",
		`{"response_format":{"type":"json_schema","json_schema":{"name":"s","schema":{"type":"object"}}}}`))
	code, body := e.call("POST", "classify", `{"variables":{"text":"great"}}`)
	out, ok := body["output"].(map[string]any)
	if code != 200 || !ok || out["sentiment"] != "positive" {
		t.Fatalf("json output: %d %v", code, body)
	}
}
