package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/config"
)

type goPackage struct {
	ImportPath string
	Doc        string
	Imports    []string
	Deps       []string
}

func listPackages(t *testing.T, pattern string) []goPackage {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", pattern)
	cmd.Dir = repoRoot(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []goPackage
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p goPackage
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// TestEveryPackageHasADocComment: a package says what lives there.
func TestEveryPackageHasADocComment(t *testing.T) {
	for _, p := range listPackages(t, "./...") {
		if strings.TrimSpace(p.Doc) == "" {
			t.Errorf("%s has no package doc comment", p.ImportPath)
		}
	}
}

// TestProvidersStayFrameworkFree: provider code imports neither Gin nor
// GORM nor any part of Sluice outside providers/.
func TestProvidersStayFrameworkFree(t *testing.T) {
	const mod = "github.com/sluicehq/sluice/"
	pkgs := listPackages(t, "./providers/...")
	if len(pkgs) < 2 {
		t.Fatalf("found %d provider packages", len(pkgs))
	}
	for _, p := range pkgs {
		for _, d := range p.Deps {
			switch {
			case strings.HasPrefix(d, "github.com/gin-gonic/"), strings.HasPrefix(d, "gorm.io/"):
				t.Errorf("%s depends on %s", p.ImportPath, d)
			case strings.HasPrefix(d, mod) && !strings.HasPrefix(d, mod+"providers"):
				t.Errorf("%s depends on %s, outside providers/", p.ImportPath, d)
			}
		}
	}
}

// TestReadmeDocumentsEverySetting keeps README's configuration table in
// step with the settings the binary reads.
func TestReadmeDocumentsEverySetting(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, s := range config.Settings() {
		row := "| `" + s.Env + "` | `--" + s.Flag + "` |"
		if !strings.Contains(readme, row) {
			t.Errorf("README's configuration table lacks %s (--%s)", s.Env, s.Flag)
		}
	}
	for _, cmd := range []string{"./quick-start.sh", "make test"} {
		if !strings.Contains(readme, cmd) {
			t.Errorf("README does not show %q", cmd)
		}
	}
}
