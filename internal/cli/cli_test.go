package cli

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, ctx context.Context, env map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(ctx, args, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, &out, &errb)
	return result{code, out.String(), errb.String()}
}

func tempEnv(t *testing.T) map[string]string {
	dir := t.TempDir()
	return map[string]string{
		"SLUICE_DATA_DIR":     dir,
		"SLUICE_DATABASE_URL": "sqlite:" + filepath.Join(dir, "sluice.db"),
	}
}

func TestBadSettingsExitTwoWithOneLine(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"unknown flag", nil, []string{"serve", "--no-such-flag"}, "no-such-flag"},
		{"malformed database url", map[string]string{"SLUICE_DATABASE_URL": "mongodb://x"}, nil, "SLUICE_DATABASE_URL"},
		{"unknown command", nil, []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"admin create without email", tempEnv(t), []string{"admin", "create"}, "--email"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, context.Background(), tc.env, tc.args...)
			if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", r.code, r.stderr, tc.want)
			}
			if first := strings.SplitN(r.stderr, "\n", 2)[0]; !strings.Contains(first, tc.want) {
				t.Fatalf("first line %q does not name the problem", first)
			}
		})
	}
}

func TestVersionAndHelp(t *testing.T) {
	r := run(t, context.Background(), nil, "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "sluice ") || !strings.Contains(r.stdout, "commit") {
		t.Fatalf("version: %+v", r)
	}
	r = run(t, context.Background(), nil, "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "migrate status") || !strings.Contains(r.stdout, "SLUICE_DATABASE_URL") {
		t.Fatalf("help: %+v", r)
	}
}

func TestUnreachableDatabaseGivesUpWithinTheBound(t *testing.T) {
	// A port nobody listens on.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	env := map[string]string{
		"SLUICE_DATABASE_URL":       "postgres://sluice:pw@" + addr + "/sluice?sslmode=disable",
		"SLUICE_DB_CONNECT_TIMEOUT": "1s",
		"SLUICE_DATA_DIR":           t.TempDir(),
	}
	start := time.Now()
	r := run(t, context.Background(), env, "migrate", "up")
	took := time.Since(start)
	if r.code != 1 || !strings.Contains(r.stderr, "unreachable after 1s") || !strings.Contains(r.stderr, "attempts") {
		t.Fatalf("exit %d stderr %q", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, ":pw@") {
		t.Fatalf("password leaked: %q", r.stderr)
	}
	if took > 8*time.Second {
		t.Fatalf("gave up after %s, bound was 1s", took)
	}
}

func TestMigrateAndAdminCommands(t *testing.T) {
	ctx := context.Background()
	env := tempEnv(t)
	r := run(t, ctx, env, "migrate", "status")
	if r.code != 0 || !strings.Contains(r.stdout, "pending") {
		t.Fatalf("status before: %+v", r)
	}
	r = run(t, ctx, env, "migrate", "up")
	if r.code != 0 || !strings.Contains(r.stdout, "applied 0001") {
		t.Fatalf("up: %+v", r)
	}
	r = run(t, ctx, env, "migrate", "up")
	if r.code != 0 || !strings.Contains(r.stdout, "schema is current") {
		t.Fatalf("second up: %+v", r)
	}
	r = run(t, ctx, env, "admin", "create", "--email", "ops@example.com")
	m := regexp.MustCompile(`with password (\S+)`).FindStringSubmatch(r.stdout)
	if r.code != 0 || m == nil {
		t.Fatalf("admin create: %+v", r)
	}
	r = run(t, ctx, env, "admin", "create", "--email", "ops@example.com", "--password", "whatever123")
	if r.code != 1 || !strings.Contains(r.stderr, "already exists") {
		t.Fatalf("duplicate admin: %+v", r)
	}
	r = run(t, ctx, env, "admin", "create", "--if-no-admin", "--email", "other@example.com")
	if r.code != 0 || !strings.Contains(r.stdout, "already exists; nothing created") {
		t.Fatalf("--if-no-admin: %+v", r)
	}
	r = run(t, ctx, env, "admin", "passwd", "--email", "ops@example.com", "--password", "a new password")
	if r.code != 0 || !strings.Contains(r.stdout, "changed") {
		t.Fatalf("passwd: %+v", r)
	}
	r = run(t, ctx, env, "admin", "passwd", "--email", "ghost@example.com")
	if r.code != 1 || !strings.Contains(r.stderr, "not found") {
		t.Fatalf("passwd unknown: %+v", r)
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestServeBootstrapsAndStopsOnCancel(t *testing.T) {
	env := tempEnv(t)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	env["SLUICE_ADDR"] = addr
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"serve"}, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, &stdout, &stderr)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("never ready; stderr:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !regexp.MustCompile(`First admin created: admin@localhost / \S{24} `).MatchString(stdout.String()) {
		t.Fatalf("generated password not printed once: %q", stdout.String())
	}
	if strings.Contains(stderr.String(), strings.Fields(stdout.String())[5]) {
		t.Fatal("the generated password reached the log")
	}
	// A second serve on the same address fails at once, naming the setting.
	r := run(t, context.Background(), env, "serve")
	if r.code != 1 || !strings.Contains(r.stderr, "SLUICE_ADDR") || !strings.Contains(r.stderr, "already in use") {
		t.Fatalf("second serve: %+v", r)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited %d: %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop after cancel")
	}
	if !strings.Contains(stderr.String(), `"msg":"stopped"`) {
		t.Fatalf("no clean stop logged: %s", stderr.String())
	}
}
