package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sluicehq/sluice/internal/config"
)

func testConfig() *config.Config {
	return &config.Config{MaxBodyBytes: 1024, ShutdownTimeout: 5 * time.Second}
}

type errorBody struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Code    *string `json:"code"`
	} `json:"error"`
}

func decodeError(t *testing.T, b []byte) errorBody {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal(b, &e); err != nil || e.Error.Message == "" {
		t.Fatalf("not an OpenAI error envelope: %s (%v)", b, err)
	}
	return e
}

func TestPanicBecomesEnvelope(t *testing.T) {
	var logs bytes.Buffer
	s := New(Deps{Config: testConfig(), Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Routes: func(r *gin.Engine) {
		r.GET("/boom", func(*gin.Context) { panic("kaboom") })
	}})
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/boom", nil))
	if rec.Code != 500 {
		t.Fatalf("status %d", rec.Code)
	}
	e := decodeError(t, rec.Body.Bytes())
	id := rec.Header().Get(RequestIDHeader)
	if e.Error.Type != "api_error" || !strings.Contains(e.Error.Message, id) || strings.Contains(e.Error.Message, "kaboom") {
		t.Fatalf("envelope %+v (request id %s)", e, id)
	}
	if !strings.Contains(logs.String(), "kaboom") || !strings.Contains(logs.String(), id) {
		t.Fatalf("panic not logged with its request id: %s", logs.String())
	}
}

func TestRequestID(t *testing.T) {
	s := New(Deps{Config: testConfig()})
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	gen := rec.Header().Get(RequestIDHeader)
	if !strings.HasPrefix(gen, "req_") || len(gen) != 28 {
		t.Fatalf("generated id %q", gen)
	}
	for in, keep := range map[string]bool{"client-id-123": true, "bad id with spaces": false, strings.Repeat("x", 200): false} {
		req := httptest.NewRequest("GET", "/nowhere/at/all", nil)
		req.Header.Set(RequestIDHeader, in)
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		got := rec.Header().Get(RequestIDHeader)
		if (got == in) != keep || got == "" {
			t.Errorf("x-request-id %q → %q (keep=%v)", in, got, keep)
		}
	}
}

func TestBodyLimit(t *testing.T) {
	s := New(Deps{Config: testConfig(), Routes: func(r *gin.Engine) {
		r.POST("/echo", func(c *gin.Context) {
			b, err := ReadBody(c)
			if err != nil {
				writeErr(c, err)
				return
			}
			c.Data(200, "application/json", b)
		})
	}})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	cases := []struct {
		name   string
		body   io.Reader
		length int64 // -1: chunked, no Content-Length
		status int
	}{
		{"under the limit", strings.NewReader(`{"a":1}`), 7, 200},
		{"declared too large", bytes.NewReader(make([]byte, 2048)), 2048, 413},
		{"chunked too large", io.MultiReader(strings.NewReader(strings.Repeat("x", 4096))), -1, 413},
		{"empty", strings.NewReader(""), 0, 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", srv.URL+"/echo", tc.body)
			req.ContentLength = tc.length
			if tc.length == -1 {
				req.TransferEncoding = []string{"chunked"}
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, b)
			}
			if tc.status != 200 {
				e := decodeError(t, b)
				if tc.status == 413 && (e.Error.Type != "request_too_large" || !strings.Contains(e.Error.Message, "1024")) {
					t.Fatalf("413 envelope %+v", e)
				}
			}
		})
	}
}

func writeErr(c *gin.Context, err error) {
	c.Abort()
	writeError(c, err)
}

