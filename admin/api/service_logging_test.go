package api

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/admin"
	"github.com/sluicehq/sluice/internal/dbtest"
)

func TestServiceLoggingSettings(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		e.user("root@example.com", admin.RoleAdmin)
		tok := e.login("root@example.com")
		tid := id(e.must(201, "POST", "/teams", tok, map[string]any{"name": "T"}))

		// Defaults: no bodies, kept forever, nothing redacted.
		svc := e.must(201, "POST", "/services", tok, map[string]any{"slug": "s", "name": "S", "team_id": tid})
		if svc["log_bodies"] != false || svc["log_retention_days"] != float64(0) || fmt.Sprint(svc["redact_fields"]) != "[]" {
			t.Fatalf("defaults %v", svc)
		}
		made := e.must(201, "POST", "/services", tok, map[string]any{"slug": "l", "name": "L", "team_id": tid,
			"log_bodies": true, "log_retention_days": 30, "redact_fields": []string{"messages.#.content", "user"}})
		if made["log_bodies"] != true || made["log_retention_days"] != float64(30) || fmt.Sprint(made["redact_fields"]) != "[messages.#.content user]" {
			t.Fatalf("created %v", made)
		}
		got := e.must(200, "PATCH", idPath("/services", svc), tok, map[string]any{"log_bodies": true, "log_retention_days": 3650, "redact_fields": []string{"metadata.email"}})
		if got["log_bodies"] != true || got["log_retention_days"] != float64(3650) || fmt.Sprint(got["redact_fields"]) != "[metadata.email]" {
			t.Fatalf("patched %v", got)
		}
		got = e.must(200, "GET", idPath("/services", svc), tok, nil)
		if fmt.Sprint(got["redact_fields"]) != "[metadata.email]" || got["log_retention_days"] != float64(3650) {
			t.Fatalf("read back %v", got)
		}

		many := make([]string, 33)
		for i := range many {
			many[i] = fmt.Sprintf("f%d", i)
		}
		for _, c := range []struct {
			name  string
			body  map[string]any
			param string
		}{
			{"negative retention", map[string]any{"log_retention_days": -1}, "log_retention_days"},
			{"retention too long", map[string]any{"log_retention_days": 3651}, "log_retention_days"},
			{"too many paths", map[string]any{"redact_fields": many}, "redact_fields"},
			{"bad path", map[string]any{"redact_fields": []string{"a..b"}}, "redact_fields"},
			{"query path", map[string]any{"redact_fields": []string{"messages.#(role==\"user\")"}}, "redact_fields"},
			{"empty path", map[string]any{"redact_fields": []string{""}}, "redact_fields"},
			{"log_bodies not bool", map[string]any{"log_bodies": "yes"}, "log_bodies"},
		} {
			r := e.do("PATCH", idPath("/services", svc), tok, c.body)
			if r.Code != 400 || r.errParam(t) != c.param {
				t.Errorf("%s: %d %s", c.name, r.Code, r.Body)
			}
		}
		r := e.do("POST", "/services", tok, map[string]any{"slug": "x", "name": "X", "team_id": tid, "log_retention_days": 4000})
		if r.Code != 400 || r.errParam(t) != "log_retention_days" || !strings.Contains(r.errMessage(t), "3650") {
			t.Errorf("create: %d %s", r.Code, r.Body)
		}
	})
}
