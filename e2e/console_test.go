package e2e

import (
	"bytes"
	"context"
	"io/fs"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/fakes/openaifake"
)

// chromiumPath is Debian's Chromium (apt-get install chromium), or
// SLUICE_CHROMIUM.
func chromiumPath() string {
	if p := os.Getenv("SLUICE_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// consoleTools reports why the browser suite cannot run here, or "".
func consoleTools(root string) string {
	if _, err := exec.LookPath("node"); err != nil {
		return "Node.js is not installed"
	}
	if _, err := os.Stat(filepath.Join(root, "web", "node_modules", "playwright-core")); err != nil {
		return "web/node_modules is missing (run: cd web && npm ci)"
	}
	if _, err := os.Stat(chromiumPath()); err != nil {
		return "Chromium is not installed at " + chromiumPath() + " (apt-get install chromium, or set SLUICE_CHROMIUM)"
	}
	return ""
}

// TestConsoleDistIsCurrent builds the console from web/src and checks the
// result equals the committed web/dist, which `go build` embeds: a clean
// clone's binary serves the console its sources describe.
func TestConsoleDistIsCurrent(t *testing.T) {
	root := repoRoot(t)
	if testing.Short() {
		t.Skip("builds the console: skipped with -short")
	}
	if _, err := os.Stat(filepath.Join(root, "web", "node_modules", "vite")); err != nil {
		t.Skip("console build check SKIPPED: web/node_modules is missing (run: cd web && npm ci)")
	}
	out := t.TempDir()
	cmd := exec.Command("npx", "vite", "build", "--outDir", out, "--emptyOutDir", "--logLevel", "warn")
	cmd.Dir = filepath.Join(root, "web")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("vite build: %v\n%s", err, b)
	}
	want := readTree(t, out)
	have := readTree(t, filepath.Join(root, "web", "dist"))
	for name, w := range want {
		if h, ok := have[name]; !ok || !bytes.Equal(h, w) {
			t.Errorf("web/dist/%s is missing or stale", name)
		}
	}
	for name := range have {
		if _, ok := want[name]; !ok {
			t.Errorf("web/dist/%s is not built from the sources any more", name)
		}
	}
	if t.Failed() {
		t.Log("rebuild and commit the console: (cd web && npm run build) && git add web/dist")
	}
}

func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestConsoleInBrowser drives the admin console in headless Chromium
// (web/e2e/console.e2e.mjs, playwright-core with Debian's chromium) against
// a real `sluice serve` with a fake OpenAI upstream: the operator's whole
// day, from login to a populated dashboard. Screenshots of every page go to
// SLUICE_E2E_SCREENSHOTS (default: a temp dir, printed).
func TestConsoleInBrowser(t *testing.T) {
	root := repoRoot(t)
	if why := consoleTools(root); why != "" {
		t.Skip("browser suite SKIPPED: " + why)
	}
	fake := openaifake.New()
	fake.APIKey = "sk-upstream-console"
	up := httptest.NewServer(fake)
	defer up.Close()

	dir := t.TempDir()
	p := startSluice(t, "SLUICE_DATA_DIR="+dir, "SLUICE_DATABASE_URL=sqlite:"+filepath.Join(dir, "sluice.db"),
		"SLUICE_ADMIN_PASSWORD=console-e2e-password")

	shots := os.Getenv("SLUICE_E2E_SCREENSHOTS")
	if shots == "" {
		shots = filepath.Join(os.TempDir(), "sluice-console-screenshots")
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "e2e/console.e2e.mjs")
	cmd.Dir = filepath.Join(root, "web")
	cmd.Env = append(os.Environ(),
		"SLUICE_URL="+p.base,
		"SLUICE_ADMIN_EMAIL=admin@localhost",
		"SLUICE_ADMIN_PASSWORD=console-e2e-password",
		"UPSTREAM_URL="+up.URL+"/v1",
		"UPSTREAM_KEY=sk-upstream-console",
		"CHROMIUM="+chromiumPath(),
		"SCREENSHOTS="+shots,
	)
	out, err := cmd.CombinedOutput()
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		t.Log(line)
	}
	if err != nil {
		t.Fatalf("console e2e failed: %v (screenshots, including the failure's, in %s)\nsluice output:\n%s", err, shots, p.output())
	}
	t.Logf("screenshots of every page: %s", shots)
}
