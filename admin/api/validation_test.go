package api

import (
	"fmt"
	"testing"
	"time"

	"github.com/sluicehq/sluice/admin"
	"github.com/sluicehq/sluice/internal/dbtest"
)

func TestValidation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		e.user("root@example.com", admin.RoleAdmin)
		tok := e.login("root@example.com")
		team := e.must(201, "POST", "/teams", tok, map[string]any{"name": "T"})
		other := e.must(201, "POST", "/teams", tok, map[string]any{"name": "U"})
		tid := id(team)
		model := e.must(201, "POST", "/models", tok, map[string]any{"name": "m"})
		prov := e.must(201, "POST", "/providers", tok, map[string]any{"name": "p", "kind": "openai"})
		target := func(over map[string]any) map[string]any {
			t := map[string]any{"provider_id": prov["id"], "upstream_model": "gpt-4o"}
			for k, v := range over {
				t[k] = v
			}
			return t
		}
		withTargets := func(ts ...map[string]any) map[string]any {
			return map[string]any{"name": "x", "targets": ts}
		}
		svc := e.must(201, "POST", "/services", tok, map[string]any{"slug": "s", "name": "S", "team_id": tid, "model_ids": []any{model["id"]}})
		con := e.must(201, "POST", "/consumers", tok, map[string]any{"name": "c", "team_id": tid})
		conKeys := idPath("/consumers", con) + "/keys"
		past := e.clock.Now().Add(-time.Hour).Format(time.RFC3339)

		cases := []struct {
			name, method, path string
			body               any
			status             int
			param              string
		}{
			{"malformed JSON", "POST", "/teams", `{"name":`, 400, ""},
			{"not JSON", "POST", "/teams", `name=x`, 400, ""},
			{"empty body", "POST", "/teams", ``, 400, ""},
			{"trailing data", "POST", "/teams", `{"name":"a"} {}`, 400, ""},
			{"array body", "POST", "/teams", `[]`, 400, ""},
			{"unknown field", "POST", "/teams", map[string]any{"name": "x", "owner": "me"}, 400, "owner"},
			{"wrong type", "POST", "/teams", map[string]any{"name": 5}, 400, "name"},
			{"team name missing", "POST", "/teams", map[string]any{}, 400, "name"},
			{"team name blank", "POST", "/teams", map[string]any{"name": "  "}, 400, "name"},
			{"team duplicate", "POST", "/teams", map[string]any{"name": "T"}, 409, ""},
			{"team rename duplicate", "PATCH", idPath("/teams", other), map[string]any{"name": "T"}, 409, ""},
			{"team unknown", "GET", "/teams/999", nil, 404, ""},
			{"team bad id", "GET", "/teams/abc", nil, 400, "id"},
			{"member unknown user", "POST", idPath("/teams", team) + "/members", map[string]any{"user_id": 999}, 400, "user_id"},
			{"member missing user", "POST", idPath("/teams", team) + "/members", map[string]any{}, 400, "user_id"},
			{"member unknown team", "POST", "/teams/999/members", map[string]any{"user_id": 1}, 404, ""},
			{"remove non-member", "DELETE", idPath("/teams", team) + "/members/1", nil, 404, ""},

			{"user bad email", "POST", "/users", map[string]any{"email": "nope", "password": "long enough"}, 400, "email"},
			{"user short password", "POST", "/users", map[string]any{"email": "a@example.com", "password": "short"}, 400, "password"},
			{"user bad role", "POST", "/users", map[string]any{"email": "a@example.com", "password": "long enough", "role": "root"}, 400, "role"},
			{"user duplicate", "POST", "/users", map[string]any{"email": "ROOT@example.com", "password": "long enough"}, 409, ""},
			{"user unknown", "GET", "/users/999", nil, 404, ""},
			{"user update bad role", "PATCH", "/users/1", map[string]any{"role": "owner"}, 400, "role"},
			{"user update disabled type", "PATCH", "/users/1", map[string]any{"disabled": "yes"}, 400, "disabled"},
			{"last admin disabled", "PATCH", "/users/1", map[string]any{"disabled": true}, 409, ""},
			{"last admin demoted", "PATCH", "/users/1", map[string]any{"role": "member"}, 409, ""},
			{"password reset short", "POST", "/users/1/password", map[string]any{"password": "x"}, 400, "password"},
			{"password reset unknown", "POST", "/users/999/password", map[string]any{"password": "long enough"}, 404, ""},

			{"model name missing", "POST", "/models", map[string]any{"input_price": 1}, 400, "name"},
			{"model name spaces", "POST", "/models", map[string]any{"name": "gpt 4"}, 400, "name"},
			{"model negative price", "POST", "/models", map[string]any{"name": "x", "input_price": -1}, 400, "input_price"},
			{"model output price type", "POST", "/models", map[string]any{"name": "x", "output_price": "1"}, 400, "output_price"},
			{"model targets not a list", "POST", "/models", map[string]any{"name": "x", "targets": map[string]any{}}, 400, "targets"},
			{"model target unknown provider", "POST", "/models", withTargets(target(nil), target(map[string]any{"provider_id": 999, "upstream_model": "b"})), 400, "targets[1].provider_id"},
			{"model target provider missing", "POST", "/models", withTargets(target(map[string]any{"provider_id": nil})), 400, "targets[0].provider_id"},
			{"model target upstream blank", "POST", "/models", withTargets(target(nil), target(map[string]any{"upstream_model": "b"}), target(map[string]any{"upstream_model": " "})), 400, "targets[2].upstream_model"},
			{"model target repeated", "POST", "/models", withTargets(target(nil), target(map[string]any{"priority": 1})), 400, "targets[1].upstream_model"},
			{"model target weight zero", "POST", "/models", withTargets(target(map[string]any{"weight": 0})), 400, "targets[0].weight"},
			{"model target priority negative", "POST", "/models", withTargets(target(map[string]any{"priority": -1})), 400, "targets[0].priority"},
			{"model target unknown field", "POST", "/models", withTargets(target(map[string]any{"provider": "p"})), 400, "provider"},
			{"model update target unknown provider", "PATCH", idPath("/models", model), map[string]any{"targets": []any{target(map[string]any{"provider_id": 998})}}, 400, "targets[0].provider_id"},

			{"provider kind unknown", "POST", "/providers", map[string]any{"name": "q", "kind": "openia"}, 400, "kind"},
			{"provider kind missing", "POST", "/providers", map[string]any{"name": "q"}, 400, "kind"},
			{"provider name missing", "POST", "/providers", map[string]any{"kind": "openai"}, 400, "name"},
			{"provider compatible without base_url", "POST", "/providers", map[string]any{"name": "q", "kind": "openai-compatible"}, 400, "base_url"},
			{"provider azure without base_url", "POST", "/providers", map[string]any{"name": "q", "kind": "azure", "api_key": "k"}, 400, "base_url"},
			{"provider base_url not http", "POST", "/providers", map[string]any{"name": "q", "kind": "openai", "base_url": "ftp://x"}, 400, "base_url"},
			{"provider settings not strings", "POST", "/providers", map[string]any{"name": "q", "kind": "openai", "settings": map[string]any{"a": 1}}, 400, "settings"},
			{"provider headers not an object", "POST", "/providers", map[string]any{"name": "q", "kind": "openai", "headers": []any{"x"}}, 400, "headers"},
			{"provider header name", "POST", "/providers", map[string]any{"name": "q", "kind": "openai", "headers": map[string]any{"bad name": "x"}}, 400, "headers"},
			{"provider header value", "POST", "/providers", map[string]any{"name": "q", "kind": "openai", "headers": map[string]any{"X-A": "a\r\nb"}}, 400, "headers.X-A"},
			{"provider anthropic bad setting", "POST", "/providers", map[string]any{"name": "q", "kind": "anthropic", "settings": map[string]any{"default_max_tokens": "many"}}, 400, "settings.default_max_tokens"},
			{"provider timeout negative", "POST", "/providers", map[string]any{"name": "q", "kind": "openai", "timeout_ms": -1}, 400, "timeout_ms"},
			{"provider enabled type", "POST", "/providers", map[string]any{"name": "q", "kind": "openai", "enabled": "yes"}, 400, "enabled"},
			{"provider unknown field", "POST", "/providers", map[string]any{"name": "q", "kind": "openai", "apikey": "x"}, 400, "apikey"},
			{"provider duplicate", "POST", "/providers", map[string]any{"name": "p", "kind": "openai"}, 409, ""},
			{"provider update to compatible without base_url", "PATCH", idPath("/providers", prov), map[string]any{"kind": "openai-compatible"}, 400, "base_url"},
			{"provider update kind unknown", "PATCH", idPath("/providers", prov), map[string]any{"kind": ""}, 400, "kind"},
			{"provider unknown", "GET", "/providers/999", nil, 404, ""},
			{"provider update unknown", "PATCH", "/providers/999", map[string]any{"enabled": false}, 404, ""},
			{"provider test unknown", "POST", "/providers/999/test", nil, 404, ""},
			{"provider test bad body", "POST", idPath("/providers", prov) + "/test", map[string]any{"modle": "x"}, 400, "modle"},
			{"model duplicate", "POST", "/models", map[string]any{"name": "m"}, 409, ""},
			{"model unknown", "PATCH", "/models/999", map[string]any{"input_price": 1}, 404, ""},

			{"service bad slug", "POST", "/services", map[string]any{"slug": "Bad Slug", "name": "x", "team_id": tid}, 400, "slug"},
			{"service slug too long", "POST", "/services", map[string]any{"slug": fmt.Sprintf("%064d", 0), "name": "x", "team_id": tid}, 400, "slug"},
			{"service name missing", "POST", "/services", map[string]any{"slug": "x", "team_id": tid}, 400, "name"},
			{"service team type", "POST", "/services", map[string]any{"slug": "x", "name": "x", "team_id": "one"}, 400, "team_id"},
			{"service team missing", "POST", "/services", map[string]any{"slug": "x", "name": "x"}, 400, "team_id"},
			{"service team unknown", "POST", "/services", map[string]any{"slug": "x", "name": "x", "team_id": 999}, 400, "team_id"},
			{"service approval", "POST", "/services", map[string]any{"slug": "x", "name": "x", "team_id": tid, "approval": "sometimes"}, 400, "approval"},
			{"service model unknown", "POST", "/services", map[string]any{"slug": "x", "name": "x", "team_id": tid, "model_ids": []any{model["id"], 999}}, 400, "model_ids"},
			{"service rpm negative", "POST", "/services", map[string]any{"slug": "x", "name": "x", "team_id": tid, "limits": map[string]any{"rpm": -1}}, 400, "limits.rpm"},
			{"service tpm type", "POST", "/services", map[string]any{"slug": "x", "name": "x", "team_id": tid, "limits": map[string]any{"tpm": "many"}}, 400, "limits.tpm"},
			{"service limits unknown", "POST", "/services", map[string]any{"slug": "x", "name": "x", "team_id": tid, "limits": map[string]any{"rpd": 1}}, 400, "rpd"},
			{"service duplicate slug", "POST", "/services", map[string]any{"slug": "s", "name": "x", "team_id": tid}, 409, ""},
			{"service update bad slug", "PATCH", idPath("/services", svc), map[string]any{"slug": "-x"}, 400, "slug"},
			{"service update unknown field", "PATCH", idPath("/services", svc), map[string]any{"owner": 1}, 400, "owner"},
			{"service update unknown model", "PATCH", idPath("/services", svc), map[string]any{"model_ids": []any{999}}, 400, "model_ids"},
			{"service unknown", "GET", "/services/999", nil, 404, ""},
			{"service delete unknown", "DELETE", "/services/999", nil, 404, ""},
			{"model in use", "DELETE", idPath("/models", model), nil, 409, ""},

			{"consumer name missing", "POST", "/consumers", map[string]any{"team_id": tid}, 400, "name"},
			{"consumer team unknown", "POST", "/consumers", map[string]any{"name": "x", "team_id": 999}, 400, "team_id"},
			{"consumer duplicate in team", "POST", "/consumers", map[string]any{"name": "c", "team_id": tid}, 409, ""},
			{"consumer same name other team", "POST", "/consumers", map[string]any{"name": "c", "team_id": id(other)}, 201, ""},
			{"consumer unknown", "GET", "/consumers/999", nil, 404, ""},
			{"key name missing", "POST", conKeys, map[string]any{}, 400, "name"},
			{"key expired", "POST", conKeys, map[string]any{"name": "k", "expires_at": past}, 400, "expires_at"},
			{"key bad time", "POST", conKeys, map[string]any{"name": "k", "expires_at": "tomorrow"}, 400, "expires_at"},
			{"key unknown consumer", "POST", "/consumers/999/keys", map[string]any{"name": "k"}, 404, ""},
			{"keys unknown consumer", "GET", "/consumers/999/keys", nil, 404, ""},

			{"subscription unknown", "GET", "/subscriptions/999", nil, 404, ""},
			{"approve unknown", "POST", "/subscriptions/999/approve", nil, 404, ""},
			{"subscription status filter", "GET", "/subscriptions?status=maybe", nil, 400, "status"},
			{"subscription service filter", "GET", "/subscriptions?service_id=x", nil, 400, "service_id"},
			{"per_page too big", "GET", "/teams?per_page=500", nil, 400, "per_page"},
			{"page zero", "GET", "/services?page=0", nil, 400, "page"},
			{"audit since", "GET", "/audit?since=yesterday", nil, 400, "since"},
			{"audit actor", "GET", "/audit?actor_id=-1", nil, 400, "actor_id"},
			{"login email missing", "POST", "/login", map[string]any{"password": "x"}, 400, "email"},
			{"unknown route", "GET", "/nothing", nil, 404, ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := e.do(c.method, c.path, tok, c.body)
				if r.Code != c.status {
					t.Fatalf("%s %s: %d, want %d: %s", c.method, c.path, r.Code, c.status, r.Body)
				}
				if c.status >= 400 && c.status != 404 || c.param != "" {
					if p := r.errParam(t); p != c.param {
						t.Fatalf("param = %q, want %q: %s", p, c.param, r.Body)
					}
					if r.errMessage(t) == "" {
						t.Fatal("no message")
					}
				}
			})
		}
	})
}

