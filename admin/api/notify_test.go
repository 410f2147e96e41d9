package api

import (
	"context"
	"fmt"
	"testing"

	"github.com/sluicehq/sluice/admin"
)

// TestWritesNotify checks that every write the data plane depends on tells
// it, before answering, and that reads and user writes do not.
func TestWritesNotify(t *testing.T) {
	e := newEnv(t, "sqlite")
	e.user("root@example.com", admin.RoleAdmin)
	tok := e.login("root@example.com")
	var team, model, svc, con, key, prov map[string]any
	var subPath string
	steps := []struct {
		name   string
		notify bool
		run    func()
	}{
		{"create team", true, func() { team = e.must(201, "POST", "/teams", tok, map[string]any{"name": "T"}) }},
		{"rename team", true, func() { e.must(200, "PATCH", idPath("/teams", team), tok, map[string]any{"name": "T2"}) }},
		{"create provider", true, func() {
			prov = e.must(201, "POST", "/providers", tok, map[string]any{"name": "p", "kind": "openai", "api_key": "sk-x"})
		}},
		{"update provider", true, func() { e.must(200, "PATCH", idPath("/providers", prov), tok, map[string]any{"enabled": false}) }},
		{"create model", true, func() {
			model = e.must(201, "POST", "/models", tok, map[string]any{"name": "m", "targets": []any{map[string]any{"provider_id": prov["id"], "upstream_model": "gpt-4o"}}})
		}},
		{"update model", true, func() { e.must(200, "PATCH", idPath("/models", model), tok, map[string]any{"output_price": 2}) }},
		{"create service", true, func() {
			svc = e.must(201, "POST", "/services", tok, map[string]any{"slug": "s", "name": "S", "team_id": team["id"], "model_ids": []any{model["id"]}})
		}},
		{"update service", true, func() {
			e.must(200, "PATCH", idPath("/services", svc), tok, map[string]any{"limits": map[string]any{"rpm": 5}})
		}},
		{"create consumer", true, func() {
			con = e.must(201, "POST", "/consumers", tok, map[string]any{"name": "c", "team_id": team["id"]})
		}},
		{"update consumer", true, func() { e.must(200, "PATCH", idPath("/consumers", con), tok, map[string]any{"name": "c2"}) }},
		{"create key", true, func() { key = e.must(201, "POST", idPath("/consumers", con)+"/keys", tok, map[string]any{"name": "k"}) }},
		{"request subscription", true, func() {
			sub, _, err := e.stores.Subscriptions.Request(context.Background(), id(con), "s")
			if err != nil {
				t.Fatal(err)
			}
			subPath = fmt.Sprintf("/subscriptions/%d", sub.ID)
		}},
		{"approve", true, func() { e.must(200, "POST", subPath+"/approve", tok, nil) }},
		{"revoke subscription", true, func() { e.must(200, "POST", subPath+"/revoke", tok, map[string]any{"reason": "r"}) }},
		{"revoke key", true, func() { e.must(200, "DELETE", idPath("/consumers", con)+"/keys/"+key["id"].(string), tok, nil) }},
		{"read", false, func() { e.must(200, "GET", "/services", tok, nil) }},
		{"create user", false, func() {
			e.must(201, "POST", "/users", tok, map[string]any{"email": "u@example.com", "password": "long enough"})
		}},
		{"delete consumer", true, func() { e.must(204, "DELETE", idPath("/consumers", con), tok, nil) }},
		{"delete service", true, func() { e.must(204, "DELETE", idPath("/services", svc), tok, nil) }},
		{"delete model", true, func() { e.must(204, "DELETE", idPath("/models", model), tok, nil) }},
		{"delete provider", true, func() { e.must(204, "DELETE", idPath("/providers", prov), tok, nil) }},
		{"delete team", true, func() { e.must(204, "DELETE", idPath("/teams", team), tok, nil) }},
	}
	for _, s := range steps {
		before := e.notes.n.Load()
		s.run()
		if got := e.notes.n.Load() > before; got != s.notify {
			t.Errorf("%s: notified = %v, want %v", s.name, got, s.notify)
		}
	}
}
