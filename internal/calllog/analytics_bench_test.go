package calllog

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/db"
	"github.com/sluicehq/sluice/internal/dbtest"
)

// benchDays of traffic: benchGroups rollup rows per minute (≈1.08 M rows
// of call_rollups, ≈2.2 M calls) and benchLogRows raw call_logs rows.
const (
	benchDays    = 30
	benchGroups  = 25
	benchLogRows = 1_000_000
)

// benchEnd is the end of the generated traffic.
var benchEnd = time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)

// BenchmarkAnalytics measures the dashboard's queries on a generated month
// of traffic, on SQLite and (when SLUICE_TEST_POSTGRES is set) PostgreSQL.
// Only benchmarks build the data set (a few minutes), so `go test` stays
// fast:
//
//	go test ./internal/calllog -run '^$' -bench BenchmarkAnalytics -benchtime 20x
func BenchmarkAnalytics(b *testing.B) {
	for _, kind := range dbtest.Kinds(b) {
		if kind == config.MySQL {
			continue
		}
		b.Run(kind, func(b *testing.B) {
			h, _ := migrated(b, kind)
			start := time.Now()
			generateRollups(b, h)
			generateLogs(b, h)
			b.Logf("%s: generated %d rollup rows and %d call_logs rows in %s", kind, benchDays*1440*benchGroups, benchLogRows, time.Since(start).Round(time.Second))
			rd := NewReader(h.Gorm)
			ctx := context.Background()
			day := 24 * time.Hour
			cases := []struct {
				name string
				run  func() (int, error)
			}{
				{"24h_by_hour_group_service", func() (int, error) {
					res, err := rd.Analytics(ctx, AnalyticsQuery{Scope: Scope{All: true}, Since: benchEnd.Add(-day), Until: benchEnd, Bucket: BucketHour, GroupBy: "service"})
					return rowsOf(res), err
				}},
				{"30d_by_day_group_model", func() (int, error) {
					res, err := rd.Analytics(ctx, AnalyticsQuery{Scope: Scope{All: true}, Since: benchEnd.Add(-30 * day), Until: benchEnd, Bucket: BucketDay, GroupBy: "model"})
					return rowsOf(res), err
				}},
				{"1h_by_minute", func() (int, error) {
					res, err := rd.Analytics(ctx, AnalyticsQuery{Scope: Scope{All: true}, Since: benchEnd.Add(-time.Hour), Until: benchEnd, Bucket: BucketMinute})
					return rowsOf(res), err
				}},
				{"24h_by_hour_member_team", func() (int, error) {
					res, err := rd.Analytics(ctx, AnalyticsQuery{Scope: Scope{Teams: []uint64{11}}, Since: benchEnd.Add(-day), Until: benchEnd, Bucket: BucketHour, GroupBy: "consumer"})
					return rowsOf(res), err
				}},
				{"top_consumers_7d", func() (int, error) {
					res, err := rd.Top(ctx, TopQuery{Scope: Scope{All: true}, Since: benchEnd.Add(-7 * day), Until: benchEnd, By: "consumer"})
					return len(res), err
				}},
				{"logs_first_page", func() (int, error) {
					p, err := rd.List(ctx, LogFilter{Scope: Scope{All: true}})
					return pageLen(p), err
				}},
				{"logs_filtered_page", func() (int, error) {
					p, err := rd.List(ctx, LogFilter{Scope: Scope{Teams: []uint64{11}}, ServiceID: 3, StatusClass: "5xx", Since: benchEnd.Add(-7 * day)})
					if err == nil && p.NextCursor != "" { // and the page after it
						p, err = rd.List(ctx, LogFilter{Scope: Scope{Teams: []uint64{11}}, ServiceID: 3, StatusClass: "5xx", Since: benchEnd.Add(-7 * day), Cursor: p.NextCursor})
					}
					return pageLen(p), err
				}},
				{"logs_model_filter", func() (int, error) {
					p, err := rd.List(ctx, LogFilter{Scope: Scope{All: true}, Model: "model-2", Status: 429})
					return pageLen(p), err
				}},
			}
			for _, c := range cases {
				b.Run(c.name, func(b *testing.B) {
					n := 0
					for b.Loop() {
						var err error
						if n, err = c.run(); err != nil {
							b.Fatal(err)
						}
					}
					if n == 0 {
						b.Fatal("no rows")
					}
					b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/query")
				})
			}
		})
	}
}

