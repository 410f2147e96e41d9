package api

import (
	"net/http/httptest"

	"github.com/gin-gonic/gin"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/admin"
	"github.com/sluicehq/sluice/internal/dbtest"
	"github.com/sluicehq/sluice/internal/fakes/anthropicfake"
	"github.com/sluicehq/sluice/internal/fakes/openaifake"
	"github.com/sluicehq/sluice/internal/relay"
)

// storedProvider reads a provider row as stored.
func (e *env) storedProvider(id uint64) admin.Provider {
	e.t.Helper()
	var p admin.Provider
	if err := e.db.Where("id = ?", id).Take(&p).Error; err != nil {
		e.t.Fatal(err)
	}
	return p
}

// noSecret fails when body holds any of secrets.
func noSecret(t *testing.T, what string, body []byte, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(string(body), s) {
			t.Fatalf("%s holds a secret %q: %s", what, s, body)
		}
	}
}

func TestProviders(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		e.user("root@example.com", admin.RoleAdmin)
		tok := e.login("root@example.com")
		const key1, key2 = "sk-first-secret-key-0001", "sk-second-secret-key-0002"
		var sealed []string // every sealed value the test sees
		var bodies [][]byte // every answer

		check := func(r resp, want int) map[string]any {
			t.Helper()
			bodies = append(bodies, r.Body)
			if r.Code != want {
				t.Fatalf("status %d, want %d: %s", r.Code, want, r.Body)
			}
			if len(r.Body) == 0 {
				return nil
			}
			return r.json(t)
		}

		before := e.notes.n.Load()
		p := check(e.do("POST", "/providers", tok, map[string]any{
			"name": "openai main", "kind": "openai", "api_key": key1, "settings": map[string]any{"organization": "org-1"},
			"headers": map[string]any{"X-Team": "search"}, "timeout_ms": 30000}), 201)
		if e.notes.n.Load() == before {
			t.Fatal("creating a provider did not notify the data plane")
		}
		if p["has_api_key"] != true || p["enabled"] != true || p["kind"] != "openai" || p["timeout_ms"] != 30000.0 ||
			p["settings"].(map[string]any)["organization"] != "org-1" || p["headers"].(map[string]any)["X-Team"] != "search" {
			t.Fatalf("created provider = %v", p)
		}
		if _, ok := p["api_key"]; ok {
			t.Fatalf("answer has api_key: %v", p)
		}
		pPath := idPath("/providers", p)
		row := e.storedProvider(id(p))
		if row.APIKeySealed == "" || strings.Contains(row.APIKeySealed, key1) {
			t.Fatalf("stored credential %q is not sealed", row.APIKeySealed)
		}
		if got, err := e.sealer.Open(row.APIKeySealed); err != nil || got != key1 {
			t.Fatalf("sealed credential opens to %q, %v", got, err)
		}
		sealed = append(sealed, row.APIKeySealed)

		// Read: get and list, by any signed-in user.
		e.user("member@example.com", admin.RoleMember)
		mem := e.login("member@example.com")
		got := check(e.do("GET", pPath, mem, nil), 200)
		if got["name"] != "openai main" || got["has_api_key"] != true {
			t.Fatalf("GET provider = %v", got)
		}
		check(e.do("POST", "/providers", tok, map[string]any{"name": "local", "kind": "openai-compatible", "base_url": "http://127.0.0.1:9/v1", "enabled": false}), 201)
		l := check(e.do("GET", "/providers?kind=openai-compatible", mem, nil), 200)
		if l["total"] != 1.0 || l["data"].([]any)[0].(map[string]any)["has_api_key"] != false {
			t.Fatalf("list by kind = %v", l)
		}
		if l := check(e.do("GET", "/providers?q=MAIN", tok, nil), 200); l["total"] != 1.0 {
			t.Fatalf("list by q = %v", l)
		}

		// Members cannot write or test.
		for _, w := range []struct{ method, path string }{{"POST", "/providers"}, {"PATCH", pPath}, {"DELETE", pPath}, {"POST", pPath + "/test"}} {
			if r := e.do(w.method, w.path, mem, map[string]any{"name": "x", "kind": "openai"}); r.Code != 403 {
				t.Fatalf("member %s %s: %d %s", w.method, w.path, r.Code, r.Body)
			}
		}

		// PATCH without api_key keeps it; with it replaces it; "" clears it.
		up := check(e.do("PATCH", pPath, tok, map[string]any{"timeout_ms": 1000, "settings": map[string]any{}}), 200)
		if up["has_api_key"] != true || up["timeout_ms"] != 1000.0 || len(up["settings"].(map[string]any)) != 0 || up["headers"].(map[string]any)["X-Team"] != "search" {
			t.Fatalf("patched = %v", up)
		}
		if r := e.storedProvider(id(p)); r.APIKeySealed != row.APIKeySealed {
			t.Fatal("PATCH without api_key changed the credential")
		}
		check(e.do("PATCH", pPath, tok, map[string]any{"api_key": key2}), 200)
		row = e.storedProvider(id(p))
		if got, _ := e.sealer.Open(row.APIKeySealed); got != key2 {
			t.Fatalf("replaced credential opens to %q", got)
		}
		sealed = append(sealed, row.APIKeySealed)
		cleared := check(e.do("PATCH", pPath, tok, map[string]any{"api_key": ""}), 200)
		if cleared["has_api_key"] != false || e.storedProvider(id(p)).APIKeySealed != "" {
			t.Fatalf("cleared = %v", cleared)
		}
		check(e.do("PATCH", pPath, tok, map[string]any{"api_key": key1, "name": "openai"}), 200)
		sealed = append(sealed, e.storedProvider(id(p)).APIKeySealed)

		// Targets: a model routed to it; the provider cannot go while it is.
		m := check(e.do("POST", "/models", tok, map[string]any{"name": "gpt-4o", "input_price": 2.5, "targets": []any{
			map[string]any{"provider_id": p["id"], "upstream_model": "gpt-4o-2024-08-06", "priority": 1},
			map[string]any{"provider_id": p["id"], "upstream_model": "gpt-4o", "weight": 3},
		}}), 201)
		ts := m["targets"].([]any)
		if len(ts) != 2 {
			t.Fatalf("targets = %v", ts)
		}
		first := ts[0].(map[string]any)
		if first["upstream_model"] != "gpt-4o" || first["weight"] != 3.0 || first["priority"] != 0.0 ||
			first["provider_name"] != "openai" || first["provider_kind"] != "openai" || first["model_id"] != m["id"] {
			t.Fatalf("first target (priority 0) = %v", first)
		}
		if second := ts[1].(map[string]any); second["weight"] != 1.0 || second["priority"] != 1.0 {
			t.Fatalf("second target defaults = %v", second)
		}
		r := e.do("DELETE", pPath, tok, nil)
		bodies = append(bodies, r.Body)
		if r.Code != 409 || !strings.Contains(r.errMessage(t), "gpt-4o") {
			t.Fatalf("delete provider in use: %d %s", r.Code, r.Body)
		}
		if l := check(e.do("GET", "/models", mem, nil), 200); len(l["data"].([]any)[0].(map[string]any)["targets"].([]any)) != 2 {
			t.Fatalf("model list without targets: %v", l)
		}
		mPath := idPath("/models", m)
		other := check(e.do("POST", "/providers", tok, map[string]any{"name": "claude", "kind": "anthropic", "api_key": "sk-ant-third"}), 201)
		sealed = append(sealed, e.storedProvider(id(other)).APIKeySealed)
		m2 := check(e.do("PATCH", mPath, tok, map[string]any{"targets": []any{map[string]any{"provider_id": other["id"], "upstream_model": "claude-sonnet-4-5"}}}), 200)
		if ts := m2["targets"].([]any); len(ts) != 1 || ts[0].(map[string]any)["provider_kind"] != "anthropic" || m2["input_price"] != 2.5 {
			t.Fatalf("replaced targets = %v", m2)
		}
		if m3 := check(e.do("PATCH", mPath, tok, map[string]any{"output_price": 10}), 200); len(m3["targets"].([]any)) != 1 {
			t.Fatalf("PATCH without targets changed them: %v", m3)
		}
		check(e.do("DELETE", pPath, tok, nil), 204)
		check(e.do("GET", pPath, tok, nil), 404)
		// Deleting the model takes its targets; then its provider can go.
		check(e.do("DELETE", mPath, tok, nil), 204)
		var left int64
		e.db.Model(&admin.ModelTarget{}).Count(&left)
		if left != 0 {
			t.Fatalf("%d targets left after the model was deleted", left)
		}
		check(e.do("DELETE", idPath("/providers", other), tok, nil), 204)

		// No answer and no audit row holds a credential, sealed or not.
		aud := check(e.do("GET", "/audit?resource=provider&per_page=200", tok, nil), 200)
		if aud["total"].(float64) < 8 {
			t.Fatalf("provider audit entries = %v", aud["total"])
		}
		var rows []admin.AuditEntry
		if err := e.db.Find(&rows).Error; err != nil {
			t.Fatal(err)
		}
		secrets := append([]string{key1, key2, "sk-ant-third"}, sealed...)
		for _, row := range rows {
			noSecret(t, "audit row", []byte(row.Before+row.After), secrets...)
		}
		for _, b := range bodies {
			noSecret(t, "answer", b, secrets...)
		}
		seen := map[string]bool{}
		for _, x := range aud["data"].([]any) {
			seen[x.(map[string]any)["action"].(string)] = true
		}
		if !seen["create"] || !seen["update"] || !seen["delete"] {
			t.Fatalf("provider audit actions = %v", seen)
		}
	})
}

