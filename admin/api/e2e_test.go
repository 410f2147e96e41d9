package api

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/admin"
	"github.com/sluicehq/sluice/internal/dbtest"
)

func TestEndToEnd(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		ctx := context.Background()
		e.user("root@example.com", admin.RoleAdmin)
		tok := e.login("root@example.com")

		team := e.must(201, "POST", "/teams", tok, map[string]any{"name": "Search"})
		model := e.must(201, "POST", "/models", tok, map[string]any{"name": "gpt-4o", "input_price": 2.5, "output_price": 10})
		svc := e.must(201, "POST", "/services", tok, map[string]any{
			"slug": "search", "name": "Search", "team_id": team["id"], "approval": "manual",
			"model_ids": []any{model["id"]}, "limits": map[string]any{"rpm": 60, "tpm": 1000, "monthly_tokens": 1000000}})
		if ms := svc["models"].([]any); len(ms) != 1 || ms[0].(map[string]any)["name"] != "gpt-4o" {
			t.Fatalf("service models = %v", svc["models"])
		}
		if l := svc["limits"].(map[string]any); l["rpm"] != 60.0 || l["monthly_tokens"] != 1e6 {
			t.Fatalf("limits = %v", l)
		}
		con := e.must(201, "POST", "/consumers", tok, map[string]any{"name": "web app", "team_id": team["id"], "description": "the site"})
		conPath := idPath("/consumers", con)

		// A key: shown once, verifiable, never listed.
		before := e.notes.n.Load()
		exp := e.clock.Now().Add(30 * 24 * time.Hour).Truncate(time.Second)
		k := e.must(201, "POST", conPath+"/keys", tok, map[string]any{"name": "prod", "expires_at": exp.Format(time.RFC3339)})
		key, _ := k["key"].(string)
		if key == "" || !strings.HasPrefix(k["id"].(string), "key_") || k["prefix"] == "" {
			t.Fatalf("created key = %v", k)
		}
		if e.notes.n.Load() == before {
			t.Fatal("creating a key did not notify the data plane")
		}
		claims, err := e.ring.Verifier(0).Verify(key, e.clock.Now())
		if err != nil {
			t.Fatalf("issued key does not verify: %v", err)
		}
		if claims.ConsumerID != strconv.FormatUint(id(con), 10) || claims.KeyID != k["id"] || claims.ExpiresAt == nil || !claims.ExpiresAt.Equal(exp) {
			t.Fatalf("claims = %+v, want consumer %v key %v", claims, con["id"], k["id"])
		}
		list := e.do("GET", conPath+"/keys", tok, nil)
		if list.Code != 200 || strings.Contains(string(list.Body), key) || strings.Contains(string(list.Body), `"key"`) ||
			strings.Contains(string(list.Body), "hash") {
			t.Fatalf("key list leaks the key: %s", list.Body)
		}
		if l := list.json(t); l["total"] != 1.0 {
			t.Fatalf("key list = %s", list.Body)
		}

		// Self-service request → pending; approve; revoke.
		sub, created, err := e.stores.Subscriptions.Request(ctx, id(con), "search")
		if err != nil || !created || sub.Status != admin.StatusPending {
			t.Fatalf("Request = %+v, %v, %v", sub, created, err)
		}
		subPath := fmt.Sprintf("/subscriptions/%d", sub.ID)
		pending := e.must(200, "GET", "/subscriptions?status=pending", tok, nil)
		if pending["total"] != 1.0 {
			t.Fatalf("pending list = %v", pending)
		}
		got := e.must(200, "POST", subPath+"/approve", tok, map[string]any{"reason": "looks fine"})
		if got["status"] != "approved" || got["reason"] != "looks fine" || got["decided_by"] == nil || got["decided_at"] == nil {
			t.Fatalf("approved = %v", got)
		}
		r := e.do("POST", subPath+"/approve", tok, map[string]any{"reason": "again"})
		if r.Code != 409 || !strings.Contains(r.errMessage(t), "approved") {
			t.Fatalf("second approve: %d %s", r.Code, r.Body)
		}
		r = e.do("POST", subPath+"/reject", tok, map[string]any{"reason": "no"})
		if r.Code != 409 || !strings.Contains(r.errMessage(t), "is approved") {
			t.Fatalf("reject approved: %d %s", r.Code, r.Body)
		}
		if r := e.do("POST", subPath+"/revoke", tok, map[string]any{}); r.Code != 400 || r.errParam(t) != "reason" {
			t.Fatalf("revoke without reason: %d %s", r.Code, r.Body)
		}
		e.must(200, "POST", subPath+"/revoke", tok, map[string]any{"reason": "abuse"})
		full := e.must(200, "GET", subPath, tok, nil)
		evs := full["events"].([]any)
		if full["status"] != "revoked" || len(evs) != 3 {
			t.Fatalf("subscription = %v", full)
		}
		for i, want := range []struct{ to, actor, reason string }{
			{"pending", fmt.Sprintf("consumer:%d", id(con)), ""},
			{"approved", "root@example.com", "looks fine"},
			{"revoked", "root@example.com", "abuse"},
		} {
			ev := evs[i].(map[string]any)
			if ev["to"] != want.to || ev["actor_email"] != want.actor || ev["reason"] != want.reason {
				t.Errorf("event %d = %v, want %+v", i, ev, want)
			}
		}
		if r := e.do("POST", subPath+"/approve", tok, nil); r.Code != 409 || !strings.Contains(r.errMessage(t), "revoked") {
			t.Fatalf("approve revoked: %d %s", r.Code, r.Body)
		}
		again, created, err := e.stores.Subscriptions.Request(ctx, id(con), "search")
		if err != nil || created || again.Status != admin.StatusRevoked {
			t.Fatalf("Request after revoke = %+v, %v, %v", again, created, err)
		}

		// Reject path on another service.
		svc2 := e.must(201, "POST", "/services", tok, map[string]any{"slug": "chat", "name": "Chat", "team_id": team["id"]})
		if svc2["approval"] != "manual" {
			t.Fatalf("default approval = %v", svc2["approval"])
		}
		sub2, _, err := e.stores.Subscriptions.Request(ctx, id(con), "chat")
		if err != nil {
			t.Fatal(err)
		}
		sub2Path := fmt.Sprintf("/subscriptions/%d", sub2.ID)
		if r := e.do("POST", sub2Path+"/revoke", tok, map[string]any{"reason": "x"}); r.Code != 409 || !strings.Contains(r.errMessage(t), "pending") {
			t.Fatalf("revoke pending: %d %s", r.Code, r.Body)
		}
		rej := e.must(200, "POST", sub2Path+"/reject", tok, map[string]any{"reason": "not for you"})
		if rej["status"] != "rejected" {
			t.Fatalf("rejected = %v", rej)
		}
		if r := e.do("POST", sub2Path+"/approve", tok, nil); r.Code != 409 {
			t.Fatalf("approve rejected: %d %s", r.Code, r.Body)
		}
		views, err := e.stores.Subscriptions.ListForConsumer(ctx, id(con))
		if err != nil || len(views) != 2 || views[0].ServiceSlug != "search" || views[1].ServiceName != "Chat" || views[1].Status != "rejected" {
			t.Fatalf("ListForConsumer = %+v, %v", views, err)
		}

		// Key revoke: revoked_at set, notifier told, idempotent.
		before = e.notes.n.Load()
		rk := e.must(200, "DELETE", conPath+"/keys/"+k["id"].(string), tok, nil)
		if rk["revoked_at"] == nil || rk["revoked_by"] == nil {
			t.Fatalf("revoked key = %v", rk)
		}
		if e.notes.n.Load() == before {
			t.Fatal("revoking a key did not notify the data plane")
		}
		rk2 := e.must(200, "DELETE", conPath+"/keys/"+k["id"].(string), tok, nil)
		if rk2["revoked_at"] != rk["revoked_at"] {
			t.Fatalf("second revoke changed revoked_at: %v → %v", rk["revoked_at"], rk2["revoked_at"])
		}
		e.must(404, "DELETE", conPath+"/keys/key_nope", tok, nil)

		// Updates.
		up := e.must(200, "PATCH", idPath("/services", svc), tok, map[string]any{"approval": "auto", "model_ids": []any{}})
		if up["approval"] != "auto" || len(up["models"].([]any)) != 0 || up["slug"] != "search" {
			t.Fatalf("updated service = %v", up)
		}
		e.must(200, "PATCH", idPath("/models", model), tok, map[string]any{"input_price": 3})
		e.must(200, "PATCH", idPath("/consumers", con), tok, map[string]any{"description": "the new site"})
		e.must(200, "PATCH", idPath("/teams", team), tok, map[string]any{"name": "Search team"})

		// Audit: every write is there with before/after, no secrets.
		u := e.must(201, "POST", "/users", tok, map[string]any{"email": "new@example.com", "name": "New", "password": "new user password", "role": "member"})
		e.must(204, "POST", idPath("/users", u)+"/password", tok, map[string]any{"password": "another password"})
		e.must(200, "PATCH", idPath("/users", u), tok, map[string]any{"disabled": true})
		if r := e.do("POST", "/login", "", map[string]any{"email": "new@example.com", "password": "another password"}); r.Code != 401 {
			t.Fatalf("disabled user logged in: %d", r.Code)
		}
		aud := e.do("GET", "/audit?per_page=200", tok, nil)
		body := string(aud.Body)
		for _, secret := range []string{key, keys0(e, k["id"].(string)), "new user password", "another password", testPassword, "$2a$"} {
			if secret != "" && strings.Contains(body, secret) {
				t.Fatalf("audit log holds a secret %q", secret)
			}
		}
		seen := map[string]bool{}
		for _, x := range aud.json(t)["data"].([]any) {
			en := x.(map[string]any)
			seen[en["resource"].(string)+"."+en["action"].(string)] = true
			if en["action"] == "update" && (en["before"] == nil || en["after"] == nil) {
				t.Errorf("update entry without before/after: %v", en)
			}
		}
		for _, want := range []string{"team.create", "team.update", "model.create", "model.update", "service.create", "service.update",
			"consumer.create", "consumer.update", "key.create", "key.revoke", "subscription.request", "subscription.approve",
			"subscription.reject", "subscription.revoke", "user.create", "user.update", "user.reset_password", "session.login_failed"} {
			if !seen[want] {
				t.Errorf("no audit entry %s (have %v)", want, seen)
			}
		}
		rootID := e.must(200, "GET", "/me", tok, nil)["id"]
		byRoot := e.must(200, "GET", fmt.Sprintf("/audit?actor_id=%v&per_page=200", rootID), tok, nil)
		for _, x := range byRoot["data"].([]any) {
			if x.(map[string]any)["actor_id"] != rootID {
				t.Errorf("audit?actor_id=%v holds %v", rootID, x)
			}
		}
		if n := byRoot["total"].(float64); n < 10 || n >= aud.json(t)["total"].(float64) {
			t.Errorf("audit?actor_id total = %v", n)
		}
		future := e.clock.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		if m := e.must(200, "GET", "/audit?since="+future, tok, nil); m["total"] != 0.0 {
			t.Errorf("audit?since=future total = %v", m["total"])
		}
		past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
		if m := e.must(200, "GET", "/audit?since="+past, tok, nil); m["total"] != aud.json(t)["total"] {
			t.Errorf("audit?since=past total = %v", m["total"])
		}
		for q, want := range map[string]float64{
			fmt.Sprintf("?service_id=%v", svc2["id"]):                 1,
			fmt.Sprintf("?consumer_id=%v", con["id"]):                 2,
			fmt.Sprintf("?consumer_id=%v&status=rejected", con["id"]): 1,
			fmt.Sprintf("?service_id=%v&status=approved", svc2["id"]): 0,
			"?consumer_id=999": 0,
		} {
			if m := e.must(200, "GET", "/subscriptions"+q, tok, nil); m["total"] != want {
				t.Errorf("GET /subscriptions%s total = %v, want %v", q, m["total"], want)
			}
		}
		filtered := e.must(200, "GET", "/audit?resource=key", tok, nil)
		if filtered["total"] != 2.0 {
			t.Errorf("audit?resource=key total = %v", filtered["total"])
		}

		// Deletes.
		if r := e.do("DELETE", idPath("/teams", team), tok, nil); r.Code != 409 {
			t.Fatalf("delete team owning services: %d %s", r.Code, r.Body)
		}
		e.must(204, "DELETE", idPath("/services", svc), tok, nil)
		e.must(204, "DELETE", idPath("/services", svc2), tok, nil)
		e.must(204, "DELETE", conPath, tok, nil)
		e.must(404, "GET", conPath, tok, nil)
		e.must(204, "DELETE", idPath("/teams", team), tok, nil)
		e.must(204, "DELETE", idPath("/models", model), tok, nil)
	})
}

// keys0 is the stored hash of a key, which must not leak either.
func keys0(e *env, keyID string) string {
	var k admin.ConsumerKey
	if err := e.db.Where("id = ?", keyID).Take(&k).Error; err != nil {
		return ""
	}
	return k.Hash
}
