package e2e

import (
	"os"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/dbtest"
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
