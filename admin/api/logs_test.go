package api

import (
	"fmt"
	"maps"
	"net/url"
	"testing"
	"time"

	"github.com/sluicehq/sluice/admin"
	"github.com/sluicehq/sluice/internal/dbtest"
)

// seedCalls writes call_logs rows and their rollups (minute, hour, day)
// directly, as the writer would: two teams' services, one call a minute.
func seedCalls(e *env, at time.Time, svcA, svcB *admin.Service) {
	e.t.Helper()
	folded := map[string]map[string]any{}
	var order []string
	for i := range 20 {
		svc := svcA
		if i%2 == 1 {
			svc = svcB
		}
		status := 200
		if i%5 == 0 {
			status = 502
		}
		started := at.Add(time.Duration(i) * time.Minute)
		row := map[string]any{"id": fmt.Sprintf("0000-%04d", i), "request_id": fmt.Sprintf("req-%d", i), "started_at": started,
			"service_id": svc.ID, "team_id": svc.TeamID, "consumer_id": 0, "endpoint": "chat", "model": "gpt-4o", "provider": "openai",
			"status": status, "total_us": 150000, "auth_us": 100, "routing_us": 50,
			"attempts": `[{"provider":"openai","status":200,"start_us":150,"dns_us":0,"connect_us":0,"tls_us":0,"ttfb_us":100000,"transfer_us":49000}]`}
		if err := e.db.Table("call_logs").Create(row).Error; err != nil {
			e.t.Fatal(err)
		}
		class := "2xx"
		if status == 502 {
			class = "5xx"
		}
		roll := map[string]any{"bucket": started, "service_id": svc.ID, "consumer_id": 0, "team_id": svc.TeamID, "model": "gpt-4o",
			"provider": "openai", "endpoint": "chat", "status_class": class, "requests": 1, "errors": map[bool]int{true: 1}[status != 200],
			"tokens_in": 10, "tokens_out": 5, "cost": 0.25, "latency_us": 150000, "lat_le_200": 1}
		for table, unit := range map[string]time.Duration{"call_rollups": time.Minute, "call_rollups_hourly": time.Hour, "call_rollups_daily": 24 * time.Hour} {
			k := fmt.Sprint(table, started.Truncate(unit), svc.ID, class)
			if r := folded[k]; r != nil {
				for _, c := range []string{"requests", "errors", "tokens_in", "tokens_out", "latency_us", "lat_le_200"} {
					r[c] = r[c].(int) + roll[c].(int)
				}
				r["cost"] = r["cost"].(float64) + roll["cost"].(float64)
				continue
			}
			row := maps.Clone(roll)
			row["bucket"], row["@table"] = started.Truncate(unit), table
			folded[k] = row
			order = append(order, k)
		}
	}
	for _, k := range order {
		row := folded[k]
		table := row["@table"].(string)
		delete(row, "@table")
		if err := e.db.Table(table).Create(row).Error; err != nil {
			e.t.Fatal(err)
		}
	}
}

func TestLogsAndAnalyticsAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		teamA, teamB := &admin.Team{Name: "A"}, &admin.Team{Name: "B"}
		for _, tm := range []*admin.Team{teamA, teamB} {
			if err := e.db.Create(tm).Error; err != nil {
				t.Fatal(err)
			}
		}
		svcA := &admin.Service{Slug: "a-svc", Name: "A svc", TeamID: teamA.ID, Approval: "manual"}
		svcB := &admin.Service{Slug: "b-svc", Name: "B svc", TeamID: teamB.ID, Approval: "manual"}
		for _, s := range []*admin.Service{svcA, svcB} {
			if err := e.db.Create(s).Error; err != nil {
				t.Fatal(err)
			}
		}
		at := time.Date(2026, 3, 1, 10, 0, 30, 0, time.UTC)
		seedCalls(e, at, svcA, svcB)
		e.user("root@example.com", admin.RoleAdmin)
		e.user("alice@example.com", admin.RoleMember, teamA.ID)
		root, alice := e.login("root@example.com"), e.login("alice@example.com")

		// Cursor walk, admin: every call once.
		seen := map[string]bool{}
		path := "/logs?limit=3"
		for range 20 {
			m := e.must(200, "GET", path, root, nil)
			for _, d := range m["data"].([]any) {
				id := d.(map[string]any)["id"].(string)
				if seen[id] {
					t.Fatalf("%s seen twice", id)
				}
				seen[id] = true
			}
			next, _ := m["next_cursor"].(string)
			if next == "" {
				break
			}
			path = "/logs?limit=3&cursor=" + url.QueryEscape(next)
		}
		if len(seen) != 20 {
			t.Fatalf("walked %d calls, want 20", len(seen))
		}

		// A member sees their team's calls only, filters apply.
		for _, c := range []struct {
			query string
			want  int
		}{{"", 10}, {"?status=5xx", 2}, {"?status=502", 2}, {"?service_id=" + fmt.Sprint(svcB.ID), 0}, {"?request_id=req-4", 1}} {
			m := e.must(200, "GET", "/logs"+c.query, alice, nil)
			if n := len(m["data"].([]any)); n != c.want {
				t.Errorf("member GET /logs%s: %d calls, want %d", c.query, n, c.want)
			}
		}
		for _, bad := range []string{"?status=abc", "?since=yesterday", "?limit=500", "?cursor=%21%21"} {
			if r := e.do("GET", "/logs"+bad, root, nil); r.Code != 400 {
				t.Errorf("GET /logs%s: %d, want 400", bad, r.Code)
			}
		}

		// Detail with its waterfall; another team's call is 404.
		d := e.must(200, "GET", "/logs/0000-0000", alice, nil)
		wf := d["waterfall"].(map[string]any)
		if len(d["attempts"].([]any)) != 1 || wf["total_us"].(float64) != 150000 || len(wf["phases"].([]any)) < 4 {
			t.Fatalf("detail %v", d)
		}
		if r := e.do("GET", "/logs/0000-0001", alice, nil); r.Code != 404 {
			t.Fatalf("another team's call: %d", r.Code)
		}

		// Analytics: admin sees both services with names, a member one.
		q := "?bucket=minute&group_by=service&since=" + at.Format(time.RFC3339) + "&until=" + at.Add(time.Hour).Format(time.RFC3339)
		m := e.must(200, "GET", "/analytics"+q, root, nil)
		if tot := m["total"].(map[string]any); tot["requests"].(float64) != 20 || tot["errors_5xx"].(float64) != 4 || tot["cost"].(float64) != 5 {
			t.Fatalf("admin total %v", tot)
		}
		if names := m["names"].(map[string]any); names[fmt.Sprint(svcA.ID)] != "A svc" || names[fmt.Sprint(svcB.ID)] != "B svc" {
			t.Fatalf("names %v", names)
		}
		m = e.must(200, "GET", "/analytics"+q, alice, nil)
		if groups := m["groups"].([]any); len(groups) != 1 || groups[0].(map[string]any)["group"] != fmt.Sprint(svcA.ID) {
			t.Fatalf("member groups %v", groups)
		}
		top := e.must(200, "GET", "/analytics/top?by=service&since="+at.Format(time.RFC3339)+"&until="+at.Add(time.Hour).Format(time.RFC3339), root, nil)
		if data := top["data"].([]any); len(data) != 2 || data[0].(map[string]any)["requests"].(float64) != 10 {
			t.Fatalf("top %v", top)
		}
		for _, bad := range []string{"/analytics?bucket=week", "/analytics?group_by=colour", "/analytics/top?by=colour", "/analytics/top?by=model&limit=0"} {
			if r := e.do("GET", bad, root, nil); r.Code != 400 {
				t.Errorf("GET %s: %d, want 400", bad, r.Code)
			}
		}
	})
}
