package calllog

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicehq/sluice/internal/db"
	"github.com/sluicehq/sluice/internal/dbtest"
)

// seed writes recs through the writer's store (call_logs and every rollup
// table) and returns them prepared.
func seed(t *testing.T, h *db.DB, recs []*Record) []*Record {
	t.Helper()
	st := &gormStore{db: h.Gorm, driver: h.Driver}
	l := &Logger{opts: Options{Clock: realClock{}}}
	for _, r := range recs {
		l.prepare(r)
	}
	for i := 0; i < len(recs); i += 200 {
		if _, err := st.insert(context.Background(), recs[i:min(i+200, len(recs))], true); err != nil {
			t.Fatal(err)
		}
	}
	return recs
}

// spread is n test records over about five days, some sharing a start
// time (the cursor's tie-break on id).
func spread(n int) []*Record {
	recs := genRecords(0, n)
	for i, r := range recs {
		r.StartedAt = base.Add(time.Duration(i) * (7*time.Minute + 13*time.Second))
		if i%10 == 9 {
			r.StartedAt = recs[i-1].StartedAt
		}
		if i%3 == 0 { // a third of the calls ran a prompt API
			r.Endpoint, r.PromptSlug, r.PromptVersion = "prompt", []string{"summarise", "translate"}[i%2], 1
		}
	}
	return recs
}

func newest(recs []*Record) []*Record {
	out := slices.Clone(recs)
	sort.Slice(out, func(i, j int) bool {
		if !out[i].StartedAt.Equal(out[j].StartedAt) {
			return out[i].StartedAt.After(out[j].StartedAt)
		}
		return out[i].ID > out[j].ID
	})
	return out
}

func TestListFiltersCursorAndScope(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, kind string) {
		h, _ := migrated(t, kind)
		recs := seed(t, h, spread(400))
		rd := NewReader(h.Gorm)
		all := Scope{All: true}
		mid := base.Add(24 * time.Hour)
		for _, c := range []struct {
			name string
			f    LogFilter
			keep func(r *Record) bool
		}{
			{"all", LogFilter{Scope: all}, func(*Record) bool { return true }},
			{"since until", LogFilter{Scope: all, Since: mid, Until: mid.Add(12 * time.Hour)},
				func(r *Record) bool { return !r.StartedAt.Before(mid) && r.StartedAt.Before(mid.Add(12*time.Hour)) }},
			{"status", LogFilter{Scope: all, Status: 429}, func(r *Record) bool { return r.Status == 429 }},
			{"class 4xx", LogFilter{Scope: all, StatusClass: "4xx"}, func(r *Record) bool { return r.Status >= 400 && r.Status < 500 }},
			{"class 5xx", LogFilter{Scope: all, StatusClass: "5xx"}, func(r *Record) bool { return r.Status >= 500 }},
			{"consumer", LogFilter{Scope: all, ConsumerID: 2}, func(r *Record) bool { return r.ConsumerID == 2 }},
			{"service and model", LogFilter{Scope: all, ServiceID: 1, Model: "llama3"}, func(r *Record) bool { return r.ServiceID == 1 && r.Model == "llama3" }},
			{"request id", LogFilter{Scope: all, RequestID: "req-000123"}, func(r *Record) bool { return r.RequestID == "req-000123" }},
			{"endpoint", LogFilter{Scope: all, Endpoint: "embeddings"}, func(r *Record) bool { return r.Endpoint == "embeddings" }},
			{"member of team 10", LogFilter{Scope: Scope{Teams: []uint64{10}}}, func(r *Record) bool { return r.TeamID == 10 }},
			{"member of team 11, 2xx", LogFilter{Scope: Scope{Teams: []uint64{11}}, StatusClass: "2xx"}, func(r *Record) bool { return r.TeamID == 11 && r.Status == 200 }},
			{"member of no team", LogFilter{Scope: Scope{}}, func(*Record) bool { return false }},
		} {
			t.Run(c.name, func(t *testing.T) {
				var want []string
				for _, r := range newest(recs) {
					if c.keep(r) {
						want = append(want, r.ID)
					}
				}
				var got []string
				f := c.f
				f.Limit = 7
				for pages := 0; ; pages++ {
					if pages > 100 {
						t.Fatal("cursor does not end")
					}
					p, err := rd.List(context.Background(), f)
					if err != nil {
						t.Fatal(err)
					}
					for _, s := range p.Data {
						got = append(got, s.ID)
					}
					if p.NextCursor == "" {
						break
					}
					f.Cursor = p.NextCursor
				}
				if !slices.Equal(got, want) {
					t.Fatalf("walked %d ids, want %d (in order, no duplicates, no gaps)\n got %v\nwant %v", len(got), len(want), got, want)
				}
			})
		}
		if _, err := rd.List(context.Background(), LogFilter{Scope: all, Cursor: "!!"}); err == nil {
			t.Fatal("a bad cursor was accepted")
		}
	})
}

