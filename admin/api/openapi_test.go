package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

var ginParam = regexp.MustCompile(`:([a-z_]+)`)

// TestOpenAPIMatchesRouter checks that every route is documented and every
// documented operation is a route.
func TestOpenAPIMatchesRouter(t *testing.T) {
	gin.SetMode(gin.TestMode)
	engine := gin.New()
	New(Deps{}).Register(engine.Group("/admin/api/v1"))

	routes := map[string]bool{}
	for _, r := range engine.Routes() {
		p := strings.TrimPrefix(r.Path, "/admin/api/v1")
		routes[r.Method+" "+ginParam.ReplaceAllString(p, "{$1}")] = true
	}

	rec := httptest.NewRecorder()
	engine.ServeHTTP(rec, httptest.NewRequest("GET", "/admin/api/v1/openapi.json", nil))
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("GET openapi.json without a session: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]struct {
			Parameters []struct {
				Name string `json:"name"`
				In   string `json:"in"`
			} `json:"parameters"`
			RequestBody map[string]any `json:"requestBody"`
			Responses   map[string]any `json:"responses"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi = %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			key := strings.ToUpper(method) + " " + path
			documented[key] = true
			if len(op.Responses) == 0 {
				t.Errorf("%s: no responses", key)
			}
			// Every path parameter is declared.
			for _, m := range regexp.MustCompile(`\{([a-z_]+)\}`).FindAllStringSubmatch(path, -1) {
				found := false
				for _, p := range op.Parameters {
					found = found || (p.In == "path" && p.Name == m[1])
				}
				if !found {
					t.Errorf("%s: path parameter %s not declared", key, m[1])
				}
			}
			if (method == "post" || method == "patch") && op.RequestBody == nil &&
				path != "/logout" && path != "/refresh" {
				t.Errorf("%s: no request body", key)
			}
		}
	}
	var missing, extra []string
	for r := range routes {
		if !documented[r] {
			missing = append(missing, r)
		}
	}
	for d := range documented {
		if !routes[d] {
			extra = append(extra, d)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("routes missing from the document: %v", missing)
	}
	if len(extra) > 0 {
		t.Errorf("documented operations that are not routes: %v", extra)
	}
	if len(routes) < 40 {
		t.Errorf("only %d routes", len(routes))
	}

	// Every $ref resolves.
	for _, ref := range regexp.MustCompile(`"#/components/schemas/([A-Za-z]+)"`).FindAllStringSubmatch(rec.Body.String(), -1) {
		if _, ok := doc.Components.Schemas[ref[1]]; !ok {
			t.Errorf("dangling $ref %s", ref[1])
		}
	}
}

// TestOpenAPIProviderKinds checks that the document lists the registered
// provider kinds.
func TestOpenAPIProviderKinds(t *testing.T) {
	gin.SetMode(gin.TestMode)
	engine := gin.New()
	New(Deps{}).Register(engine.Group("/admin/api/v1"))
	rec := httptest.NewRecorder()
	engine.ServeHTTP(rec, httptest.NewRequest("GET", "/admin/api/v1/openapi.json", nil))
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]struct {
					Enum []string `json:"enum"`
				} `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	kinds := doc.Components.Schemas["Provider"].Properties["kind"].Enum
	for _, k := range []string{"openai", "openai-compatible", "azure", "anthropic", "gemini"} {
		if !slices.Contains(kinds, k) {
			t.Errorf("Provider.kind enum %v lacks %s", kinds, k)
		}
	}
}
