package demo

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/sluicehq/sluice/admin"
	"github.com/sluicehq/sluice/admin/keys"
	"github.com/sluicehq/sluice/internal/calllog"
	"github.com/sluicehq/sluice/internal/clock"
	"github.com/sluicehq/sluice/internal/dbtest"
	"github.com/sluicehq/sluice/internal/secret"
	"github.com/sluicehq/sluice/migrations"
	"github.com/sluicehq/sluice/prompts"
)

func newDeps(t *testing.T, kind string) Deps {
	t.Helper()
	d, _ := dbtest.NewDatabase(t, kind)
	h := dbtest.OpenURL(t, d)
	m, err := migrations.New(h, d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(context.Background()); err != nil {
		t.Fatal(err)
	}
	sec, err := secret.Load("demo test secret, at least 32 characters long", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ring, err := keys.NewKeyring(sec.Master(), "k1")
	if err != nil {
		t.Fatal(err)
	}
	return Deps{DB: h, Notifier: admin.NopNotifier{}, Sealer: sec.Sealer(), Keyring: ring, DataDir: t.TempDir(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Clock: clock.Real{}}
}

func startTestFakes(t *testing.T) *fakes {
	t.Helper()
	f, err := startFakes(1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.close(context.Background()) })
	return f
}

// counts are the rows of every table the seeding writes.
func counts(t *testing.T, d Deps) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, table := range []string{"providers", "models", "model_targets", "teams", "services", "service_models", "consumers",
		"consumer_keys", "subscriptions", "subscription_events", "prompts", "prompt_versions"} {
		var n int64
		if err := d.DB.Gorm.Table(table).Count(&n).Error; err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		out[table] = n
	}
	return out
}

func TestSeedIsIdempotent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		d := newDeps(t, kind)
		first, err := seed(ctx, d, startTestFakes(t))
		if err != nil {
			t.Fatal(err)
		}
		if !first.First || first.Pending == 0 || first.PromptVersion != 1 {
			t.Fatalf("first seeding: %+v", first)
		}
		before := counts(t, d)
		for table, n := range before {
			if n == 0 {
				t.Errorf("nothing seeded in %s", table)
			}
		}
		if before["consumers"] != 2 || before["subscriptions"] != 4 || before["providers"] != 3 {
			t.Errorf("seeded %v", before)
		}

		// A second start: the fakes are on other ports.
		moved := startTestFakes(t)
		second, err := seed(ctx, d, moved)
		if err != nil {
			t.Fatal(err)
		}
		if after := counts(t, d); !equal(before, after) {
			t.Fatalf("second seeding changed the counts:\nbefore %v\nafter  %v", before, after)
		}
		if second.First {
			t.Error("second seeding says it created the consumers")
		}
		for name, k := range first.Keys {
			if second.Keys[name] != k {
				t.Errorf("%s's key changed: %s → %s", name, k.ID, second.Keys[name].ID)
			}
			if _, err := d.Keyring.Verifier(10).Verify(k.Token, time.Now()); err != nil {
				t.Errorf("%s's key does not verify: %v", name, err)
			}
		}
		if second.Pending != first.Pending {
			t.Errorf("pending subscription %d → %d", first.Pending, second.Pending)
		}
		p, err := admin.NewProviders(d.DB.Gorm, nil, nil).ByName(ctx, "demo-openai")
		if err != nil {
			t.Fatal(err)
		}
		if p.BaseURL != moved.openAI {
			t.Errorf("demo-openai's base URL is %s, want the fakes' new %s", p.BaseURL, moved.openAI)
		}

		// An operator's decision survives a restart: the pending
		// subscription, approved, stays approved.
		subs := admin.NewSubscriptions(d.DB.Gorm, nil, nil)
		if _, err := subs.Decide(ctx, admin.Actor{Email: "ops@example.com"}, first.Pending, admin.DecisionApprove, "ok"); err != nil {
			t.Fatal(err)
		}
		third, err := seed(ctx, d, moved)
		if err != nil {
			t.Fatal(err)
		}
		if third.Pending != 0 {
			t.Errorf("the approved subscription is pending again")
		}
		v, err := subs.Get(ctx, first.Pending)
		if err != nil || v.Status != admin.StatusApproved {
			t.Fatalf("subscription after restart: %+v, %v", v, err)
		}
		var live prompts.Prompt
		if err := d.DB.Gorm.Where("slug = ?", PromptSlug).Take(&live).Error; err != nil || live.PublishedVersion != 1 || live.LatestVersion != 1 {
			t.Fatalf("prompt after three seedings: %+v, %v", live, err)
		}
	})
}

