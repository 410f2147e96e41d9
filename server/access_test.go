package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sluicehq/sluice/admin"
	"github.com/sluicehq/sluice/internal/access"
	"github.com/sluicehq/sluice/internal/access/accesstest"
	"github.com/sluicehq/sluice/internal/dbtest"
	"github.com/sluicehq/sluice/internal/limits"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type accessEnv struct {
	f     *accesstest.Fixture
	store *access.Store
	s     *Server
	clock *fakeClock
	// reached counts requests that passed every check.
	reached int
}

func newAccessEnv(t testing.TB, kind string, l admin.Limits) *accessEnv {
	t.Helper()
	db := accesstest.Migrated(t, kind)
	e := &accessEnv{f: accesstest.Seed(t, db, l), clock: &fakeClock{t: time.Now()}}
	e.store = access.NewStore(db, nil, e.clock, nil)
	if err := e.store.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.s = New(Deps{Config: testConfig(), Access: &Access{
		Verifier:  e.f.Keyring.Verifier(1000),
		Snapshots: e.store,
		Limiter:   limits.NewMemory(e.clock),
		Clock:     e.clock,
	}})
	// The relay is not built yet: a terminal handler stands in for it and
	// shows what the checks handed on.
	e.s.engine.POST("/v1/checked", e.s.authenticate, e.s.readModel, e.s.authorize, e.s.limit, func(c *gin.Context) {
		e.reached++
		cl := callOf(c)
		c.JSON(200, gin.H{"service": cl.grant.Service.Slug, "model": cl.model, "consumer": cl.consumerID, "key": cl.keyID})
	})
	return e
}

func (e *accessEnv) do(t testing.TB, method, path, body string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	e.s.Handler().ServeHTTP(rec, req)
	return rec
}

func (e *accessEnv) changed(t testing.TB) {
	t.Helper()
	if err := e.store.Changed(context.Background()); err != nil {
		t.Fatal(err)
	}
}

const chatBody = `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"max_tokens":10}`

func expectError(t *testing.T, rec *httptest.ResponseRecorder, status int, msg string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d: %s", rec.Code, status, rec.Body.String())
	}
	e := decodeError(t, rec.Body.Bytes())
	if !strings.Contains(e.Error.Message, msg) {
		t.Fatalf("message %q does not contain %q", e.Error.Message, msg)
	}
}

func TestAccessChain(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, kind string) {
		e := newAccessEnv(t, kind, admin.Limits{})
		bearer := "Bearer " + e.f.Key

		expectError(t, e.do(t, "POST", "/v1/checked", chatBody), 401, "missing key")
		expectError(t, e.do(t, "POST", "/v1/checked", chatBody, "Authorization", "Basic abc"), 401, "malformed key")
		expectError(t, e.do(t, "POST", "/v1/checked", chatBody, "Authorization", "Bearer not.a.jwt"), 401, "malformed key")
		expired := time.Now().Add(-time.Hour)
		old, _ := e.f.NewKey(t, "key_old", &expired)
		e.changed(t)
		expectError(t, e.do(t, "POST", "/v1/checked", chatBody, "Authorization", "Bearer "+old), 401, "expired key")

		// Valid key, no subscription.
		expectError(t, e.do(t, "POST", "/v1/checked", chatBody, "Authorization", bearer), 403, `no subscription covers model "gpt-4o"`)
		sub := e.f.Subscribe(t, admin.StatusPending)
		e.changed(t)
		expectError(t, e.do(t, "POST", "/v1/checked", chatBody, "x-api-key", e.f.Key), 403, `service "chat" is pending approval`)
		e.f.SetStatus(t, sub, admin.StatusApproved)
		e.changed(t)
		rec := e.do(t, "POST", "/v1/checked", chatBody, "api-key", e.f.Key)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"service":"chat"`) || !strings.Contains(rec.Body.String(), `"key":"key_1"`) {
			t.Fatalf("approved call: %d %s", rec.Code, rec.Body.String())
		}
		// Bad bodies after a good key.
		expectError(t, e.do(t, "POST", "/v1/checked", `{"model":`, "Authorization", bearer), 400, "malformed JSON")
		expectError(t, e.do(t, "POST", "/v1/checked", `{"messages":[]}`, "Authorization", bearer), 400, "model is required")
		expectError(t, e.do(t, "POST", "/v1/checked", `[1]`, "Authorization", bearer), 400, "JSON object")
		expectError(t, e.do(t, "POST", "/v1/checked", "", "Authorization", bearer), 400, "empty")
		expectError(t, e.do(t, "POST", "/v1/checked", `{"model":"gpt-9"}`, "Authorization", bearer), 404, `model "gpt-9" does not exist`)
		expectError(t, e.do(t, "POST", "/v1/checked", `{"model":"claude"}`, "Authorization", bearer), 403, "no service offers it")

		// Revocations take effect on this instance at once.
		e.f.SetStatus(t, sub, admin.StatusRevoked)
		e.changed(t)
		expectError(t, e.do(t, "POST", "/v1/checked", chatBody, "Authorization", bearer), 403, `service "chat" was revoked`)
		e.f.SetStatus(t, sub, admin.StatusApproved)
		e.f.Revoke(t, "key_1")
		e.changed(t)
		expectError(t, e.do(t, "POST", "/v1/checked", chatBody, "Authorization", bearer), 401, "revoked key")
	})
}

func TestModelsListsOnlyCallable(t *testing.T) {
	e := newAccessEnv(t, "sqlite", admin.Limits{})
	list := func() []string {
		rec := e.do(t, "GET", "/v1/models", "", "Authorization", "Bearer "+e.f.Key)
		if rec.Code != 200 {
			t.Fatalf("GET /v1/models: %d %s", rec.Code, rec.Body.String())
		}
		var out struct {
			Object string `json:"object"`
			Data   []struct {
				ID     string `json:"id"`
				Object string `json:"object"`
			} `json:"data"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Object != "list" {
			t.Fatalf("body %s", rec.Body.String())
		}
		var ids []string
		for _, d := range out.Data {
			ids = append(ids, d.ID)
		}
		return ids
	}
	if got := list(); len(got) != 0 {
		t.Fatalf("models before subscribing: %v", got)
	}
	e.f.Subscribe(t, admin.StatusApproved)
	e.changed(t)
	if got := list(); len(got) != 1 || got[0] != "gpt-4o" {
		t.Fatalf("models after subscribing: %v", got)
	}
	expectError(t, e.do(t, "GET", "/v1/models", ""), 401, "missing key")
}

