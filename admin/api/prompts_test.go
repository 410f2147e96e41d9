package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/sluicehq/sluice/admin"
	"github.com/sluicehq/sluice/internal/dbtest"
	"github.com/sluicehq/sluice/internal/fakes/openaifake"
	"github.com/sluicehq/sluice/providers/sse"
)

func TestPrompts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		e.user("root@example.com", admin.RoleAdmin)
		root := e.login("root@example.com")

		fake := openaifake.New()
		fake.APIKey = "sk-upstream-123456"
		srv := httptest.NewServer(fake)
		defer srv.Close()
		prov := e.must(201, "POST", "/providers", root, map[string]any{"name": "up", "kind": "openai-compatible", "base_url": srv.URL + "/v1", "api_key": fake.APIKey})
		e.must(201, "POST", "/models", root, map[string]any{"name": "gpt-4o", "targets": []any{map[string]any{"provider_id": id(prov), "upstream_model": "gpt-4o"}}})
		e.must(201, "POST", "/models", root, map[string]any{"name": "doomed"})
		teamA := e.must(201, "POST", "/teams", root, map[string]any{"name": "A"})
		teamB := e.must(201, "POST", "/teams", root, map[string]any{"name": "B"})
		svcA := e.must(201, "POST", "/services", root, map[string]any{"slug": "svc-a", "name": "A", "team_id": id(teamA)})
		svcB := e.must(201, "POST", "/services", root, map[string]any{"slug": "svc-b", "name": "B", "team_id": id(teamB)})
		e.user("alice@example.com", admin.RoleMember, id(teamA))
		alice := e.login("alice@example.com")

		// Create: fields checked; a member writes only into her team's services.
		if r := e.do("POST", "/prompts", alice, map[string]any{"slug": "Bad Slug", "name": "x", "service_id": id(svcA)}); r.Code != 400 || r.errParam(t) != "slug" {
			t.Fatalf("bad slug: %d %s", r.Code, r.Body)
		}
		if r := e.do("POST", "/prompts", alice, map[string]any{"slug": "x", "name": "x", "service_id": 999}); r.Code != 400 || r.errParam(t) != "service_id" {
			t.Fatalf("unknown service: %d %s", r.Code, r.Body)
		}
		if r := e.do("POST", "/prompts", alice, map[string]any{"slug": "x", "name": "x", "service_id": id(svcB)}); r.Code != 403 {
			t.Fatalf("other team's service: %d %s", r.Code, r.Body)
		}
		p := e.must(201, "POST", "/prompts", alice, map[string]any{"slug": "summarize", "name": "Summarize", "service_id": id(svcA), "description": "d"})
		if p["published_version"] != 0.0 || p["team_id"] != float64(id(teamA)) || p["service_slug"] != "svc-a" {
			t.Fatalf("created %v", p)
		}
		if r := e.do("POST", "/prompts", alice, map[string]any{"slug": "summarize", "name": "again", "service_id": id(svcA)}); r.Code != 409 {
			t.Fatalf("duplicate slug: %d", r.Code)
		}
		path := idPath("/prompts", p)

		schema := map[string]any{"type": "object", "properties": map[string]any{"text": map[string]any{"type": "string", "maxLength": 20}}, "required": []any{"text"}}
		msgs := []any{map[string]any{"role": "system", "content": "Be brief."}, map[string]any{"role": "user", "content": "Summarize: {{text}}"}}
		// Placeholders the schema does not declare are refused at save.
		r := e.do("POST", path+"/versions", alice, map[string]any{"model": "gpt-4o", "variables_schema": schema,
			"messages": []any{map[string]any{"role": "user", "content": "{{text}} {{secret}}"}}})
		if r.Code != 400 || r.errParam(t) != "messages[0].content" || !strings.Contains(r.errMessage(t), "{{secret}}") {
			t.Fatalf("undeclared placeholder: %d %s", r.Code, r.Body)
		}
		if r := e.do("POST", path+"/versions", alice, map[string]any{"model": "nope", "messages": msgs, "variables_schema": schema}); r.Code != 400 || r.errParam(t) != "model" {
			t.Fatalf("unknown model: %d %s", r.Code, r.Body)
		}
		if r := e.do("POST", path+"/versions", alice, map[string]any{"model": "gpt-4o", "messages": msgs, "variables_schema": map[string]any{"type": "string"}}); r.Code != 400 || r.errParam(t) != "variables_schema" {
			t.Fatalf("bad schema: %d %s", r.Code, r.Body)
		}
		v1 := e.must(201, "POST", path+"/versions", alice, map[string]any{"model": "gpt-4o", "messages": msgs, "variables_schema": schema,
			"parameters": map[string]any{"temperature": 0.2}})
		if v1["version"] != 1.0 || v1["created_by_email"] != "alice@example.com" {
			t.Fatalf("v1 %v", v1)
		}
		msgs2 := []any{map[string]any{"role": "system", "content": "Be very brief."}, map[string]any{"role": "user", "content": "Summarize: {{text}}"}}
		v2 := e.must(201, "POST", path+"/versions", alice, map[string]any{"model": "gpt-4o", "messages": msgs2, "variables_schema": schema, "note": "briefer"})
		if v2["version"] != 2.0 {
			t.Fatalf("v2 %v", v2)
		}
		list := e.must(200, "GET", path+"/versions", alice, nil)
		if list["total"] != 2.0 || list["data"].([]any)[0].(map[string]any)["version"] != 2.0 {
			t.Fatalf("versions %v", list)
		}
		if got := e.must(200, "GET", path+"/versions/1", alice, nil); got["parameters"].(map[string]any)["temperature"] != 0.2 {
			t.Fatalf("version 1 %v", got)
		}
		diff := e.must(200, "GET", path+"/versions/1/diff/2", alice, nil)
		if !strings.Contains(diff["messages"].(string), "-Be brief.\n+Be very brief.\n") {
			t.Fatalf("diff %v", diff)
		}

		// Test run of a draft: the fake echoes the rendered message.
		run := e.must(200, "POST", path+"/test", alice, map[string]any{"version": 2, "variables": map[string]any{"text": "{{x}}"}})
		comp, _ := run["completion"].(map[string]any)
		if run["status"] != 200.0 || comp == nil || comp["output"] != "echo: Summarize: {{x}}" || comp["version"] != 2.0 || run["provider"] != "up" {
			t.Fatalf("test run %v", run)
		}
		if r := e.do("POST", path+"/test", alice, map[string]any{"variables": map[string]any{"text": strings.Repeat("y", 21), "more": 1}}); r.Code != 400 ||
			!strings.Contains(r.errMessage(t), "text: must have at most 20") {
			t.Fatalf("test run with bad variables: %d %s", r.Code, r.Body)
		}

		// Publish, roll back; who and when are recorded.
		if r := e.do("POST", path+"/publish", alice, map[string]any{"version": 9}); r.Code != 400 || r.errParam(t) != "version" {
			t.Fatalf("publish unknown version: %d %s", r.Code, r.Body)
		}
		pub := e.must(200, "POST", path+"/publish", alice, map[string]any{"version": 2})
		if pub["published_version"] != 2.0 || pub["published_by_email"] != "alice@example.com" || pub["published_at"] == nil {
			t.Fatalf("published %v", pub)
		}
		if pub := e.must(200, "POST", path+"/publish", alice, map[string]any{"version": 1}); pub["published_version"] != 1.0 {
			t.Fatalf("rollback %v", pub)
		}
		audit := e.must(200, "GET", "/audit?resource=prompt&resource_id="+jsonNumber(p["id"]), alice, nil)
		if audit["total"].(float64) < 5 || audit["data"].([]any)[0].(map[string]any)["action"] != "publish" {
			t.Fatalf("audit %v", audit)
		}

		// A version whose model was deleted cannot be published.
		v3 := e.must(201, "POST", path+"/versions", alice, map[string]any{"model": "doomed", "messages": msgs, "variables_schema": schema})
		doomed := e.must(200, "GET", "/models?q=doomed", root, nil)["data"].([]any)[0].(map[string]any)
		e.must(204, "DELETE", idPath("/models", doomed), root, nil)
		if r := e.do("POST", path+"/publish", alice, map[string]any{"version": v3["version"]}); r.Code != 409 || !strings.Contains(r.errMessage(t), `"doomed"`) {
			t.Fatalf("publish with deleted model: %d %s", r.Code, r.Body)
		}

		// Another team's member sees nothing.
		e.user("bob@example.com", admin.RoleMember, id(teamB))
		bob := e.login("bob@example.com")
		if l := e.must(200, "GET", "/prompts", bob, nil); l["total"] != 0.0 {
			t.Fatalf("bob lists %v", l)
		}
		for _, c := range []struct{ method, path string }{{"GET", path}, {"GET", path + "/versions"}, {"POST", path + "/publish"}, {"DELETE", path}} {
			if r := e.do(c.method, c.path, bob, map[string]any{"version": 1}); r.Code != 404 {
				t.Fatalf("bob %s %s: %d", c.method, c.path, r.Code)
			}
		}
		if l := e.must(200, "GET", "/prompts?q=summ", alice, nil); l["total"] != 1.0 {
			t.Fatalf("alice lists %v", l)
		}
		e.must(200, "POST", path+"/unpublish", alice, nil)
		e.must(204, "DELETE", path, alice, nil)
		e.must(404, "GET", path, alice, nil)
	})
}