// A key revoked in the console is replaced by a new one at the next start.
func TestSeedReplacesARevokedKey(t *testing.T) {
	ctx := context.Background()
	d := newDeps(t, "sqlite")
	f := startTestFakes(t)
	first, err := seed(ctx, d, f)
	if err != nil {
		t.Fatal(err)
	}
	k := first.Keys[WebApp]
	if _, err := admin.NewStores(d.DB.Gorm, nil, nil).Keys.Revoke(ctx, admin.Actor{Email: "ops@example.com"}, first.Consumers[WebApp], k.ID); err != nil {
		t.Fatal(err)
	}
	second, err := seed(ctx, d, f)
	if err != nil {
		t.Fatal(err)
	}
	if got := second.Keys[WebApp]; got.ID == k.ID || got.Token == "" {
		t.Fatalf("revoked key %s still used: %+v", k.ID, got)
	}
	if second.Keys[BatchJob] != first.Keys[BatchJob] {
		t.Fatal("the other consumer's key changed")
	}
}

func TestBackfillFeedsAnalytics(t *testing.T) {
	ctx := context.Background()
	d := newDeps(t, "sqlite")
	s, err := seed(ctx, d, startTestFakes(t))
	if err != nil {
		t.Fatal(err)
	}
	// Small enough for the race detector, which slows SQLite a lot.
	n, err := backfillOnce(ctx, d, s, 4*time.Hour, 200)
	if err != nil {
		t.Fatal(err)
	}
	if n < 250 {
		t.Fatalf("backfilled %d records over 4 hours at 200 an hour", n)
	}
	r := calllog.NewReader(d.DB.Gorm)
	now := time.Now()
	for _, by := range []string{"service", "model", "consumer", "provider"} {
		res, err := r.Analytics(ctx, calllog.AnalyticsQuery{Scope: calllog.Scope{All: true}, Since: now.Add(-24 * time.Hour), Until: now.Add(time.Minute), GroupBy: by})
		if err != nil {
			t.Fatal(err)
		}
		if res.Total.Requests != int64(n) {
			t.Errorf("by %s: analytics count %d requests, %d written", by, res.Total.Requests, n)
		}
		if len(res.Groups) < 2 {
			t.Errorf("by %s: only %d groups", by, len(res.Groups))
		}
		if by == "model" {
			for _, g := range res.Groups {
				if g.Requests == 0 || (g.Group != "demo-embed" && (g.Cost <= 0 || g.TokensIn <= 0)) || g.LatencyP50MS <= 0 {
					t.Errorf("model %s: %+v", g.Group, g.Stats)
				}
			}
		}
	}
	// Every hour of the range has calls, so the charts have no gaps.
	res, err := r.Analytics(ctx, calllog.AnalyticsQuery{Scope: calllog.Scope{All: true}, Since: now.Add(-4 * time.Hour).Truncate(time.Hour).Add(time.Hour), Until: now.Truncate(time.Hour), Bucket: calllog.BucketHour})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Data) < 3 {
		t.Errorf("only %d hourly points over the last full hours", len(res.Data))
	}
	// The log explorer shows the history with waterfalls: retried and
	// fallen-back calls, and refusals of the pending subscription.
	page, err := r.List(ctx, calllog.LogFilter{Scope: calllog.Scope{All: true}, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Data) != 100 {
		t.Fatalf("%d records listed", len(page.Data))
	}
	detail, err := r.Get(ctx, calllog.Scope{All: true}, page.Data[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if detail.Status == 200 && (len(detail.Attempts) == 0 || len(detail.Waterfall.Phases) < 3) {
		t.Errorf("no waterfall: %+v", detail)
	}
	var retried, refused int64
	d.DB.Gorm.Table("call_logs").Where("attempts LIKE ?", `%"retried":true%`).Count(&retried)
	d.DB.Gorm.Table("call_logs").Where("status = 403").Count(&refused)
	if retried == 0 || refused == 0 {
		t.Errorf("history has %d retried calls and %d refusals; want some of each", retried, refused)
	}

	// Once there is history, a later start writes none.
	again, err := backfillOnce(ctx, d, s, 4*time.Hour, 200)
	if err != nil || again != 0 {
		t.Fatalf("second backfill wrote %d (%v)", again, err)
	}
}

func equal(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestIncidentSchedule(t *testing.T) {
	p := openAIProfile
	for _, c := range []struct {
		up   time.Duration
		down bool
	}{{0, false}, {4 * time.Minute, false}, {5*time.Minute + time.Second, true}, {5*time.Minute + 46*time.Second, false},
		{20*time.Minute + 10*time.Second, true}, {21 * time.Minute, false}} {
		if got := p.down(c.up); got != c.down {
			t.Errorf("up %s: down %v, want %v", c.up, got, c.down)
		}
	}
}