func TestGetWithWaterfall(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, kind string) {
		h, _ := migrated(t, kind)
		r := genRecord(0)
		r.Attempts = []Attempt{
			{Provider: "openai", Status: 503, Error: "overloaded", Start: 200 * time.Microsecond, DNS: time.Millisecond, Connect: 2 * time.Millisecond,
				TLS: 3 * time.Millisecond, TTFB: 10 * time.Millisecond, Retried: true},
			{Provider: "azure", Status: 200, Start: 11 * time.Millisecond, TTFB: 20 * time.Millisecond, Transfer: 5 * time.Millisecond},
		}
		body := `{"messages":[]}`
		r.RequestBody = &body
		seed(t, h, []*Record{r})
		rd := NewReader(h.Gorm)
		d, err := rd.Get(context.Background(), Scope{Teams: []uint64{r.TeamID}}, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Attempts) != 2 || d.Attempts[0].TLS != 3*time.Millisecond || d.Attempts[1].Provider != "azure" || d.RequestBody == nil || *d.RequestBody != body {
			t.Fatalf("detail %+v", d)
		}
		if d.Waterfall.TotalUS != r.Total.Microseconds() || len(d.Waterfall.Phases) < 8 {
			t.Fatalf("waterfall %+v", d.Waterfall)
		}
		for _, scope := range []Scope{{Teams: []uint64{r.TeamID + 1}}, {}} {
			if _, err := rd.Get(context.Background(), scope, r.ID); !errors.Is(err, ErrNotFound) {
				t.Fatalf("another team's record: %v", err)
			}
		}
		if _, err := rd.Get(context.Background(), Scope{All: true}, "nope"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("missing record: %v", err)
		}
	})
}

func TestBuildWaterfall(t *testing.T) {
	ms := time.Millisecond
	w := BuildWaterfall(ms, 2*ms, 60*ms, 25*ms, []Attempt{
		{Provider: "a", Status: 502, Start: 3 * ms, DNS: ms, Connect: 2 * ms, TLS: 3 * ms, TTFB: 10 * ms},
		{Provider: "b", Status: 200, Start: 14 * ms, TTFB: 20 * ms, Transfer: 25 * ms},
	})
	want := []Phase{
		{Name: "total", DurationUS: 60000},
		{Name: "auth", DurationUS: 1000},
		{Name: "routing", StartUS: 1000, DurationUS: 2000},
		{Name: "attempt", Attempt: 1, Provider: "a", Status: 502, StartUS: 3000, DurationUS: 10000},
		{Name: "dns", Attempt: 1, StartUS: 3000, DurationUS: 1000},
		{Name: "connect", Attempt: 1, StartUS: 4000, DurationUS: 2000},
		{Name: "tls", Attempt: 1, StartUS: 6000, DurationUS: 3000},
		{Name: "ttfb", Attempt: 1, StartUS: 9000, DurationUS: 4000},
		{Name: "attempt", Attempt: 2, Provider: "b", Status: 200, StartUS: 14000, DurationUS: 45000},
		{Name: "ttfb", Attempt: 2, StartUS: 14000, DurationUS: 20000},
		{Name: "transfer", Attempt: 2, StartUS: 34000, DurationUS: 25000},
		{Name: "ttft", DurationUS: 25000},
	}
	if w.TotalUS != 60000 || !slices.Equal(w.Phases, want) {
		t.Fatalf("got  %+v\nwant %+v", w.Phases, want)
	}
}

