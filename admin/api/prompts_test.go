package api

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/admin"
	"github.com/sluicehq/sluice/internal/dbtest"
	"github.com/sluicehq/sluice/internal/fakes/openaifake"
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
