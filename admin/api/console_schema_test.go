package api

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/gin-gonic/gin"
)

var updateSchema = flag.Bool("update", false, "rewrite web/src/api/openapi.json from the admin API's OpenAPI document")

// consoleSchema is the copy of the OpenAPI document the console's
// TypeScript types are generated from (npm run gen:api).
const consoleSchema = "../../web/src/api/openapi.json"

// TestConsoleSchemaIsCurrent keeps the console's copy of the OpenAPI
// document equal to the one the API serves, so the console's types cannot
// drift from the API. After changing the API: go test ./admin/api -run
// ConsoleSchema -update && (cd web && npm run gen:api).
func TestConsoleSchemaIsCurrent(t *testing.T) {
	gin.SetMode(gin.TestMode)
	engine := gin.New()
	New(Deps{}).Register(engine.Group("/admin/api/v1"))
	rec := httptest.NewRecorder()
	engine.ServeHTTP(rec, httptest.NewRequest("GET", "/admin/api/v1/openapi.json", nil))
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, rec.Body.Bytes(), "", "  "); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	pretty.WriteByte('\n')
	if *updateSchema {
		if err := os.WriteFile(consoleSchema, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	have, err := os.ReadFile(consoleSchema)
	if err != nil {
		t.Fatalf("read the console's schema copy: %v (run with -update)", err)
	}
	if !bytes.Equal(have, pretty.Bytes()) {
		t.Fatalf("%s differs from the API's OpenAPI document: run go test ./admin/api -run ConsoleSchema -update, then (cd web && npm run gen:api)", consoleSchema)
	}
}
