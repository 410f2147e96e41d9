package calllog

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/db"
	"github.com/sluicehq/sluice/internal/dbtest"
	"github.com/sluicehq/sluice/migrations"
)

// migrated creates a fresh database of kind with every migration applied.
func migrated(t testing.TB, kind string) (*db.DB, config.Database) {
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
	return h, d
}

// testLogger starts a Logger with fast intervals and a private registry,
// closed at cleanup if the test did not close it.
func testLogger(t testing.TB, h *db.DB, dir string, o Options) (*Logger, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	o.SpillDir, o.Registerer = dir, reg
	if o.FlushInterval == 0 {
		o.FlushInterval = 10 * time.Millisecond
	}
	if o.RetryInterval == 0 {
		o.RetryInterval = 50 * time.Millisecond
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = 5 * time.Second
	}
	l, err := New(h, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close(context.Background()) })
	return l, reg
}

// metric reads a counter or gauge of reg.
func metric(t testing.TB, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		m := f.GetMetric()[0]
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	t.Fatalf("metric %s not registered", name)
	return 0
}

// eventually polls cond until it holds; on timeout the test fails, saying
// what each state func reports.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool, state ...func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			var seen []string
			for _, s := range state {
				seen = append(seen, s())
			}
			t.Fatalf("timed out after %s waiting for %s %v", timeout, what, seen)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func countRows(t testing.TB, h *db.DB) int64 {
	t.Helper()
	var n int64
	if err := h.Gorm.Table("call_logs").Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// assertExactlyOnce checks that call_logs holds each of the n request ids
// req-000000… exactly once and that the rollups count n requests.
func assertExactlyOnce(t testing.TB, h *db.DB, n int) {
	t.Helper()
	var rows, distinctIDs, distinctReq, rolled int64
	g := h.Gorm
	if err := g.Table("call_logs").Count(&rows).Error; err != nil {
		t.Fatal(err)
	}
	if err := g.Table("call_logs").Distinct("id").Count(&distinctIDs).Error; err != nil {
		t.Fatal(err)
	}
	if err := g.Table("call_logs").Distinct("request_id").Count(&distinctReq).Error; err != nil {
		t.Fatal(err)
	}
	if err := g.Table("call_rollups").Select("COALESCE(SUM(requests), 0)").Row().Scan(&rolled); err != nil {
		t.Fatal(err)
	}
	if rows != int64(n) || distinctIDs != int64(n) || distinctReq != int64(n) || rolled != int64(n) {
		t.Fatalf("rows=%d distinct ids=%d distinct request ids=%d rollup requests=%d, want %d each",
			rows, distinctIDs, distinctReq, rolled, n)
	}
}

func spillFiles(t testing.TB, dir string) []string {
	t.Helper()
	files, err := listSpill(dir)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var base = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// genRecord builds the i-th test record: several services, consumers,
// models, endpoints and statuses, spread over minutes.
func genRecord(i int) *Record {
	statuses := []int{200, 200, 200, 401, 429, 502, 499, 200, 0}
	models := []string{"gpt-4o", "claude-sonnet", "llama3"}
	providers := []string{"openai", "anthropic", "ollama"}
	st := statuses[i%len(statuses)]
	m := i % len(models)
	r := &Record{
		RequestID:  fmt.Sprintf("req-%06d", i),
		StartedAt:  base.Add(time.Duration(i) * 173 * time.Millisecond),
		ConsumerID: uint64(1 + i%3), KeyID: fmt.Sprintf("key-%d", i%3),
		ServiceID: uint64(1 + i%2), TeamID: uint64(10 + i%2),
		Endpoint: []string{"chat", "embeddings", "messages", "prompt"}[i%4],
		Model:    models[m], Provider: providers[m], UpstreamModel: models[m] + "-up",
		Status: st, Stream: i%4 == 0,
		TokensIn: int64(10 + i%50), TokensOut: int64(i % 70), UsageEstimated: i%5 == 0,
		Cost:    float64(i%7) * 0.00125,
		BytesIn: int64(100 + i), BytesOut: int64(200 + i), ClientAddr: "10.0.0.1:5555",
		Auth: time.Duration(50+i%20) * time.Microsecond, Routing: 30 * time.Microsecond,
		Total: time.Duration(i%400)*37*time.Millisecond + 300*time.Microsecond,
	}
	if r.Stream {
		r.TTFT = time.Duration(i%90) * 11 * time.Millisecond
	}
	if st != 200 {
		r.Error = "upstream said no"
		r.Provider, r.UpstreamModel = "", ""
	} else {
		r.Attempts = []Attempt{{TargetID: uint64(m + 1), Provider: providers[m], UpstreamModel: models[m] + "-up", Status: 200,
			Start: r.Routing, TTFB: 120 * time.Millisecond, Transfer: 40 * time.Millisecond}}
	}
	return r
}

func genRecords(from, n int) []*Record {
	out := make([]*Record, n)
	for i := range out {
		out[i] = genRecord(from + i)
	}
	return out
}

func hasBad(dir string) []string {
	m, _ := filepath.Glob(filepath.Join(dir, "*"+badSuffix))
	return m
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// toRow maps a prepared record to its row as GORM wrote it before the
// writer's SQL was written by hand: the reference of TestRawInsertMatchesGORM.
func toRow(r *Record) logRow {
	row := logRow{
		ID: r.ID, RequestID: clip(r.RequestID, sizeRequestID), StartedAt: r.StartedAt,
		ConsumerID: r.ConsumerID, KeyID: clip(r.KeyID, sizeKeyID), ServiceID: r.ServiceID, TeamID: r.TeamID,
		Endpoint: clip(r.Endpoint, sizeEndpoint), PromptSlug: clip(r.PromptSlug, sizePromptSlug), PromptVersion: r.PromptVersion,
		Model: clip(r.Model, sizeModel), Provider: clip(r.Provider, sizeProvider), UpstreamModel: clip(r.UpstreamModel, sizeModel),
		Status: r.Status, Error: clip(r.Error, sizeError), Stream: r.Stream,
		TokensIn: r.TokensIn, TokensOut: r.TokensOut, UsageEstimated: r.UsageEstimated, Cost: r.Cost,
		BytesIn: r.BytesIn, BytesOut: r.BytesOut, ClientAddr: clip(r.ClientAddr, sizeClientAddr),
		AuthUS: r.Auth.Microseconds(), RoutingUS: r.Routing.Microseconds(), TotalUS: r.Total.Microseconds(), TTFTUS: r.TTFT.Microseconds(),
		RequestBody: clipPtr(r.RequestBody, MaxBodyBytes), ResponseBody: clipPtr(r.ResponseBody, MaxBodyBytes),
	}
	row.Attempts = attemptsJSON(r.Attempts)
	return row
}

// hooked opens d with hook called before every statement, transaction
// start and commit the handle runs (query is "BEGIN" or "COMMIT" for
// those); an error from hook fails it, as a failing database would.
func hooked(t testing.TB, d config.Database, hook func(ctx context.Context, query string) error) *db.DB {
	t.Helper()
	h := dbtest.OpenURL(t, d)
	dialector, err := db.Dialector(d, &hookPool{DB: h.SQL, hook: hook})
	if err != nil {
		t.Fatal(err)
	}
	g, err := gorm.Open(dialector, db.GormConfig())
	if err != nil {
		t.Fatal(err)
	}
	return &db.DB{Gorm: g, SQL: h.SQL, Driver: h.Driver}
}

// insertedLogRows reports whether query inserts into call_logs, and how
// many rows.
func insertedLogRows(query string) (int, bool) {
	if !strings.HasPrefix(query, "INSERT INTO call_logs (") {
		return 0, false
	}
	return strings.Count(query, "), (") + 1, true
}

type hookPool struct {
	*sql.DB
	hook func(ctx context.Context, query string) error
}

func (p *hookPool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := p.hook(ctx, query); err != nil {
		return nil, err
	}
	return p.DB.ExecContext(ctx, query, args...)
}

func (p *hookPool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := p.hook(ctx, query); err != nil {
		return nil, err
	}
	return p.DB.QueryContext(ctx, query, args...)
}

func (p *hookPool) BeginTx(ctx context.Context, opts *sql.TxOptions) (gorm.ConnPool, error) {
	if err := p.hook(ctx, "BEGIN"); err != nil {
		return nil, err
	}
	tx, err := p.DB.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &hookTx{Tx: tx, hook: p.hook}, nil
}

type hookTx struct {
	*sql.Tx
	hook func(ctx context.Context, query string) error
}

func (x *hookTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := x.hook(ctx, query); err != nil {
		return nil, err
	}
	return x.Tx.ExecContext(ctx, query, args...)
}

func (x *hookTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := x.hook(ctx, query); err != nil {
		return nil, err
	}
	return x.Tx.QueryContext(ctx, query, args...)
}

func (x *hookTx) Commit() error {
	if err := x.hook(context.Background(), "COMMIT"); err != nil {
		_ = x.Tx.Rollback()
		return err
	}
	return x.Tx.Commit()
}
