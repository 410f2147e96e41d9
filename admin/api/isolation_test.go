package api

import (
	"context"
	"fmt"
	"testing"

	"github.com/sluicehq/sluice/admin"
	"github.com/sluicehq/sluice/internal/dbtest"
)

// TestTeamIsolation checks, for every resource, that a member of team A
// neither sees (404 or filtered out) nor changes (403) team B's, and can do
// all of it in team A.
func TestTeamIsolation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		ctx := context.Background()
		e.user("root@example.com", admin.RoleAdmin)
		root := e.login("root@example.com")
		teamA := e.must(201, "POST", "/teams", root, map[string]any{"name": "A"})
		teamB := e.must(201, "POST", "/teams", root, map[string]any{"name": "B"})
		a, b := id(teamA), id(teamB)
		model := e.must(201, "POST", "/models", root, map[string]any{"name": "m1"})
		svcB := e.must(201, "POST", "/services", root, map[string]any{"slug": "b-svc", "name": "B svc", "team_id": b, "model_ids": []any{model["id"]}})
		conB := e.must(201, "POST", "/consumers", root, map[string]any{"name": "b-app", "team_id": b})
		keyB := e.must(201, "POST", idPath("/consumers", conB)+"/keys", root, map[string]any{"name": "k"})
		subB, _, err := e.stores.Subscriptions.Request(ctx, id(conB), "b-svc")
		if err != nil {
			t.Fatal(err)
		}
		svcA := e.must(201, "POST", "/services", root, map[string]any{"slug": "a-svc", "name": "A svc", "team_id": a})
		conA := e.must(201, "POST", "/consumers", root, map[string]any{"name": "a-app", "team_id": a})
		// B's consumer asks for A's service: A's members decide it.
		subBtoA, _, err := e.stores.Subscriptions.Request(ctx, id(conB), "a-svc")
		if err != nil {
			t.Fatal(err)
		}
		// A's consumer asks for B's service: A's members see it, B decides.
		subAtoB, _, err := e.stores.Subscriptions.Request(ctx, id(conA), "b-svc")
		if err != nil {
			t.Fatal(err)
		}

		e.user("member@example.com", admin.RoleMember, a)
		mem := e.login("member@example.com")

		svcBPath, conBPath := idPath("/services", svcB), idPath("/consumers", conB)
		subBPath := fmt.Sprintf("/subscriptions/%d", subB.ID)
		denied := []struct {
			name, method, path string
			body               any
			want               int
		}{
			{"get B service", "GET", svcBPath, nil, 404},
			{"create service in B", "POST", "/services", map[string]any{"slug": "x", "name": "x", "team_id": b}, 403},
			{"update B service", "PATCH", svcBPath, map[string]any{"name": "mine"}, 403},
			{"delete B service", "DELETE", svcBPath, nil, 403},
			{"move A service to B", "PATCH", idPath("/services", svcA), map[string]any{"team_id": b}, 403},
			{"get B consumer", "GET", conBPath, nil, 404},
			{"create consumer in B", "POST", "/consumers", map[string]any{"name": "x", "team_id": b}, 403},
			{"update B consumer", "PATCH", conBPath, map[string]any{"name": "mine"}, 403},
			{"delete B consumer", "DELETE", conBPath, nil, 403},
			{"move A consumer to B", "PATCH", idPath("/consumers", conA), map[string]any{"team_id": b}, 403},
			{"list B keys", "GET", conBPath + "/keys", nil, 404},
			{"create B key", "POST", conBPath + "/keys", map[string]any{"name": "x"}, 403},
			{"revoke B key", "DELETE", conBPath + "/keys/" + keyB["id"].(string), nil, 403},
			{"get B subscription", "GET", subBPath, nil, 404},
			{"approve B subscription", "POST", subBPath + "/approve", nil, 403},
			{"reject B subscription", "POST", subBPath + "/reject", map[string]any{"reason": "x"}, 403},
			{"approve A consumer's subscription to B", "POST", fmt.Sprintf("/subscriptions/%d/approve", subAtoB.ID), nil, 403},
			{"list users", "GET", "/users", nil, 403},
			{"create user", "POST", "/users", map[string]any{"email": "x@example.com", "password": "long enough"}, 403},
			{"get user", "GET", "/users/1", nil, 403},
			{"update user", "PATCH", "/users/1", map[string]any{"role": "member"}, 403},
			{"reset password", "POST", "/users/1/password", map[string]any{"password": "long enough"}, 403},
			{"list teams", "GET", "/teams", nil, 403},
			{"create team", "POST", "/teams", map[string]any{"name": "C"}, 403},
			{"get team", "GET", idPath("/teams", teamA), nil, 403},
			{"rename team", "PATCH", idPath("/teams", teamA), map[string]any{"name": "AA"}, 403},
			{"delete team", "DELETE", idPath("/teams", teamB), nil, 403},
			{"add member", "POST", idPath("/teams", teamB) + "/members", map[string]any{"user_id": 2}, 403},
			{"remove member", "DELETE", idPath("/teams", teamA) + "/members/2", nil, 403},
			{"create model", "POST", "/models", map[string]any{"name": "m2"}, 403},
			{"update model", "PATCH", idPath("/models", model), map[string]any{"input_price": 1}, 403},
			{"delete model", "DELETE", idPath("/models", model), nil, 403},
		}
		for _, c := range denied {
			t.Run(c.name, func(t *testing.T) {
				if r := e.do(c.method, c.path, mem, c.body); r.Code != c.want {
					t.Fatalf("%s %s: %d, want %d: %s", c.method, c.path, r.Code, c.want, r.Body)
				}
			})
		}

		// Lists are filtered to team A (subscriptions: A's services or consumers).
		ids := func(path string) []float64 {
			var out []float64
			for _, x := range e.must(200, "GET", path, mem, nil)["data"].([]any) {
				out = append(out, x.(map[string]any)["id"].(float64))
			}
			return out
		}
		for _, c := range []struct {
			path string
			want []float64
		}{
			{"/services", []float64{float64(id(svcA))}},
			{fmt.Sprintf("/services?team_id=%d", b), nil},
			{"/consumers", []float64{float64(id(conA))}},
			{"/subscriptions", []float64{float64(subAtoB.ID), float64(subBtoA.ID)}},
		} {
			if got := ids(c.path); fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("member GET %s = ids %v, want %v", c.path, got, c.want)
			}
		}
		for _, x := range e.must(200, "GET", "/audit?per_page=200", mem, nil)["data"].([]any) {
			if tid := x.(map[string]any)["team_id"]; tid != float64(a) {
				t.Errorf("member sees audit entry of team %v: %v", tid, x)
			}
		}
		if n := len(e.must(200, "GET", "/audit", root, nil)["data"].([]any)); n < 8 {
			t.Errorf("admin sees %d audit entries", n)
		}
		if m := e.must(200, "GET", "/models", mem, nil); m["total"] != 1.0 {
			t.Errorf("member model list = %v", m)
		}
		me := e.must(200, "GET", "/me", mem, nil)
		if ts := me["teams"].([]any); len(ts) != 1 || ts[0].(map[string]any)["name"] != "A" || me["role"] != "member" {
			t.Errorf("/me = %v", me)
		}

		// Everything works within team A.
		s := e.must(201, "POST", "/services", mem, map[string]any{"slug": "a-two", "name": "A two", "team_id": a, "approval": "auto", "model_ids": []any{model["id"]}})
		e.must(200, "GET", idPath("/services", s), mem, nil)
		e.must(200, "PATCH", idPath("/services", s), mem, map[string]any{"name": "A 2"})
		c := e.must(201, "POST", "/consumers", mem, map[string]any{"name": "a-two", "team_id": a})
		e.must(200, "PATCH", idPath("/consumers", c), mem, map[string]any{"description": "d"})
		k := e.must(201, "POST", idPath("/consumers", c)+"/keys", mem, map[string]any{"name": "k"})
		e.must(200, "GET", idPath("/consumers", c)+"/keys", mem, nil)
		e.must(200, "DELETE", idPath("/consumers", c)+"/keys/"+k["id"].(string), mem, nil)
		e.must(200, "GET", fmt.Sprintf("/subscriptions/%d", subBtoA.ID), mem, nil)
		e.must(200, "GET", fmt.Sprintf("/subscriptions/%d", subAtoB.ID), mem, nil)
		e.must(200, "POST", fmt.Sprintf("/subscriptions/%d/approve", subBtoA.ID), mem, map[string]any{"reason": "ok"})
		e.must(200, "POST", fmt.Sprintf("/subscriptions/%d/revoke", subBtoA.ID), mem, map[string]any{"reason": "done"})
		auto, created, err := e.stores.Subscriptions.Request(ctx, id(c), "a-two")
		if err != nil || !created || auto.Status != admin.StatusApproved {
			t.Fatalf("auto-approval Request = %+v, %v, %v", auto, created, err)
		}
		e.must(204, "DELETE", idPath("/consumers", c), mem, nil)
		e.must(204, "DELETE", idPath("/services", s), mem, nil)
	})
}