// streamEvent is one event of a streamed test run.
type streamEvent struct {
	name string
	data map[string]any
}

func readEvents(t *testing.T, body []byte) []streamEvent {
	t.Helper()
	var out []streamEvent
	rd := sse.NewReader(bytes.NewReader(body))
	for {
		ev, err := rd.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("reading the stream: %v\n%s", err, body)
		}
		var data map[string]any
		if err := json.Unmarshal(ev.Data, &data); err != nil {
			t.Fatalf("event %q data %q: %v", ev.Event, ev.Data, err)
		}
		out = append(out, streamEvent{name: ev.Event, data: data})
	}
}

// promptForStream sets up a prompt with one saved version calling a
// model served by fake, and returns its path and an admin's token.
func promptForStream(t *testing.T, e *env, fake *openaifake.Fake) (string, string) {
	t.Helper()
	e.user("root@example.com", admin.RoleAdmin)
	root := e.login("root@example.com")
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	prov := e.must(201, "POST", "/providers", root, map[string]any{"name": "up", "kind": "openai-compatible", "base_url": srv.URL + "/v1"})
	e.must(201, "POST", "/models", root, map[string]any{"name": "gpt-4o", "targets": []any{map[string]any{"provider_id": id(prov), "upstream_model": "gpt-4o"}}})
	team := e.must(201, "POST", "/teams", root, map[string]any{"name": "A"})
	svc := e.must(201, "POST", "/services", root, map[string]any{"slug": "svc-a", "name": "A", "team_id": id(team)})
	p := e.must(201, "POST", "/prompts", root, map[string]any{"slug": "summarize", "name": "Summarize", "service_id": id(svc)})
	path := idPath("/prompts", p)
	e.must(201, "POST", path+"/versions", root, map[string]any{"model": "gpt-4o",
		"variables_schema": map[string]any{"type": "object", "properties": map[string]any{"text": map[string]any{"type": "string"}}, "required": []any{"text"}},
		"messages":         []any{map[string]any{"role": "system", "content": "Be brief."}, map[string]any{"role": "user", "content": "Summarize: {{text}}"}}})
	return path, root
}

