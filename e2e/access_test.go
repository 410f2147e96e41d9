package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/db"
	"github.com/sluicehq/sluice/internal/fakes/openaifake"
)

// TestAccessEndToEnd walks the access model through real HTTP on a real
// process: admin creates team, model, service, consumer and key; the
// consumer asks for a subscription; approval, rejection and revocation
// take effect at once.
func TestAccessEndToEnd(t *testing.T) {
	dir := t.TempDir()
	p := startSluice(t, "SLUICE_DATA_DIR="+dir, "SLUICE_DATABASE_URL=sqlite:"+filepath.Join(dir, "sluice.db"),
		"SLUICE_ADMIN_PASSWORD=e2e-admin-password", "SLUICE_LOG_LEVEL=debug")
	a := login(t, p.base, "admin@localhost", "e2e-admin-password")

	fake := openaifake.New()
	fake.APIKey = "sk-upstream-e2e"
	up := httptest.NewServer(fake)
	defer up.Close()

	team := a.do("POST", "/teams", map[string]any{"name": "platform"}, 201)
	provider := a.do("POST", "/providers", map[string]any{"name": "openai-main", "kind": "openai",
		"base_url": up.URL + "/v1", "api_key": "sk-upstream-e2e"}, 201)
	if jsonText(t, provider) != "" && contains(jsonText(t, provider), "sk-upstream-e2e") {
		t.Fatal("provider answer contains its api_key")
	}
	model := a.do("POST", "/models", map[string]any{"name": "gpt-4o-mini", "input_price": 0.15, "output_price": 0.6,
		"targets": []any{map[string]any{"provider_id": provider["id"], "upstream_model": "gpt-4o-mini-2024-07-18"}}}, 201)
	a.do("POST", "/services", map[string]any{"slug": "chat", "name": "Chat", "team_id": team["id"], "approval": "manual",
		"model_ids": []any{model["id"]}, "limits": map[string]any{"rpm": 60}}, 201)
	a.do("POST", "/services", map[string]any{"slug": "open", "name": "Open", "team_id": team["id"], "approval": "auto"}, 201)
	consumer := a.do("POST", "/consumers", map[string]any{"name": "billing-app", "team_id": team["id"]}, 201)
	created := a.do("POST", "/consumers/"+id(consumer)+"/keys", map[string]any{"name": "prod"}, 201)
	key, _ := created["key"].(string)
	if key == "" {
		t.Fatalf("key not shown at creation: %v", created)
	}
	v1 := p.base + "/v1"

	var env errorEnvelope
	expectRefused(t, call(t, "GET", v1+"/models", "", nil, &env), env, 401, "missing key")
	expectRefused(t, call(t, "GET", v1+"/models", key+"x", nil, &env), env, 401, "malformed key")

	chat := map[string]any{"model": "gpt-4o-mini", "messages": []any{map[string]any{"role": "user", "content": "hello gateway"}}}
	expectRefused(t, call(t, "POST", v1+"/chat/completions", key, chat, &env), env, 403, `no subscription covers model "gpt-4o-mini"`)

	var models struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if st := call(t, "GET", v1+"/models", key, nil, &models); st != 200 || len(models.Data) != 0 {
		t.Fatalf("models before subscribing: %d %v", st, models)
	}

	// Self-service: pending for a manual service, approved for an auto one.
	var sub map[string]any
	if st := call(t, "POST", v1+"/subscriptions", key, map[string]string{"service": "chat"}, &sub); st != 201 || sub["status"] != "pending" {
		t.Fatalf("subscribe: %d %v", st, sub)
	}
	if st := call(t, "POST", v1+"/subscriptions", key, map[string]string{"service": "chat"}, &sub); st != 200 || sub["status"] != "pending" {
		t.Fatalf("subscribe again (idempotent): %d %v", st, sub)
	}
	var auto map[string]any
	if st := call(t, "POST", v1+"/subscriptions", key, map[string]string{"service": "open"}, &auto); st != 201 || auto["status"] != "approved" {
		t.Fatalf("auto subscribe: %d %v", st, auto)
	}
	expectRefused(t, call(t, "POST", v1+"/subscriptions", key, map[string]string{"service": "nope"}, &env), env, 404, `"nope" does not exist`)
	expectRefused(t, call(t, "POST", v1+"/chat/completions", key, chat, &env), env, 403, `service "chat" is pending approval`)

	// Approve in the admin API: the model becomes callable at once.
	a.do("POST", "/subscriptions/"+id(sub)+"/approve", map[string]any{"reason": "looks fine"}, 200)
	if st := call(t, "GET", v1+"/models", key, nil, &models); st != 200 || len(models.Data) != 1 || models.Data[0].ID != "gpt-4o-mini" {
		t.Fatalf("models after approval: %d %v", st, models)
	}
	var answer struct {
		Model   string `json:"model"`
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
	if st := call(t, "POST", v1+"/chat/completions", key, chat, &answer); st != 200 || len(answer.Choices) != 1 ||
		answer.Choices[0].Message.Content != "echo: hello gateway" || answer.Model != "gpt-4o-mini" {
		t.Fatalf("chat after approval: %d %+v", st, answer)
	}
	detail := a.do("GET", "/subscriptions/"+id(sub), nil, 200)
	if evs, _ := detail["events"].([]any); len(evs) < 2 {
		t.Fatalf("decision history missing: %v", detail)
	}
	var mine struct {
		Data []map[string]any `json:"data"`
	}
	if st := call(t, "GET", v1+"/subscriptions", key, nil, &mine); st != 200 || len(mine.Data) != 2 {
		t.Fatalf("own subscriptions: %d %v", st, mine)
	}

	// Revoke the subscription: the model leaves the list at once.
	a.do("POST", "/subscriptions/"+id(sub)+"/revoke", map[string]any{"reason": "contract ended"}, 200)
	if st := call(t, "GET", v1+"/models", key, nil, &models); st != 200 || len(models.Data) != 0 {
		t.Fatalf("models after revocation: %d %v", st, models)
	}
	expectRefused(t, call(t, "POST", v1+"/chat/completions", key, chat, &env), env, 403, `service "chat" was revoked`)

	// Revoke the key: refused within the same second.
	keyID, _ := created["id"].(string)
	start := time.Now()
	a.do("DELETE", "/consumers/"+id(consumer)+"/keys/"+keyID, nil, 200)
	expectRefused(t, call(t, "GET", v1+"/models", key, nil, &env), env, 401, "revoked key")
	if took := time.Since(start); took > time.Second {
		t.Fatalf("revocation took %s to take effect", took)
	}
	// The key's material never shows again.
	keys := a.do("GET", "/consumers/"+id(consumer)+"/keys", nil, 200)
	if raw := jsonText(t, keys); contains(raw, key) {
		t.Fatal("key material in the key list")
	}
	// The answered call shows in the data-plane metrics, labelled by
	// service slug, model and provider.
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Get(p.base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if contains(string(body), `sluice_calls_total{model="gpt-4o-mini",provider="openai-main",service="chat",status="200"} 1`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no data-plane metric for the answered call:\n%s", grepLines(string(body), "sluice_calls_total"))
		}
		time.Sleep(50 * time.Millisecond)
	}

	// A graceful stop drains the call log: every chat call is recorded,
	// answered or refused.
	p.stop()
	d, err := config.ParseDatabaseURL("sqlite:" + filepath.Join(dir, "sluice.db"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := db.Open(context.Background(), d, db.Options{MaxOpenConns: 1, ConnectTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	var statuses []int
	if err := h.Gorm.Table("call_logs").Where("endpoint = ?", "chat").Order("started_at").Pluck("status", &statuses).Error; err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(statuses) != "[403 403 200 403]" {
		t.Fatalf("recorded chat calls %v, want [403 403 200 403]", statuses)
	}

	// Neither the consumer key nor the upstream credential reaches the log,
	// even at debug level.
	out := p.output()
	if out == "" || contains(out, key) || contains(out, "sk-upstream-e2e") || contains(out, "e2e-admin-password") {
		t.Fatalf("secret material in the server log (or no log at all):\n%s", out)
	}
}