func TestPagination(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		e.user("root@example.com", admin.RoleAdmin)
		tok := e.login("root@example.com")
		for i := range 5 {
			e.must(201, "POST", "/teams", tok, map[string]any{"name": fmt.Sprintf("team %d", i)})
		}
		e.must(201, "POST", "/teams", tok, map[string]any{"name": "Other_50%"})
		for _, c := range []struct {
			query         string
			total, n      int
			first         string
			page, perPage int
		}{
			{"", 6, 6, "team 0", 1, 50},
			{"?per_page=2", 6, 2, "team 0", 1, 2},
			{"?per_page=2&page=3", 6, 2, "team 4", 3, 2},
			{"?per_page=4&page=2", 6, 2, "team 4", 2, 4},
			{"?per_page=2&page=9", 6, 0, "", 9, 2},
			{"?q=TEAM", 5, 5, "team 0", 1, 50},
			{"?q=_50%25", 1, 1, "Other_50%", 1, 50},
			{"?q=%25", 1, 1, "Other_50%", 1, 50},
		} {
			m := e.must(200, "GET", "/teams"+c.query, tok, nil)
			data := m["data"].([]any)
			if m["total"] != float64(c.total) || len(data) != c.n || m["page"] != float64(c.page) || m["per_page"] != float64(c.perPage) {
				t.Errorf("GET /teams%s = total %v, %d items, page %v, per_page %v; want %d, %d, %d, %d",
					c.query, m["total"], len(data), m["page"], m["per_page"], c.total, c.n, c.page, c.perPage)
				continue
			}
			if c.n > 0 && data[0].(map[string]any)["name"] != c.first {
				t.Errorf("GET /teams%s first = %v, want %s", c.query, data[0], c.first)
			}
		}
	})
}