func TestPromptTestStream(t *testing.T) {
	e := newEnv(t, "sqlite")
	fake := openaifake.New()
	path, root := promptForStream(t, e, fake)

	// The text arrives as delta events, in order, between start and summary.
	r := e.do("POST", path+"/test", root, map[string]any{"version": 1, "stream": true, "variables": map[string]any{"text": "the quick brown fox"}})
	if r.Code != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream: %d %s %s", r.Code, r.Header.Get("Content-Type"), r.Body)
	}
	evs := readEvents(t, r.Body)
	if len(evs) < 4 || evs[0].name != "start" || evs[len(evs)-1].name != "summary" {
		t.Fatalf("events %v", evs)
	}
	if evs[0].data["version"] != 1.0 || evs[0].data["model"] != "gpt-4o" || len(evs[0].data["messages"].([]any)) != 2 {
		t.Fatalf("start %v", evs[0].data)
	}
	var text strings.Builder
	deltas := 0
	for _, ev := range evs[1 : len(evs)-1] {
		if ev.name != "delta" {
			t.Fatalf("event %q between start and summary", ev.name)
		}
		deltas++
		text.WriteString(ev.data["content"].(string))
	}
	want := "echo: Summarize: the quick brown fox"
	if text.String() != want || deltas < 4 {
		t.Fatalf("deltas (%d) make %q, want %q in pieces", deltas, text.String(), want)
	}
	sum := evs[len(evs)-1].data
	usage, _ := sum["usage"].(map[string]any)
	attempts, _ := sum["attempts"].([]any)
	if sum["status"] != 200.0 || sum["output"] != want || sum["finish_reason"] != "stop" || sum["provider"] != "up" ||
		usage == nil || usage["total_tokens"].(float64) <= 0 || len(attempts) != 1 || sum["error"] != nil {
		t.Fatalf("summary %v", sum)
	}
	if _, ok := sum["latency_ms"].(float64); !ok {
		t.Fatalf("summary without latency: %v", sum)
	}
	if got := fake.Requests(); !gjson.GetBytes(got[len(got)-1].Body, "stream").Bool() {
		t.Fatalf("upstream was not asked to stream: %s", got[len(got)-1].Body)
	}

	// Bad variables are still a plain 400 before any stream begins.
	if r := e.do("POST", path+"/test", root, map[string]any{"stream": true, "variables": map[string]any{}}); r.Code != 400 || r.errParam(t) == "" {
		t.Fatalf("stream with missing variables: %d %s", r.Code, r.Body)
	}

	// An upstream that fails before answering: the summary says so.
	fake.Script(openaifake.Fault{Status: 500}, openaifake.Fault{Status: 500})
	evs = readEvents(t, e.do("POST", path+"/test", root, map[string]any{"stream": true, "variables": map[string]any{"text": "x"}}).Body)
	sum = evs[len(evs)-1].data
	if len(evs) != 2 || evs[1].name != "summary" || sum["status"] != 502.0 && sum["status"] != 500.0 || sum["error"] == nil || len(sum["attempts"].([]any)) != 2 {
		t.Fatalf("failed upstream: %v", evs)
	}

	// An upstream that fails mid-stream: the text so far, then the error.
	fake.Script(openaifake.Fault{CutAfterChunks: 3})
	evs = readEvents(t, e.do("POST", path+"/test", root, map[string]any{"stream": true, "variables": map[string]any{"text": "one two three four five"}}).Body)
	sum = evs[len(evs)-1].data
	if evs[len(evs)-1].name != "summary" || sum["error"] == nil || len(evs) < 3 || evs[1].name != "delta" {
		t.Fatalf("stream cut: %v", evs)
	}
}