// expected sums raw records the way Analytics should.
func expected(recs []*Record, scope Scope, since, until time.Time, size time.Duration, group func(*Record) string) map[string]*acc {
	out := map[string]*acc{}
	for _, r := range recs {
		if r.StartedAt.Before(since.Truncate(time.Minute)) || !r.StartedAt.Before(until) || !scope.All && !slices.Contains(scope.Teams, r.TeamID) {
			continue
		}
		k := group(r) + "@" + r.StartedAt.Truncate(size).Format(time.RFC3339)
		a := out[k]
		if a == nil {
			a = &acc{}
			out[k] = a
		}
		a.requests++
		if r.IsError() {
			a.errors++
		}
		switch StatusClass(r.Status) {
		case "4xx":
			a.e4++
		case "5xx":
			a.e5++
		}
		a.tokensIn += r.TokensIn
		a.tokensOut += r.TokensOut
		a.cost += r.Cost
		a.latencyUS += r.Total.Microseconds()
		a.lat[bucketIndex(r.Total)]++
		if r.TTFT > 0 {
			a.ttft[bucketIndex(r.TTFT)]++
		}
	}
	return out
}

func TestAnalyticsMatchesRawRecords(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, kind string) {
		h, _ := migrated(t, kind)
		recs := seed(t, h, spread(1000)) // ≈ 5 days
		rd := NewReader(h.Gorm)
		ctx := context.Background()
		odd := base.Add(3*time.Hour + 17*time.Minute + 30*time.Second) // not on a minute, hour or day
		end := base.Add(4*24*time.Hour + 5*time.Hour + 9*time.Minute)
		groups := map[string]func(*Record) string{
			"":         func(*Record) string { return "" },
			"service":  func(r *Record) string { return fmt.Sprint(r.ServiceID) },
			"consumer": func(r *Record) string { return fmt.Sprint(r.ConsumerID) },
			"model":    func(r *Record) string { return r.Model },
			"provider": func(r *Record) string { return r.Provider },
			"endpoint": func(r *Record) string { return r.Endpoint },
			"prompt":   func(r *Record) string { return r.PromptSlug },
		}
		for _, c := range []struct {
			name         string
			scope        Scope
			since, until time.Time
			bucket       string
			groupBy      string
		}{
			{"day by model, ragged ends", Scope{All: true}, odd, end, BucketDay, "model"},
			{"hour by service", Scope{All: true}, odd, odd.Add(30 * time.Hour), BucketHour, "service"},
			{"minute, one series", Scope{All: true}, odd, odd.Add(3 * time.Hour), BucketMinute, ""},
			{"day by consumer, whole days", Scope{All: true}, base, base.Add(5 * 24 * time.Hour), BucketDay, "consumer"},
			{"member of team 11, day by provider", Scope{Teams: []uint64{11}}, odd, end, BucketDay, "provider"},
			{"member of team 10, hour by endpoint", Scope{Teams: []uint64{10}}, odd, end, BucketHour, "endpoint"},
			{"member of no team", Scope{}, odd, end, BucketHour, "endpoint"},
			{"day by prompt", Scope{All: true}, odd, end, BucketDay, "prompt"},
			{"member of team 11, hour by prompt", Scope{Teams: []uint64{11}}, odd, end, BucketHour, "prompt"},
		} {
			t.Run(c.name, func(t *testing.T) {
				res, err := rd.Analytics(ctx, AnalyticsQuery{Scope: c.scope, Since: c.since, Until: c.until, Bucket: c.bucket, GroupBy: c.groupBy})
				if err != nil {
					t.Fatal(err)
				}
				want := expected(recs, c.scope, c.since, c.until, bucketSizes[c.bucket], groups[c.groupBy])
				if len(res.Data) != len(want) {
					t.Fatalf("%d points, want %d", len(res.Data), len(want))
				}
				var total acc
				for _, p := range res.Data {
					k := p.Group + "@" + p.BucketStart.Format(time.RFC3339)
					w := want[k]
					if w == nil {
						t.Fatalf("unexpected point %s", k)
					}
					ws := w.stats()
					if math.Abs(ws.Cost-p.Cost) > 1e-9 {
						t.Fatalf("%s: cost %v, want %v", k, p.Cost, ws.Cost)
					}
					p.Cost = ws.Cost
					if ws != p.Stats {
						t.Fatalf("%s:\n got %+v\nwant %+v", k, p.Stats, ws)
					}
					total.add(w)
				}
				if res.Total.Requests != total.requests || res.Total.LatencyP95MS != total.stats().LatencyP95MS {
					t.Fatalf("total %+v, want %+v", res.Total, total.stats())
				}
			})
		}
		top, err := rd.Top(ctx, TopQuery{Scope: Scope{All: true}, Since: odd, Until: end, By: "consumer", Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		per := expected(recs, Scope{All: true}, odd, end, 365*24*time.Hour, groups["consumer"])
		var ranked []TopEntry
		for k, a := range per {
			ranked = append(ranked, TopEntry{Group: k[:1], Requests: a.requests})
		}
		sort.Slice(ranked, func(i, j int) bool {
			if ranked[i].Requests != ranked[j].Requests {
				return ranked[i].Requests > ranked[j].Requests
			}
			return ranked[i].Group < ranked[j].Group
		})
		if len(top) != 2 || top[0].Group != ranked[0].Group || top[0].Requests != ranked[0].Requests || top[1].Requests != ranked[1].Requests {
			t.Fatalf("top %+v, want %+v", top, ranked[:2])
		}
	})
}

