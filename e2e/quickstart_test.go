package e2e

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/admin"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/db"
)

// repoRoot is the checkout this test runs in.
func repoRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skipf("not in a git checkout: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// copyRepo copies the tracked and untracked-but-not-ignored files, as a
// fresh clone of the current tree would have them.
func copyRepo(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	out, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "sluice")
	for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		src := filepath.Join(root, name)
		st, err := os.Stat(src)
		if err != nil || st.IsDir() {
			continue // deleted in the work tree, or a submodule
		}
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dst, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, st.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

type script struct {
	t    *testing.T
	dir  string
	env  []string
	base string
}

func (s script) run(args ...string) (string, int) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "./quick-start.sh", args...)
	cmd.Dir = s.dir
	cmd.Env = s.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		s.t.Fatalf("quick-start.sh %v: %v\n%s", args, err, out.String())
	}
	return out.String(), code
}

func envWith(kv ...string) []string {
	env := []string{}
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "SLUICE_") {
			env = append(env, e)
		}
	}
	return append(env, kv...)
}

func get(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestQuickStart(t *testing.T) {
	if testing.Short() {
		t.Skip("quick-start builds the binary: skipped with -short")
	}
	dir := copyRepo(t)
	port := freePort(t)
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	s := script{t: t, dir: dir, env: envWith("SLUICE_ADDR=127.0.0.1:" + strconv.Itoa(port)), base: base}
	t.Cleanup(func() { s.run("stop") })

	// First start: builds, migrates, creates the admin, prints credentials.
	out, code := s.run()
	if code != 0 {
		t.Fatalf("first start exited %d:\n%s", code, out)
	}
	m := regexp.MustCompile(`Password:\s+(\S+)`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "admin@localhost") || !strings.Contains(out, base+"/") {
		t.Fatalf("credentials or URL not printed:\n%s", out)
	}
	password := m[1]
	if got := get(t, base+"/readyz"); got != 200 {
		t.Fatalf("/readyz = %d after start", got)
	}
	checkAdmin(t, dir, password)
	if _, err := os.Stat(filepath.Join(dir, "data", "sluice.pid")); err != nil {
		t.Fatalf("no pid file: %v", err)
	}

	// Second start with nothing changed: says it runs, starts nothing.
	out, code = s.run()
	if code != 0 || !strings.Contains(out, "already running") {
		t.Fatalf("second start: exit %d\n%s", code, out)
	}

	// Upgrade: a changed source rebuilds and restarts; data is kept.
	mainGo := filepath.Join(dir, "cmd", "sluice", "main.go")
	src, _ := os.ReadFile(mainGo)
	if err := os.WriteFile(mainGo, append(src, []byte("\n// upgraded\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code = s.run()
	if code != 0 || !strings.Contains(out, "upgrading in place") || !strings.Contains(out, "an admin already exists") {
		t.Fatalf("upgrade: exit %d\n%s", code, out)
	}
	if got := get(t, base+"/readyz"); got != 200 {
		t.Fatalf("/readyz = %d after upgrade", got)
	}
	checkAdmin(t, dir, password)

	out, code = s.run("status")
	if code != 0 || !strings.Contains(out, "answers 200") {
		t.Fatalf("status: exit %d\n%s", code, out)
	}
	out, code = s.run("logs")
	if code != 0 || !strings.Contains(out, `"msg":"listening"`) {
		t.Fatalf("logs: exit %d\n%s", code, out)
	}

	out, code = s.run("stop")
	if code != 0 || !strings.Contains(out, "Stopped") {
		t.Fatalf("stop: exit %d\n%s", code, out)
	}
	if got := get(t, base+"/healthz"); got != 0 {
		t.Fatalf("still answering after stop: %d", got)
	}
	if _, code = s.run("status"); code != 3 {
		t.Fatalf("status after stop exited %d, want 3", code)
	}

	// The demo action: `sluice demo` on the same data, its key printed;
	// restart keeps the demo; the plain start switches back to serve.
	out, code = s.run("demo")
	if code != 0 || !strings.Contains(out, "Sluice demo is running") || !regexp.MustCompile(`Demo key:\s+\S+\.\S+\.\S+`).MatchString(out) ||
		!strings.Contains(out, "an admin already exists") {
		t.Fatalf("demo: exit %d\n%s", code, out)
	}
	out, code = s.run("restart")
	if code != 0 || !strings.Contains(out, "Sluice demo is running") {
		t.Fatalf("restart of the demo: exit %d\n%s", code, out)
	}
	out, code = s.run()
	if code != 0 || !strings.Contains(out, "restarting it as 'serve'") || strings.Contains(out, "Demo key") {
		t.Fatalf("start after the demo: exit %d\n%s", code, out)
	}
	if out, code = s.run("stop"); code != 0 || !strings.Contains(out, "Stopped") {
		t.Fatalf("stop: exit %d\n%s", code, out)
	}

	// A port taken by another program: a clear message, non-zero exit.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	taken := script{t: t, dir: dir, env: envWith("SLUICE_ADDR=127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))}
	out, code = taken.run()
	if code == 0 || !strings.Contains(out, "already taken") {
		t.Fatalf("taken port: exit %d\n%s", code, out)
	}

	// No Go on PATH: a clear message, non-zero exit.
	noGo := script{t: t, dir: dir, env: append(envWith("SLUICE_ADDR=127.0.0.1:1"), "PATH=/usr/bin:/bin")}
	out, code = noGo.run()
	if code == 0 || !strings.Contains(out, "Go is not installed") {
		t.Fatalf("without go: exit %d\n%s", code, out)
	}
}

// checkAdmin checks the stored admin's password hash against the printed
// password.
func checkAdmin(t *testing.T, dir, password string) {
	t.Helper()
	d, err := config.ParseDatabaseURL("sqlite:" + filepath.Join(dir, "data", "sluice.db"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := db.Open(context.Background(), d, db.Options{MaxOpenConns: 1, ConnectTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	u, err := admin.NewUsers(h.Gorm).ByEmail(context.Background(), "admin@localhost")
	if err != nil {
		t.Fatal(err)
	}
	if u.Role != admin.RoleAdmin || !admin.CheckPassword(u.PasswordHash, password) {
		t.Fatalf("stored admin %s does not match the printed password", u.Email)
	}
}