func TestProviderConnectionTest(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		e.user("root@example.com", admin.RoleAdmin)
		tok := e.login("root@example.com")

		fake := openaifake.New()
		fake.APIKey = "sk-right-key-123456"
		srv := httptest.NewServer(fake)
		defer srv.Close()

		good := e.must(201, "POST", "/providers", tok, map[string]any{"name": "good", "kind": "openai-compatible", "base_url": srv.URL + "/v1", "api_key": fake.APIKey})
		res := e.must(200, "POST", idPath("/providers", good)+"/test", tok, nil)
		if res["ok"] != true || res["check"] != "list_models" || res["latency_ms"] == nil {
			t.Fatalf("test = %v", res)
		}
		if ms := res["models"].([]any); len(ms) != len(openaifake.DefaultModels()) || ms[0] != "gpt-4o" {
			t.Fatalf("models = %v", ms)
		}

		const wrong = "sk-wrong-key-987654321"
		bad := e.must(201, "POST", "/providers", tok, map[string]any{"name": "bad", "kind": "openai", "base_url": srv.URL + "/v1", "api_key": wrong})
		r := e.do("POST", idPath("/providers", bad)+"/test", tok, map[string]any{})
		res = r.json(t)
		if r.Code != 200 || res["ok"] != false || res["status"] != 401.0 || !strings.Contains(res["error"].(string), "Incorrect API key") {
			t.Fatalf("test with a wrong key = %d %s", r.Code, r.Body)
		}
		noSecret(t, "test answer", r.Body, wrong, fake.APIKey, e.storedProvider(id(bad)).APIKeySealed)

		// An upstream that is not there fails quickly, without the key.
		gone := httptest.NewServer(openaifake.New())
		gone.Close()
		down := e.must(201, "POST", "/providers", tok, map[string]any{"name": "down", "kind": "openai-compatible", "base_url": gone.URL + "/v1", "api_key": wrong})
		r = e.do("POST", idPath("/providers", down)+"/test", tok, nil)
		if res := r.json(t); r.Code != 200 || res["ok"] != false || res["error"] == "" {
			t.Fatalf("test of an unreachable upstream = %d %s", r.Code, r.Body)
		}
		noSecret(t, "test answer", r.Body, wrong)

		// A kind that cannot list models needs a model and sends a chat
		// completion to it.
		afake := anthropicfake.New()
		afake.APIKey = "sk-ant-right"
		asrv := httptest.NewServer(afake)
		defer asrv.Close()
		claude := e.must(201, "POST", "/providers", tok, map[string]any{"name": "claude", "kind": "anthropic", "base_url": asrv.URL, "api_key": afake.APIKey})
		cPath := idPath("/providers", claude) + "/test"
		if r := e.do("POST", cPath, tok, nil); r.Code != 400 || r.errParam(t) != "model" {
			t.Fatalf("anthropic test without a model: %d %s", r.Code, r.Body)
		}
		res = e.must(200, "POST", cPath, tok, map[string]any{"model": "claude-haiku-4-5"})
		if res["ok"] != true || res["check"] != "chat" || res["model"] != "claude-haiku-4-5" {
			t.Fatalf("anthropic test = %v", res)
		}
		e.must(200, "PATCH", idPath("/providers", claude), tok, map[string]any{"api_key": "sk-ant-wrong-1234"})
		r = e.do("POST", cPath, tok, map[string]any{"model": "claude-haiku-4-5"})
		if res := r.json(t); res["ok"] != false || res["status"] != 401.0 {
			t.Fatalf("anthropic test with a wrong key = %s", r.Body)
		}
		noSecret(t, "test answer", r.Body, "sk-ant-wrong-1234", afake.APIKey)
	})
}

func TestBreakersListed(t *testing.T) {
	e := newEnv(t, "sqlite")
	a := New(Deps{DB: e.db, Users: e.users, Keyring: e.ring, SessionKey: e.secret, Notifier: e.notes, Clock: e.clock, Sealer: e.sealer,
		Breakers: func() []relay.BreakerState {
			return []relay.BreakerState{{TargetID: "openai-main/gpt-4o", State: "open", ConsecutiveFailures: 5}}
		}})
	e.engine = gin.New()
	a.Register(e.engine.Group("/admin/api/v1"))
	e.user("ops@example.com", admin.RoleMember)
	out := e.must(200, "GET", "/breakers", e.login("ops@example.com"), nil)
	data, _ := out["data"].([]any)
	if len(data) != 1 || data[0].(map[string]any)["state"] != "open" || data[0].(map[string]any)["target_id"] != "openai-main/gpt-4o" {
		t.Fatalf("breakers: %v", out)
	}
	if r := e.do("GET", "/breakers", "", nil); r.Code != 401 {
		t.Fatalf("breakers without a session: %d", r.Code)
	}
}