func TestAnalyticsPercentiles(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, kind string) {
		h, _ := migrated(t, kind)
		var recs []*Record
		for i := range 100 {
			lat := 40 * time.Millisecond // 50 calls in (25, 50] ms
			if i >= 50 {
				lat = 400 * time.Millisecond // 45 in (300, 500] ms
			}
			if i >= 95 {
				lat = 4 * time.Second // 5 in (3, 5] s
			}
			recs = append(recs, &Record{StartedAt: base.Add(time.Duration(i) * time.Second), ServiceID: 1, Status: 200, Total: lat, TTFT: lat / 2})
		}
		seed(t, h, recs)
		res, err := NewReader(h.Gorm).Analytics(context.Background(), AnalyticsQuery{Scope: Scope{All: true}, Since: base, Until: base.Add(time.Hour), Bucket: BucketHour})
		if err != nil {
			t.Fatal(err)
		}
		s := res.Total
		if s.Requests != 100 || s.LatencyP50MS <= 25 || s.LatencyP50MS > 50 || s.LatencyP95MS <= 300 || s.LatencyP95MS > 500 ||
			s.LatencyP99MS <= 3000 || s.LatencyP99MS > 5000 || s.TTFTP50MS <= 10 || s.TTFTP50MS > 25 {
			t.Fatalf("percentiles %+v", s)
		}
	})
}

func TestAnalyticsRefusesBadQueries(t *testing.T) {
	rd := NewReader(nil)
	for _, q := range []AnalyticsQuery{
		{Bucket: "week"}, {GroupBy: "colour"},
		{Bucket: BucketMinute, Since: base, Until: base.Add(30 * 24 * time.Hour)},
		{Since: base, Until: base.Add(-time.Hour)},
	} {
		var qe *QueryError
		if _, err := rd.Analytics(context.Background(), q); !errors.As(err, &qe) {
			t.Errorf("%+v: %v", q, err)
		}
	}
}

