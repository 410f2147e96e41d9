package limits

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoFrameworkImports keeps this hot-path package free of Gin and GORM,
// directly or through a dependency.
func TestNoFrameworkImports(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not in PATH")
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/gin-gonic/") || strings.HasPrefix(dep, "gorm.io/") {
			t.Errorf("depends on %s", dep)
		}
	}
}
