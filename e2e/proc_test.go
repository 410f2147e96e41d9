package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// sluiceBinary builds cmd/sluice once per test run.
func sluiceBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary: skipped with -short")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sluice-e2e-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "sluice")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/sluice")
		cmd.Dir = repoRoot(t)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// proc is a running `sluice serve`.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	base   string
	stdout *bytes.Buffer
	mu     *sync.Mutex
	pw     *io.PipeWriter
	once   sync.Once
}

// stop ends the process gracefully (SIGTERM), as an operator would.
func (p *proc) stop() {
	p.once.Do(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = p.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = p.cmd.Process.Kill()
			p.t.Errorf("sluice did not stop within 15 s of SIGTERM")
		}
		p.pw.Close()
	})
}

// startSluice runs `sluice serve` with env on a free port and waits for
// /readyz.
func startSluice(t *testing.T, env ...string) *proc {
	t.Helper()
	return startCommand(t, []string{"serve"}, env)
}

// startCommand runs the sluice command args (serve, demo …) with env on a
// free port and waits for /readyz.
func startCommand(t *testing.T, args []string, env []string) *proc {
	t.Helper()
	bin := sluiceBinary(t)
	port := freePort(t)
	cmd := exec.Command(bin, args...)
	cmd.Env = envWith(append([]string{
		"SLUICE_ADDR=127.0.0.1:" + strconv.Itoa(port),
		"SLUICE_LOG_LEVEL=warn",
	}, env...)...)
	p := &proc{t: t, cmd: cmd, base: "http://127.0.0.1:" + strconv.Itoa(port), stdout: &bytes.Buffer{}, mu: &sync.Mutex{}}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			p.mu.Lock()
			p.stdout.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
		}
	}()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.pw = pw
	t.Cleanup(p.stop)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if resp, err := http.Get(p.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("sluice %s never became ready; output:\n%s", args[0], p.output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stdout.String()
}

// call sends a JSON request and decodes a JSON answer into out (when not
// nil); it returns the status.
func call(t *testing.T, method, url, token string, in, out any, header ...string) int {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s → %d, body %q: %v", method, url, resp.StatusCode, raw, err)
		}
	}
	return resp.StatusCode
}

type errorEnvelope struct {
	Error struct {
		Message string `json:"message"`
		Type    string `json:"type"`
		Code    string `json:"code"`
	} `json:"error"`
}

// admin is a signed-in admin API session.
type adminSession struct {
	t     *testing.T
	base  string
	token string
}

func login(t *testing.T, base, email, password string) *adminSession {
	t.Helper()
	var out struct {
		Token string `json:"token"`
	}
	if st := call(t, "POST", base+"/admin/api/v1/login", "", map[string]string{"email": email, "password": password}, &out); st != 200 || out.Token == "" {
		t.Fatalf("login: %d", st)
	}
	return &adminSession{t: t, base: base + "/admin/api/v1", token: out.Token}
}

// do calls the admin API and fails the test unless the status is want.
func (a *adminSession) do(method, path string, in any, want int) map[string]any {
	a.t.Helper()
	var out map[string]any
	if st := call(a.t, method, a.base+path, a.token, in, &out); st != want {
		a.t.Fatalf("%s %s → %d, want %d: %v", method, path, st, want, out)
	}
	return out
}

func id(m map[string]any) string {
	switch v := m["id"].(type) {
	case float64:
		return strconv.FormatInt(int64(v), 10)
	case string:
		return v
	}
	panic(fmt.Sprintf("no id in %v", m))
}

// expectRefused checks an error status and that the message names want.
func expectRefused(t *testing.T, status int, env errorEnvelope, wantStatus int, want string) {
	t.Helper()
	if status != wantStatus || !strings.Contains(env.Error.Message, want) {
		t.Fatalf("got %d %q, want %d containing %q", status, env.Error.Message, wantStatus, want)
	}
}

func jsonText(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// newJSONRequest builds a POST of body as JSON with a bearer key.
func newJSONRequest(ctx context.Context, url, key string, body any) (*http.Request, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	return req, nil
}