func TestPlanCoversTheRangeOnce(t *testing.T) {
	since := base.Add(3*time.Hour + 17*time.Minute)
	until := base.Add(3*24*time.Hour + 5*time.Hour + 9*time.Minute)
	for _, coarsest := range []string{BucketMinute, BucketHour, BucketDay} {
		ps := plan(since, until, coarsest)
		sort.Slice(ps, func(i, j int) bool { return ps[i].from.Before(ps[j].from) })
		at := since
		for _, p := range ps {
			if !p.from.Equal(at) {
				t.Fatalf("%s: gap or overlap at %s: %+v", coarsest, at, ps)
			}
			at = p.to
		}
		if !at.Equal(until) {
			t.Fatalf("%s: ends at %s", coarsest, at)
		}
	}
	if ps := plan(since, until, BucketDay); len(ps) != 5 {
		t.Fatalf("day plan %+v", ps)
	}
}

// failingStore is a database that is down.
type failingStore struct{}

func (failingStore) insert(context.Context, []*Record, bool) (int, error) {
	return 0, errors.New("database down")
}

func TestDataPlaneMetricsCountWhileTheDatabaseIsDown(t *testing.T) {
	reg := prometheus.NewRegistry()
	dp, err := NewDataPlaneMetrics(reg, DataPlaneOptions{ServiceName: func(id uint64) string { return fmt.Sprintf("svc-%d", id) }})
	if err != nil {
		t.Fatal(err)
	}
	l, err := newLogger(failingStore{}, Options{SpillDir: t.TempDir(), Registerer: reg, Observe: dp.Observe,
		FlushInterval: 5 * time.Millisecond, RetryInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		l.Log(&Record{ServiceID: 1, Model: "gpt-4o", Provider: "openai", Status: 200, TokensIn: 10, TokensOut: 5, Cost: 0.5,
			Total: 300 * time.Millisecond, TTFT: 80 * time.Millisecond})
	}
	l.Log(&Record{ServiceID: 1, Model: "made-up", Status: 404, Error: "no such model", Total: time.Millisecond})
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := metric(t, reg, "sluice_calllog_spilled_total"); n != 4 {
		t.Fatalf("spilled %v, want 4 (the database was down)", n)
	}
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			k := f.GetName()
			for _, lp := range m.GetLabel() {
				k += " " + lp.GetName() + "=" + lp.GetValue()
			}
			switch {
			case m.Counter != nil:
				got[k] = m.Counter.GetValue()
			case m.Histogram != nil:
				got[k] = float64(m.Histogram.GetSampleCount())
			}
		}
	}
	for k, v := range map[string]float64{
		"sluice_calls_total model=gpt-4o provider=openai service=svc-1 status=200":          3,
		"sluice_calls_total model= provider= service=svc-1 status=404":                      1,
		"sluice_call_errors_total model= provider= service=svc-1 status=404":                1,
		"sluice_call_tokens_total direction=in model=gpt-4o provider=openai service=svc-1":  30,
		"sluice_call_tokens_total direction=out model=gpt-4o provider=openai service=svc-1": 15,
		"sluice_call_cost_total model=gpt-4o provider=openai service=svc-1":                 1.5,
		"sluice_call_duration_seconds model=gpt-4o provider=openai service=svc-1":           3,
		"sluice_call_duration_seconds model= provider= service=svc-1":                       1,
		"sluice_call_ttft_seconds model=gpt-4o provider=openai service=svc-1":               3,
	} {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if _, ok := got["sluice_call_errors_total model=gpt-4o provider=openai service=svc-1 status=200"]; ok {
		t.Error("a success counted as an error")
	}
}
