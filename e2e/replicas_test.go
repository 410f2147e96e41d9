package e2e

import (
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/dbtest"
	"github.com/sluicehq/sluice/internal/fakes/openaifake"
)

// replicas starts two `sluice serve` processes sharing one PostgreSQL
// database, one Redis and one secret.
func replicas(t *testing.T) (*proc, *proc) {
	t.Helper()
	if os.Getenv(dbtest.EnvPostgres) == "" || os.Getenv(dbtest.EnvRedis) == "" {
		t.Skipf("two-replica suite skipped: needs %s and %s", dbtest.EnvPostgres, dbtest.EnvRedis)
	}
	sluiceBinary(t) // build before the database is made, so its time is not counted
	_, url := dbtest.NewDatabase(t, config.Postgres)
	env := []string{
		"SLUICE_DATABASE_URL=" + url,
		// Each run's database starts its ids at 1: its own Redis prefix keeps
		// an earlier run's counters (a minute long) from being counted again.
		"SLUICE_REDIS_PREFIX=sluice-e2e-" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":",
		"SLUICE_REDIS_URL=" + os.Getenv(dbtest.EnvRedis),
		"SLUICE_SECRET_KEY=e2e-replicas-shared-secret-0123456789abcdef",
		"SLUICE_ADMIN_PASSWORD=e2e-admin-password",
	}
	a := startSluice(t, append(env, "SLUICE_DATA_DIR="+t.TempDir())...)
	b := startSluice(t, append(env, "SLUICE_DATA_DIR="+t.TempDir())...)
	return a, b
}

// TestRevocationReachesTheOtherReplica: a key revoked through one replica
// is refused by the other within two seconds.
func TestRevocationReachesTheOtherReplica(t *testing.T) {
	a, b := replicas(t)
	s := login(t, a.base, "admin@localhost", "e2e-admin-password")
	team := s.do("POST", "/teams", map[string]any{"name": "platform"}, 201)
	consumer := s.do("POST", "/consumers", map[string]any{"name": "app", "team_id": team["id"]}, 201)
	created := s.do("POST", "/consumers/"+id(consumer)+"/keys", map[string]any{"name": "k"}, 201)
	key := created["key"].(string)

	// The new key reaches replica b too.
	waitStatus(t, b.base+"/v1/models", key, 200, 2*time.Second)

	start := time.Now()
	s.do("DELETE", "/consumers/"+id(consumer)+"/keys/"+created["id"].(string), nil, 200)
	waitStatus(t, b.base+"/v1/models", key, 401, 2*time.Second)
	t.Logf("replica b refused the revoked key %s after the revocation", time.Since(start))
}

// waitStatus polls url with key until it answers want, failing after within.
func waitStatus(t *testing.T, url, key string, want int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		st := call(t, "GET", url, key, nil, nil)
		if st == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s answered %d, not %d, within %s", url, st, want, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRateLimitSharedByReplicas: a 60 requests/minute limit holds across
// two replicas together; the 61st request in the minute gets 429.
func TestRateLimitSharedByReplicas(t *testing.T) {
	a, b := replicas(t)
	fake := openaifake.New()
	up := httptest.NewServer(fake)
	defer up.Close()
	s := login(t, a.base, "admin@localhost", "e2e-admin-password")
	team := s.do("POST", "/teams", map[string]any{"name": "platform"}, 201)
	prov := s.do("POST", "/providers", map[string]any{"name": "fake", "kind": "openai-compatible", "base_url": up.URL + "/v1"}, 201)
	model := s.do("POST", "/models", map[string]any{"name": "m", "targets": []any{map[string]any{"provider_id": prov["id"], "upstream_model": "m"}}}, 201)
	s.do("POST", "/services", map[string]any{"slug": "limited", "name": "Limited", "team_id": team["id"], "approval": "auto",
		"model_ids": []any{model["id"]}, "limits": map[string]any{"rpm": 60}}, 201)
	consumer := s.do("POST", "/consumers", map[string]any{"name": "app", "team_id": team["id"]}, 201)
	key := s.do("POST", "/consumers/"+id(consumer)+"/keys", map[string]any{"name": "k"}, 201)["key"].(string)
	var sub map[string]any
	if st := call(t, "POST", a.base+"/v1/subscriptions", key, map[string]string{"service": "limited"}, &sub); st != 201 || sub["status"] != "approved" {
		t.Fatalf("subscribe: %d %v", st, sub)
	}
	// The subscription was made through replica a: wait until replica b
	// lists the model (its snapshot has caught up), at most 2 s.
	waitListed(t, b.base, key, "m", 2*time.Second)
	body := map[string]any{"model": "m", "messages": []any{map[string]any{"role": "user", "content": "hi"}}}
	for i := range 60 {
		base := a.base
		if i%2 == 1 {
			base = b.base
		}
		if st := call(t, "POST", base+"/v1/chat/completions", key, body, nil); st != 200 {
			t.Fatalf("request %d on %s: %d", i+1, base, st)
		}
	}
	for _, base := range []string{a.base, b.base} {
		var env errorEnvelope
		req := call(t, "POST", base+"/v1/chat/completions", key, body, &env)
		if req != 429 || !contains(env.Error.Message, "requests per minute") {
			t.Fatalf("61st request on %s: %d %q", base, req, env.Error.Message)
		}
	}
}

// waitListed polls GET /v1/models on base until it lists model.
func waitListed(t *testing.T, base, key, model string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var list struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
		}
		if call(t, "GET", base+"/v1/models", key, nil, &list) == 200 {
			for _, m := range list.Data {
				if m.ID == model {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not list model %q within %s", base, model, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