func TestRateLimitWithFakeClock(t *testing.T) {
	e := newAccessEnv(t, "sqlite", admin.Limits{RPM: 3})
	e.f.Subscribe(t, admin.StatusApproved)
	e.changed(t)
	bearer := "Bearer " + e.f.Key
	for i := range 3 {
		rec := e.do(t, "POST", "/v1/checked", chatBody, "Authorization", bearer)
		if rec.Code != 200 || rec.Header().Get("X-Ratelimit-Limit-Requests") != "3" {
			t.Fatalf("call %d: %d %v", i, rec.Code, rec.Header())
		}
		if want := []string{"2", "1", "0"}[i]; rec.Header().Get("X-Ratelimit-Remaining-Requests") != want {
			t.Fatalf("call %d remaining %q, want %s", i, rec.Header().Get("X-Ratelimit-Remaining-Requests"), want)
		}
	}
	e.clock.Add(20 * time.Second)
	rec := e.do(t, "POST", "/v1/checked", chatBody, "Authorization", bearer)
	expectError(t, rec, 429, `service "chat" (requests per minute)`)
	if rec.Header().Get("Retry-After") != "40" || rec.Header().Get("X-Ratelimit-Reset-Requests") != "40s" {
		t.Fatalf("429 headers: %v", rec.Header())
	}
	if e.reached != 3 {
		t.Fatalf("%d calls reached the relay, want 3", e.reached)
	}
	e.clock.Add(41 * time.Second)
	if rec := e.do(t, "POST", "/v1/checked", chatBody, "Authorization", bearer); rec.Code != 200 {
		t.Fatalf("after the window: %d", rec.Code)
	}
}

// BenchmarkAccessChain measures the data-plane checks (key, revocation,
// subscription, limits) around a handler that does nothing.
func BenchmarkAccessChain(b *testing.B) {
	e := newAccessEnv(b, "sqlite", admin.Limits{RPM: 1 << 30, TPM: 1 << 30})
	e.f.Subscribe(b, admin.StatusApproved)
	e.changed(b)
	e.s.engine.POST("/v1/bench", e.s.authenticate, e.s.readModel, e.s.authorize, e.s.limit, func(c *gin.Context) {})
	body := []byte(chatBody)
	req := httptest.NewRequest("POST", "/v1/bench", nil)
	req.Header.Set("Authorization", "Bearer "+e.f.Key)
	h := e.s.Handler()
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		req.Body = &bodyReader{b: body}
		req.ContentLength = int64(len(body))
		w.reset()
		h.ServeHTTP(w, req)
		if w.status != 200 {
			b.Fatalf("status %d", w.status)
		}
	}
}

type bodyReader struct {
	b []byte
	i int
}

func (r *bodyReader) Read(p []byte) (int, error) {
	if r.i >= len(r.b) {
		return 0, io.EOF
	}
	n := copy(p, r.b[r.i:])
	r.i += n
	return n, nil
}
func (r *bodyReader) Close() error { return nil }

type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(s int)           { w.status = s }
func (w *discardWriter) reset() {
	clear(w.h)
	w.status = 200
}

// BenchmarkMiddlewareBaseline is the same request through the global
// middleware only (request id, access log, metrics, recovery, body limit),
// so the access chain's own cost is the difference.
func BenchmarkMiddlewareBaseline(b *testing.B) {
	e := newAccessEnv(b, "sqlite", admin.Limits{})
	e.s.engine.POST("/v1/baseline", func(c *gin.Context) {})
	body := []byte(chatBody)
	req := httptest.NewRequest("POST", "/v1/baseline", nil)
	h := e.s.Handler()
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		req.Body = &bodyReader{b: body}
		req.ContentLength = int64(len(body))
		w.reset()
		h.ServeHTTP(w, req)
	}
}