func TestMetricsExposeRoutes(t *testing.T) {
	s := New(Deps{Config: testConfig()})
	h := s.Handler()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/healthz", nil))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/v1/unknown/123", nil))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	out := rec.Body.String()
	for _, want := range []string{
		`sluice_http_requests_total{method="GET",route="/healthz",status="200"} 1`,
		`sluice_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`sluice_http_request_duration_seconds_bucket`,
		`go_goroutines`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(out, "/v1/unknown/123") {
		t.Error("raw path used as a metric label")
	}
}

func TestConsoleFallback(t *testing.T) {
	fsys := fstest.MapFS{
		"index.html":    {Data: []byte("<html>console</html>")},
		"assets/app.js": {Data: []byte("console.log(1)")},
	}
	s := New(Deps{Config: testConfig(), Console: fsys})
	for path, want := range map[string]string{"/": "console</html>", "/dashboard/logs": "console</html>", "/assets/app.js": "console.log"} {
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), want) {
			t.Errorf("GET %s → %d %q", path, rec.Code, rec.Body.String())
		}
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/admin/api/v1/nothing", nil))
	if rec.Code != 404 {
		t.Fatalf("unknown API path served the console: %d", rec.Code)
	}
}

type fakeDB struct{ err error }

func (f *fakeDB) Ping(context.Context) error { return f.err }

type fakeSchema struct{ pending bool }

func (f *fakeSchema) Pending(context.Context) (bool, error) { return f.pending, nil }

func TestReadyzReasons(t *testing.T) {
	d, sch := &fakeDB{}, &fakeSchema{}
	s := New(Deps{Config: testConfig(), DB: d, Schema: sch})
	get := func() (int, string) {
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
		return rec.Code, rec.Body.String()
	}
	if code, _ := get(); code != 200 {
		t.Fatalf("ready: %d", code)
	}
	d.err = errors.New("connection refused")
	if code, body := get(); code != 503 || !strings.Contains(body, "database unreachable") {
		t.Fatalf("db down: %d %s", code, body)
	}
	d.err = nil
	sch.pending = true
	if code, body := get(); code != 503 || !strings.Contains(body, "migrations pending") {
		t.Fatalf("pending: %d %s", code, body)
	}
}

// TestGracefulShutdown cancels the server while a request is in flight: the
// request completes, new connections are refused, Run returns nil.
func TestGracefulShutdown(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	s := New(Deps{Config: testConfig(), Routes: func(r *gin.Engine) {
		r.GET("/slow", func(c *gin.Context) {
			close(started)
			<-release
			c.String(200, "finished")
		})
	}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- s.Run(ctx, ln) }()

	url := "http://" + ln.Addr().String()
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get(url + "/slow")
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- string(b)
	}()
	<-started
	cancel()
	// The listener closes at once: new connections are refused.
	deadline := time.Now().Add(2 * time.Second)
	for {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting connections after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-runErr:
		t.Fatalf("Run returned before the in-flight request finished: %v", err)
	default:
	}
	close(release)
	if body := <-got; body != "finished" {
		t.Fatalf("in-flight request got %q", body)
	}
	if err := <-runErr; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// TestShutdownDeadlineCutsStragglers: a request that outlives the deadline
// is cut and Run still returns.
func TestShutdownDeadlineCutsStragglers(t *testing.T) {
	cfg := testConfig()
	cfg.ShutdownTimeout = 200 * time.Millisecond
	started := make(chan struct{})
	handlerDone := make(chan error, 1)
	s := New(Deps{Config: cfg, Routes: func(r *gin.Engine) {
		r.GET("/forever", func(c *gin.Context) {
			c.Writer.WriteHeader(200)
			c.Writer.Flush()
			close(started)
			<-c.Request.Context().Done()
			handlerDone <- c.Request.Context().Err()
		})
	}})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- s.Run(ctx, ln) }()
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/forever")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	<-started
	cancel()
	select {
	case err := <-runErr:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after the shutdown deadline")
	}
	select {
	case <-handlerDone:
	case <-time.After(2 * time.Second):
		t.Fatal("straggling handler's context was not cancelled")
	}
}

func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode)
	os.Exit(m.Run())
}

func TestTrustedProxiesDecideTheClientAddress(t *testing.T) {
	for _, tc := range []struct {
		name    string
		trusted []string
		want    string
	}{
		{"none trusted: the peer", nil, "192.0.2.1"},
		{"peer trusted: the forwarded client", []string{"192.0.2.0/24"}, "203.0.113.9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.TrustedProxies = tc.trusted
			s := New(Deps{Config: cfg, Routes: func(r *gin.Engine) {
				r.GET("/ip", func(c *gin.Context) { c.String(200, c.ClientIP()) })
			}})
			req := httptest.NewRequest("GET", "/ip", nil)
			req.RemoteAddr = "192.0.2.1:4567"
			req.Header.Set("X-Forwarded-For", "203.0.113.9")
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, req)
			if rec.Body.String() != tc.want {
				t.Fatalf("client address %q, want %q", rec.Body.String(), tc.want)
			}
		})
	}
}