func rowsOf(r *AnalyticsResult) int {
	if r == nil {
		return 0
	}
	return len(r.Data)
}

func pageLen(p *LogPage) int {
	if p == nil {
		return 0
	}
	return len(p.Data)
}

// generateRollups writes benchDays × 1440 × benchGroups rollup rows in
// SQL (far faster than through the writer): group k has service 1+k%5,
// consumer 1+k/5, team 10+service%2, model-(k%3), provider-(k%2), and a
// status class; each row's 1–3 calls fall in one latency bucket.
func generateRollups(b *testing.B, h *db.DB) {
	b.Helper()
	minutes := benchDays * 1440
	from := benchEnd.Add(-time.Duration(minutes) * time.Minute)
	var src, bucket, rnd string
	switch h.Driver {
	case config.Postgres:
		src = fmt.Sprintf("generate_series(0, %d) AS m(x), generate_series(0, %d) AS k(y)", minutes-1, benchGroups-1)
		bucket = fmt.Sprintf("to_timestamp(%d + x * 60)", from.Unix())
		rnd = "(floor(random() * 1000000))::bigint"
	default:
		src = fmt.Sprintf("(WITH RECURSIVE m(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM m WHERE x < %d) SELECT x FROM m), "+
			"(WITH RECURSIVE k(y) AS (SELECT 0 UNION ALL SELECT y + 1 FROM k WHERE y < %d) SELECT y FROM k)", minutes-1, benchGroups-1)
		bucket = fmt.Sprintf("strftime('%%Y-%%m-%%d %%H:%%M:%%S', %d + x * 60, 'unixepoch') || '+00:00'", from.Unix())
		rnd = "abs(random() % 1000000)"
	}
	cols := []string{"bucket", "service_id", "consumer_id", "team_id", "model", "provider", "endpoint", "status_class",
		"requests", "errors", "tokens_in", "tokens_out", "cost", "bytes_in", "bytes_out", "latency_us", "ttft_us", "ttft_count"}
	// The inner query draws r (a random number) and n (calls) once per row.
	vals := []string{"b", "1 + y % 5", "1 + y / 5", "10 + (1 + y % 5) % 2", "'model-' || (y % 3)", "'provider-' || (y % 2)", "'chat'",
		"CASE WHEN y % 7 = 0 THEN '5xx' WHEN y % 11 = 0 THEN '4xx' ELSE '2xx' END",
		"n", "CASE WHEN y % 7 = 0 OR y % 11 = 0 THEN n ELSE 0 END", "n * (100 + r % 900)", "n * (r % 500)", "n * (r % 1000) / 100000.0",
		"n * 2000", "n * 3000", "n * 400000", "n * 200000", "n"}
	for i, c := range LatencyColumns {
		cols = append(cols, c)
		vals = append(vals, fmt.Sprintf("CASE WHEN (r + y) %% 12 + 3 = %d THEN n ELSE 0 END", i))
	}
	for i, c := range TTFTColumns {
		cols = append(cols, c)
		vals = append(vals, fmt.Sprintf("CASE WHEN (r + y) %% 8 + 2 = %d THEN n ELSE 0 END", i))
	}
	inner := "SELECT " + bucket + " AS b, x, y, " + rnd + " AS r, 1 + " + rnd + " % 3 AS n FROM " + src
	if h.Driver == config.Postgres {
		inner = strings.Replace(inner, "'model-' || (y % 3)", "'model-' || (y % 3)::text", 1)
	}
	sql := "INSERT INTO call_rollups (" + strings.Join(cols, ", ") + ") SELECT " + strings.Join(vals, ", ") + " FROM (" + inner + ") AS t"
	if err := h.Gorm.Exec(sql).Error; err != nil {
		b.Fatal(err)
	}
	refold(b, h)
	if h.Driver == config.Postgres {
		h.Gorm.Exec("ANALYZE call_rollups")
	} else {
		h.Gorm.Exec("ANALYZE")
	}
}

