package e2e

import (
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// startDemo runs `sluice demo` with env and args on a free port and waits
// for /readyz.
func startDemo(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	return startCommand(t, append([]string{"demo"}, args...), env)
}

// banner waits for the demo's banner (printed before the server serves,
// but read from the pipe by another goroutine) and returns the output.
func (p *proc) banner(t *testing.T) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		out := p.output()
		if strings.Contains(out, "  Traffic:") {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("no banner in the output:\n%s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDemo runs the built binary's `sluice demo` on a new SQLite database
// and checks, through the admin API the console reads, that the dashboard
// has something to show at once: a day of analytics across services and
// models, calls with waterfalls in the log, a subscription waiting for
// approval. A second start on the same database seeds nothing twice.
func TestDemo(t *testing.T) {
	dir := t.TempDir()
	env := []string{"SLUICE_DATA_DIR=" + dir, "SLUICE_DATABASE_URL=sqlite:" + filepath.Join(dir, "sluice.db"),
		"SLUICE_ADMIN_PASSWORD=e2e-demo-password"}
	sluiceBinary(t) // built before the clock starts
	t0 := time.Now()
	p := startDemo(t, env)
	t.Logf("first start ready after %s", time.Since(t0))
	out := p.banner(t)
	for _, want := range []string{"Console:   " + p.base + "/", "SLUICE_ADMIN_PASSWORD", "Demo key:", "History:"} {
		if !strings.Contains(out, want) {
			t.Fatalf("banner lacks %q:\n%s", want, out)
		}
	}
	key := regexp.MustCompile(`Demo key:\s+(\S+)`).FindStringSubmatch(out)[1]
	a := login(t, p.base, "admin@localhost", "e2e-demo-password")

	// The dashboard: the last 24 hours, by service and by model.
	since := url.QueryEscape(time.Now().Add(-24 * time.Hour).UTC().Format(time.RFC3339))
	type groups struct {
		Groups []struct {
			Group    string  `json:"group"`
			Requests int64   `json:"requests"`
			Cost     float64 `json:"cost"`
		} `json:"groups"`
		Data  []any             `json:"data"`
		Names map[string]string `json:"names"`
		Total struct {
			Requests int64 `json:"requests"`
		} `json:"total"`
	}
	var bySvc, byModel groups
	if st := call(t, "GET", a.base+"/analytics?group_by=service&since="+since, a.token, nil, &bySvc); st != 200 {
		t.Fatalf("analytics: %d", st)
	}
	if bySvc.Total.Requests < 1000 || bySvc.Names["1"] != "Demo Chat" || bySvc.Names["2"] != "Demo Embeddings" || len(bySvc.Data) < 40 {
		t.Fatalf("analytics by service over 24 h: total %d, names %v, %d points", bySvc.Total.Requests, bySvc.Names, len(bySvc.Data))
	}
	if st := call(t, "GET", a.base+"/analytics?group_by=model&since="+since, a.token, nil, &byModel); st != 200 {
		t.Fatalf("analytics: %d", st)
	}
	models := map[string]int64{}
	for _, g := range byModel.Groups {
		models[g.Group] = g.Requests
	}
	for _, m := range []string{"demo-gpt", "demo-claude", "demo-gemini", "demo-embed"} {
		if models[m] == 0 {
			t.Errorf("no calls of %s in the last 24 h: %v", m, models)
		}
	}

	// The log explorer: calls with their waterfalls.
	var logs struct {
		Data []struct {
			ID     string `json:"id"`
			Status int    `json:"status"`
		} `json:"data"`
	}
	if st := call(t, "GET", a.base+"/logs?limit=50&status=200", a.token, nil, &logs); st != 200 || len(logs.Data) == 0 {
		t.Fatalf("logs: %d, %d records", st, len(logs.Data))
	}
	var detail struct {
		Attempts  []any `json:"attempts"`
		Waterfall struct {
			Phases []struct {
				Name string `json:"name"`
			} `json:"phases"`
		} `json:"waterfall"`
	}
	call(t, "GET", a.base+"/logs/"+logs.Data[0].ID, a.token, nil, &detail)
	if len(detail.Attempts) == 0 || len(detail.Waterfall.Phases) < 3 {
		t.Fatalf("a 200 call without a waterfall: %+v", detail)
	}

	// The approval queue has the demo's pending subscription.
	var pending struct {
		Data []struct {
			ConsumerName string `json:"consumer_name"`
			ServiceSlug  string `json:"service_slug"`
		} `json:"data"`
	}
	call(t, "GET", a.base+"/subscriptions?status=pending", a.token, nil, &pending)
	if len(pending.Data) != 1 || pending.Data[0].ConsumerName != "demo-web-app" || pending.Data[0].ServiceSlug != "demo-embeddings" {
		t.Fatalf("pending subscriptions: %+v", pending.Data)
	}

	// The printed key calls the gateway; live traffic is logged.
	var chat struct {
		Choices []struct {
			Message struct{ Content string } `json:"message"`
		} `json:"choices"`
	}
	if st := call(t, "POST", p.base+"/v1/chat/completions", key, map[string]any{"model": "demo-claude",
		"messages": []any{map[string]any{"role": "user", "content": "hello from e2e"}}}, &chat); st != 200 || len(chat.Choices) == 0 {
		t.Fatalf("chat with the printed key: %d %+v", st, chat)
	}
	liveSince := url.QueryEscape(time.Now().Add(-30 * time.Second).UTC().Format(time.RFC3339))
	deadline := time.Now().Add(10 * time.Second)
	for {
		var live struct{ Data []any }
		call(t, "GET", a.base+"/logs?limit=20&since="+liveSince, a.token, nil, &live)
		if len(live.Data) >= 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d live calls logged in 10 s", len(live.Data))
		}
		time.Sleep(250 * time.Millisecond)
	}
	counts := func(a *adminSession) string {
		var b strings.Builder
		for _, path := range []string{"/providers", "/models", "/services", "/consumers", "/teams", "/prompts", "/subscriptions"} {
			var page struct {
				Total int64 `json:"total"`
				Data  []any `json:"data"`
			}
			call(t, "GET", a.base+path+"?per_page=200", a.token, nil, &page)
			b.WriteString(path + "=" + strconv.Itoa(len(page.Data)) + " ")
		}
		return b.String()
	}
	before := counts(a)
	t.Logf("first start checked after %s", time.Since(t0))
	p.stop()
	t.Logf("first start stopped after %s", time.Since(t0))

	// A second start on the same database: no new rows, no new history,
	// and the same key still works.
	p2 := startDemo(t, env, "--no-traffic")
	t.Logf("second start ready after %s", time.Since(t0))
	out2 := p2.banner(t)
	if strings.Contains(out2, "History:") || !strings.Contains(out2, "Traffic:   none") {
		t.Fatalf("second start's banner:\n%s", out2)
	}
	a2 := login(t, p2.base, "admin@localhost", "e2e-demo-password")
	t.Logf("second start signed in after %s", time.Since(t0))
	if after := counts(a2); after != before {
		t.Fatalf("second start changed the demo data:\nbefore %s\nafter  %s", before, after)
	}
	if st := call(t, "POST", p2.base+"/v1/chat/completions", key, map[string]any{"model": "demo-gpt",
		"messages": []any{map[string]any{"role": "user", "content": "hello again"}}}, &chat); st != 200 {
		t.Fatalf("the first start's key after a restart: %d", st)
	}
	p2.stop()
	t.Logf("second start stopped after %s", time.Since(t0))
}