// cancelOnDelta is a client that goes away after the first delta event.
type cancelOnDelta struct {
	*httptest.ResponseRecorder
	cancel context.CancelFunc
}

func (w *cancelOnDelta) Write(b []byte) (int, error) {
	if bytes.Contains(b, []byte("event: delta")) {
		w.cancel()
	}
	return w.ResponseRecorder.Write(b)
}

func TestPromptTestStreamClientGone(t *testing.T) {
	e := newEnv(t, "sqlite")
	fake := openaifake.New()
	path, root := promptForStream(t, e, fake)
	fake.Script(openaifake.Fault{DelayBetweenChunks: 200 * time.Millisecond})

	words := strings.TrimSpace(strings.Repeat("word ", 40)) // 40 × 200ms if nobody stops it
	body, _ := json.Marshal(map[string]any{"stream": true, "variables": map[string]any{"text": words}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := httptest.NewRequest("POST", "/admin/api/v1"+path+"/test", bytes.NewReader(body)).WithContext(ctx)
	req.Header.Set("Authorization", "Bearer "+root)
	req.Header.Set("Content-Type", "application/json")
	w := &cancelOnDelta{ResponseRecorder: httptest.NewRecorder(), cancel: cancel}
	start := time.Now()
	e.engine.ServeHTTP(w, req)
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("the run went on %v after the client left", d)
	}
	evs := readEvents(t, w.Body.Bytes())
	if sum := evs[len(evs)-1].data; sum["status"] != 499.0 {
		t.Fatalf("summary after the client left: %v", sum)
	}
}