// generateLogs writes benchLogRows call_logs rows spread over the month.
func generateLogs(b *testing.B, h *db.DB) {
	b.Helper()
	span := int64(benchDays * 24 * 3600)
	from := benchEnd.Unix() - span
	var src, at, id, rnd string
	switch h.Driver {
	case config.Postgres:
		src = fmt.Sprintf("generate_series(0, %d) AS s(i)", benchLogRows-1)
		at = fmt.Sprintf("to_timestamp(%d + i::float8 * %d / %d)", from, span, benchLogRows)
		id = "lpad(to_hex(i), 36, '0')"
		rnd = "(floor(random() * 1000000))::bigint"
	default:
		src = fmt.Sprintf("(WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < %d) SELECT i FROM s)", benchLogRows-1)
		at = fmt.Sprintf("strftime('%%Y-%%m-%%d %%H:%%M:%%f', %d + i * %d.0 / %d, 'unixepoch') || '+00:00'", from, span, benchLogRows)
		id = "printf('%036x', i)"
		rnd = "abs(random() % 1000000)"
	}
	sql := "INSERT INTO call_logs (id, request_id, started_at, consumer_id, key_id, service_id, team_id, endpoint, model, provider, upstream_model, " +
		"status, error, tokens_in, tokens_out, cost, total_us, auth_us, routing_us, attempts) SELECT " +
		id + ", 'req-' || i, " + at + ", 1 + r % 5, 'key', 1 + i % 5, 10 + (1 + i % 5) % 2, 'chat', 'model-' || (i % 3), 'provider-' || (i % 2), 'up', " +
		"CASE WHEN r % 7 = 0 THEN 502 WHEN r % 11 = 0 THEN 429 ELSE 200 END, '', 100, 50, 0.001, r, 100, 50, " +
		`'[{"provider":"openai","status":200,"start_us":150,"dns_us":0,"connect_us":0,"tls_us":0,"ttfb_us":1000,"transfer_us":500}]'` +
		" FROM (SELECT i, " + rnd + " AS r FROM " + src + ") AS t"
	if h.Driver == config.Postgres {
		sql = strings.NewReplacer("'req-' || i", "'req-' || i::text", "'model-' || (i % 3)", "'model-' || (i % 3)::text").Replace(sql)
	}
	if err := h.Gorm.Exec(sql).Error; err != nil {
		b.Fatal(err)
	}
	if h.Driver == config.Postgres {
		h.Gorm.Exec("ANALYZE call_logs")
	} else {
		h.Gorm.Exec("ANALYZE")
	}
}

// refold fills the hourly and daily rollups from the minute rows, as
// migration 6 does for rows written before it.
func refold(t testing.TB, h *db.DB) {
	t.Helper()
	keys := "service_id, consumer_id, team_id, model, provider, endpoint, status_class"
	var sums []string
	for _, c := range rollupSumColumns {
		sums = append(sums, "SUM("+c+")")
	}
	for _, ct := range []struct{ table, unit, sqlite string }{
		{"call_rollups_hourly", "hour", "substr(bucket, 1, 13) || ':00:00+00:00'"},
		{"call_rollups_daily", "day", "substr(bucket, 1, 10) || ' 00:00:00+00:00'"},
	} {
		trunc := ct.sqlite
		if h.Driver == config.Postgres {
			trunc = "date_trunc('" + ct.unit + "', bucket AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
		}
		if err := h.Gorm.Exec("DELETE FROM " + ct.table).Error; err != nil {
			t.Fatal(err)
		}
		sql := "INSERT INTO " + ct.table + " (bucket, " + keys + ", " + strings.Join(rollupSumColumns, ", ") + ") SELECT " +
			trunc + ", " + keys + ", " + strings.Join(sums, ", ") + " FROM call_rollups GROUP BY " + trunc + ", " + keys
		if err := h.Gorm.Exec(sql).Error; err != nil {
			t.Fatal(err)
		}
	}
}
