package e2e

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/db"
	"github.com/sluicehq/sluice/internal/fakes/openaifake"
)

// TestGracefulShutdownUnderLoadLosesNoRecord: SIGTERM while calls are in
// flight; every call that got an answer is in the call log after the
// process exits.
func TestGracefulShutdownUnderLoadLosesNoRecord(t *testing.T) {
	dir := t.TempDir()
	p := startSluice(t, "SLUICE_DATA_DIR="+dir, "SLUICE_DATABASE_URL=sqlite:"+filepath.Join(dir, "sluice.db"),
		"SLUICE_ADMIN_PASSWORD=e2e-admin-password")
	fake := openaifake.New()
	fake.DisableRecording = true
	// Every upstream answer takes 30 ms, so calls are in flight when the
	// signal comes.
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(30 * time.Millisecond)
		fake.ServeHTTP(w, r)
	}))
	defer up.Close()

	a := login(t, p.base, "admin@localhost", "e2e-admin-password")
	team := a.do("POST", "/teams", map[string]any{"name": "t"}, 201)
	prov := a.do("POST", "/providers", map[string]any{"name": "fake", "kind": "openai-compatible", "base_url": up.URL + "/v1"}, 201)
	model := a.do("POST", "/models", map[string]any{"name": "m", "targets": []any{map[string]any{"provider_id": prov["id"], "upstream_model": "m"}}}, 201)
	a.do("POST", "/services", map[string]any{"slug": "s", "name": "S", "team_id": team["id"], "approval": "auto", "model_ids": []any{model["id"]}}, 201)
	consumer := a.do("POST", "/consumers", map[string]any{"name": "c", "team_id": team["id"]}, 201)
	key := a.do("POST", "/consumers/"+id(consumer)+"/keys", map[string]any{"name": "k"}, 201)["key"].(string)
	if st := call(t, "POST", p.base+"/v1/subscriptions", key, map[string]string{"service": "s"}, nil); st != 201 {
		t.Fatalf("subscribe: %d", st)
	}

	var answered atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	body := map[string]any{"model": "m", "messages": []any{map[string]any{"role": "user", "content": "hi"}}}
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				st := callCtx(ctx, p.base+"/v1/chat/completions", key, body)
				cancel()
				if st == 0 {
					return // refused: the server stopped accepting
				}
				answered.Add(1)
			}
		}()
	}
	time.Sleep(700 * time.Millisecond)
	p.stop() // SIGTERM, then wait for the exit
	close(stop)
	wg.Wait()
	if answered.Load() < 50 {
		t.Fatalf("only %d calls answered: the load did not run", answered.Load())
	}

	d, err := config.ParseDatabaseURL("sqlite:" + filepath.Join(dir, "sluice.db"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := db.Open(context.Background(), d, db.Options{MaxOpenConns: 1, ConnectTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	var n int64
	if err := h.Gorm.Table("call_logs").Where("endpoint = ?", "chat").Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	if n != answered.Load() {
		t.Fatalf("%d chat calls answered, %d recorded", answered.Load(), n)
	}
	t.Logf("%d calls answered during the shutdown test, all recorded", n)
}

// callCtx posts body and returns the status, or 0 when no answer came.
func callCtx(ctx context.Context, url, key string, body any) int {
	req, err := newJSONRequest(ctx, url, key, body)
	if err != nil {
		return 0
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}
