package calllog

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/db"
	"github.com/sluicehq/sluice/internal/dbtest"
)

func ptr(s string) *string { return &s }

func TestLogWritesEveryRecordAndItsRollups(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, kind string) {
		h, _ := migrated(t, kind)
		dir := t.TempDir()
		l, reg := testLogger(t, h, dir, Options{BatchSize: 100})

		// Records whose stored fields are checked one by one.
		long := strings.Repeat("m", 250)
		special := []struct {
			name string
			rec  *Record
			want logRow
		}{
			{
				name: "streamed success with attempts and bodies",
				rec: &Record{RequestID: "special-ok", StartedAt: base.Add(90 * time.Second), ConsumerID: 7, KeyID: "k7", ServiceID: 3, TeamID: 2,
					Endpoint: "chat", PromptSlug: "summarise", PromptVersion: 4, Model: "gpt-4o", Provider: "azure-eu", UpstreamModel: "gpt-4o-2024",
					Status: 200, Stream: true, TokensIn: 120, TokensOut: 345, UsageEstimated: true, Cost: 0.0123, BytesIn: 999, BytesOut: 4321,
					ClientAddr: "192.0.2.1:443", Auth: 150 * time.Microsecond, Routing: 80 * time.Microsecond, Total: 1500 * time.Millisecond,
					TTFT: 300 * time.Millisecond, RequestBody: ptr(`{"messages":[]}`), ResponseBody: ptr("data: {}"),
					Attempts: []Attempt{
						{TargetID: 1, Provider: "azure-us", UpstreamModel: "gpt-4o-2024", Status: 429, Error: "rate limited", Start: 80 * time.Microsecond,
							DNS: 2 * time.Millisecond, Connect: 3 * time.Millisecond, TLS: 9 * time.Millisecond, TTFB: 40 * time.Millisecond, Retried: true},
						{TargetID: 2, Provider: "azure-eu", UpstreamModel: "gpt-4o-2024", Status: 200, Start: 60 * time.Millisecond,
							TTFB: 240 * time.Millisecond, Transfer: 1200 * time.Millisecond},
					}},
				want: logRow{RequestID: "special-ok", ConsumerID: 7, KeyID: "k7", ServiceID: 3, TeamID: 2, Endpoint: "chat", PromptSlug: "summarise",
					PromptVersion: 4, Model: "gpt-4o", Provider: "azure-eu", UpstreamModel: "gpt-4o-2024", Status: 200, Stream: true,
					TokensIn: 120, TokensOut: 345, UsageEstimated: true, Cost: 0.0123, BytesIn: 999, BytesOut: 4321, ClientAddr: "192.0.2.1:443",
					AuthUS: 150, RoutingUS: 80, TotalUS: 1500000, TTFTUS: 300000, RequestBody: ptr(`{"messages":[]}`), ResponseBody: ptr("data: {}")},
			},
			{
				name: "rejected at auth",
				rec:  &Record{RequestID: "special-401", StartedAt: base.Add(95 * time.Second), Endpoint: "chat", Status: 401, Error: "invalid key", Total: 2 * time.Millisecond},
				want: logRow{RequestID: "special-401", Endpoint: "chat", Status: 401, Error: "invalid key", TotalUS: 2000},
			},
			{
				name: "oversized, invalid UTF-8, NUL and NaN cost are made storable",
				rec: &Record{RequestID: "special-odd", StartedAt: base.Add(99 * time.Second), Model: long, Status: 502,
					Error: "bad \xff byte\x00here", Cost: math.NaN()},
				want: logRow{RequestID: "special-odd", Model: long[:sizeModel], Status: 502, Error: "bad \uFFFD bytehere"},
			},
		}
		const n = 1234
		recs := genRecords(0, n)
		for _, s := range special {
			recs = append(recs, s.rec)
		}
		for _, r := range recs {
			l.Log(r)
		}
		if err := l.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		total := len(recs)
		assertExactlyOnce(t, h, total)
		if got := metric(t, reg, "sluice_calllog_records_total"); got != float64(total) {
			t.Fatalf("records_total = %v, want %d", got, total)
		}
		if s, d := metric(t, reg, "sluice_calllog_spilled_total"), metric(t, reg, "sluice_calllog_dropped_total"); s != 0 || d != 0 {
			t.Fatalf("spilled=%v dropped=%v with a healthy database", s, d)
		}
		if files := spillFiles(t, dir); len(files) != 0 {
			t.Fatalf("spill files left: %v", files)
		}

		for _, s := range special {
			t.Run(s.name, func(t *testing.T) {
				var got logRow
				if err := h.Gorm.Where("request_id = ?", s.want.RequestID).First(&got).Error; err != nil {
					t.Fatal(err)
				}
				if len(got.ID) != 36 || got.ID[14] != '7' {
					t.Errorf("id %q is not a UUIDv7", got.ID)
				}
				if !got.StartedAt.Equal(s.rec.StartedAt) {
					t.Errorf("started_at = %v, want %v", got.StartedAt, s.rec.StartedAt)
				}
				attempts, err := DecodeAttempts(got.Attempts)
				if err != nil {
					t.Fatal(err)
				}
				if fmt.Sprint(attempts) != fmt.Sprint(s.rec.Attempts) {
					t.Errorf("attempts = %+v, want %+v", attempts, s.rec.Attempts)
				}
				got.ID, got.StartedAt, got.Attempts = "", time.Time{}, ""
				if math.Abs(got.Cost-s.want.Cost) < 1e-12 {
					got.Cost = s.want.Cost
				}
				if fmt.Sprintf("%+v", deref(got)) != fmt.Sprintf("%+v", deref(s.want)) {
					t.Errorf("row\n got %+v\nwant %+v", deref(got), deref(s.want))
				}
			})
		}

		checkRollupsMatchRaw(t, h, total)
	})
}

// deref makes the body pointers print as their text.
func deref(r logRow) any {
	type flat struct {
		logRow
		Req, Resp string
	}
	f := flat{logRow: r}
	if r.RequestBody != nil {
		f.Req = "req:" + *r.RequestBody
	}
	if r.ResponseBody != nil {
		f.Resp = "resp:" + *r.ResponseBody
	}
	f.RequestBody, f.ResponseBody = nil, nil
	return f
}

type rollupTestRow struct {
	Bucket                                 time.Time
	ServiceID, ConsumerID, TeamID          uint64
	Model, Provider, Endpoint, StatusClass string
	Requests, Errors, TokensIn, TokensOut  int64
	Cost                                   float64
	BytesIn, BytesOut                      int64
	LatencyUS                              int64 `gorm:"column:latency_us"`
	TTFTUS                                 int64 `gorm:"column:ttft_us"`
	TTFTCount                              int64 `gorm:"column:ttft_count"`
	HistTotal                              int64 `gorm:"column:hist_total"`
	TTFTHistTotal                          int64 `gorm:"column:ttft_hist_total"`
}

// checkRollupsMatchRaw aggregates call_logs in Go and compares it with
// call_rollups key by key, histograms included.
func checkRollupsMatchRaw(t *testing.T, h *db.DB, total int) {
	t.Helper()
	var raw []logRow
	if err := h.Gorm.Find(&raw).Error; err != nil {
		t.Fatal(err)
	}
	type key struct {
		minute                           int64
		service, consumer, team          uint64
		model, provider, endpoint, class string
	}
	want := map[key]*rollupTestRow{}
	wantLat, wantTTFT := make([]int64, numBuckets), make([]int64, numBuckets)
	for _, r := range raw {
		k := key{r.StartedAt.Unix() / 60, r.ServiceID, r.ConsumerID, r.TeamID, r.Model, r.Provider, r.Endpoint, StatusClass(r.Status)}
		w := want[k]
		if w == nil {
			w = &rollupTestRow{}
			want[k] = w
		}
		w.Requests++
		if r.Status < 200 || r.Status > 299 || r.Error != "" {
			w.Errors++
		}
		w.TokensIn += r.TokensIn
		w.TokensOut += r.TokensOut
		w.Cost += r.Cost
		w.BytesIn += r.BytesIn
		w.BytesOut += r.BytesOut
		w.LatencyUS += r.TotalUS
		w.HistTotal++
		wantLat[bucketIndex(time.Duration(r.TotalUS)*time.Microsecond)]++
		if r.TTFTUS > 0 {
			w.TTFTUS += r.TTFTUS
			w.TTFTCount++
			w.TTFTHistTotal++
			wantTTFT[bucketIndex(time.Duration(r.TTFTUS)*time.Microsecond)]++
		}
	}
	var got []rollupTestRow
	sel := "*, " + strings.Join(LatencyColumns, " + ") + " AS hist_total, " + strings.Join(TTFTColumns, " + ") + " AS ttft_hist_total"
	if err := h.Gorm.Table("call_rollups").Select(sel).Find(&got).Error; err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d rollup rows, want %d distinct keys", len(got), len(want))
	}
	var requests int64
	for _, g := range got {
		k := key{g.Bucket.Unix() / 60, g.ServiceID, g.ConsumerID, g.TeamID, g.Model, g.Provider, g.Endpoint, g.StatusClass}
		if g.Bucket.Unix()%60 != 0 {
			t.Fatalf("bucket %v is not a minute start", g.Bucket)
		}
		w := want[k]
		if w == nil {
			t.Fatalf("rollup row %+v has no raw rows", g)
		}
		if math.Abs(g.Cost-w.Cost) > 1e-9 {
			t.Fatalf("key %+v: cost %v, raw %v", k, g.Cost, w.Cost)
		}
		g.Cost, w.Cost = 0, 0
		g.Bucket, g.ServiceID, g.ConsumerID, g.TeamID, g.Model, g.Provider, g.Endpoint, g.StatusClass = time.Time{}, 0, 0, 0, "", "", "", ""
		if g != *w {
			t.Fatalf("key %+v:\n rollup %+v\n raw    %+v", k, g, *w)
		}
		requests += g.Requests
	}
	if requests != int64(total) {
		t.Fatalf("rollups count %d requests, want %d", requests, total)
	}
	for _, hist := range []struct {
		cols []string
		want []int64
	}{{LatencyColumns, wantLat}, {TTFTColumns, wantTTFT}} {
		for i, c := range hist.cols {
			var n int64
			if err := h.Gorm.Table("call_rollups").Select("COALESCE(SUM(" + c + "), 0)").Row().Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != hist.want[i] {
				t.Fatalf("%s = %d, raw rows give %d", c, n, hist.want[i])
			}
		}
	}
}

// outage makes every statement on the returned handle fail while it is
// set, as a database that went away would.
func outage(t *testing.T, d config.Database) (*db.DB, *atomic.Bool) {
	var failing atomic.Bool
	h := hooked(t, d, func(context.Context, string) error {
		if failing.Load() {
			return errors.New("injected outage: connection refused")
		}
		return nil
	})
	return h, &failing
}

func TestDatabaseDownSpillsThenRecovers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, kind string) {
		h, d := migrated(t, kind)
		flaky, failing := outage(t, d)
		dir := t.TempDir()
		l, reg := testLogger(t, flaky, dir, Options{QueueSize: 1000, BatchSize: 200})

		// A first batch while the database is up.
		for _, r := range genRecords(0, 300) {
			l.Log(r)
		}
		eventually(t, 10*time.Second, "first batch", func() bool { return countRows(t, h) == 300 })

		failing.Store(true)
		// Enough to overflow the queue several times over; small enough that
		// replaying it into SQLite stays quick under the race detector.
		const down = 3000
		recs := genRecords(300, down)
		start := time.Now()
		for _, r := range recs {
			l.Log(r)
		}
		if took := time.Since(start); took > time.Second {
			t.Fatalf("%d Log calls took %s with the database down; Log must not block", down, took)
		}
		eventually(t, 20*time.Second, "records spilled", func() bool { return metric(t, reg, "sluice_calllog_spilled_total") == down })
		if n := countRows(t, h); n != 300 {
			t.Fatalf("%d rows while the database was down, want 300", n)
		}
		if len(spillFiles(t, dir)) == 0 {
			t.Fatal("no spill file while the database is down")
		}

		failing.Store(false)
		eventually(t, 30*time.Second, "replay after recovery", func() bool { return countRows(t, h) == 300+down })
		for _, r := range genRecords(300+down, 500) {
			l.Log(r)
		}
		if err := l.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		assertExactlyOnce(t, h, 300+down+500)
		if got := metric(t, reg, "sluice_calllog_replayed_total"); got != down {
			t.Fatalf("replayed_total = %v, want %d", got, down)
		}
		if got := metric(t, reg, "sluice_calllog_dropped_total"); got != 0 {
			t.Fatalf("dropped_total = %v", got)
		}
		if files := spillFiles(t, dir); len(files) != 0 {
			t.Fatalf("spill files left after replay: %v", files)
		}
		checkRollupsMatchRaw(t, h, 300+down+500)
	})
}

func TestServerOutageThroughProxy(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, kind string) {
		if kind == config.SQLite {
			t.Skip("SQLite has no server to take away; see TestDatabaseDownSpillsThenRecovers")
		}
		h, d := migrated(t, kind)
		var target string
		viaProxy := d
		switch kind {
		case config.Postgres:
			u, err := url.Parse(d.DSN)
			if err != nil {
				t.Fatal(err)
			}
			target = u.Host
			p := dbtest.NewProxy(t, target)
			u.Host = p.Addr
			viaProxy.DSN = u.String()
			defer p.Stop()
			runProxyOutage(t, h, viaProxy, p)
		case config.MySQL:
			cfg, err := mysql.ParseDSN(d.DSN)
			if err != nil {
				t.Fatal(err)
			}
			p := dbtest.NewProxy(t, cfg.Addr)
			cfg.Addr = p.Addr
			viaProxy.DSN = cfg.FormatDSN()
			runProxyOutage(t, h, viaProxy, p)
		}
	})
}

func runProxyOutage(t *testing.T, h *db.DB, viaProxy config.Database, p *dbtest.Proxy) {
	ph, err := db.Open(context.Background(), viaProxy, db.Options{MaxOpenConns: 4, MaxIdleConns: 4, ConnectTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer ph.Close()
	dir := t.TempDir()
	l, reg := testLogger(t, ph, dir, Options{BatchSize: 100, QueueSize: 500, WriteTimeout: 2 * time.Second})
	for _, r := range genRecords(0, 300) {
		l.Log(r)
	}
	eventually(t, 10*time.Second, "rows before the outage", func() bool { return countRows(t, h) == 300 })

	p.Stop()
	start := time.Now()
	for _, r := range genRecords(300, 2000) {
		l.Log(r)
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("2000 Log calls took %s during the outage", took)
	}
	// The last batch before the outage may be committed while its reply is
	// cut by Stop: the logger then spills it too (its replay skips what is
	// present), so the spill count is at least, not exactly, 2,000.
	eventually(t, 30*time.Second, "spill during the outage", func() bool { return metric(t, reg, "sluice_calllog_spilled_total") >= 2000 },
		func() string {
			return fmt.Sprintf("records %v, spilled %v, dropped %v, write errors %v, rows %d",
				metric(t, reg, "sluice_calllog_records_total"), metric(t, reg, "sluice_calllog_spilled_total"),
				metric(t, reg, "sluice_calllog_dropped_total"), metric(t, reg, "sluice_calllog_write_errors_total"), countRows(t, h))
		})
	if n := countRows(t, h); n != 300 {
		t.Fatalf("%d rows written during the outage, want still 300", n)
	}
	p.Start()
	eventually(t, 30*time.Second, "replay after the outage", func() bool { return countRows(t, h) == 2300 })
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	assertExactlyOnce(t, h, 2300)
	checkRollupsMatchRaw(t, h, 2300)
}

// writeSpill writes records to a spill file the way a Logger would.
func writeSpill(t *testing.T, dir string, recs []*Record) string {
	t.Helper()
	sw, err := newSpillWriter(dir, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	l := &Logger{opts: Options{Clock: realClock{}}}
	for _, r := range recs {
		l.prepare(r)
	}
	if err := sw.write(recs); err != nil {
		t.Fatal(err)
	}
	sw.close()
	files := spillFiles(t, dir)
	return files[len(files)-1]
}

func TestInterruptedReplayIsRepeatedWithoutDuplicates(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, kind string) {
		h, d := migrated(t, kind)
		dir := t.TempDir()
		path := writeSpill(t, dir, genRecords(0, 1000))

		// The first run commits two batches of 200, then the database
		// fails for good and the process stops: the file stays.
		var rows atomic.Int64
		flaky := hooked(t, d, func(_ context.Context, query string) error {
			if n, ok := insertedLogRows(query); ok && rows.Add(int64(n)) > 400 {
				return errors.New("injected: server gone")
			}
			return nil
		})
		l1, reg1 := testLogger(t, flaky, dir, Options{BatchSize: 200, RetryInterval: time.Hour})
		eventually(t, 10*time.Second, "first replay to fail", func() bool { return metric(t, reg1, "sluice_calllog_write_errors_total") >= 1 })
		if err := l1.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := metric(t, reg1, "sluice_calllog_replayed_total"); got != 400 {
			t.Fatalf("first run replayed %v, want 400", got)
		}
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("spill file gone after an interrupted replay: %v", err)
		}
		if n := countRows(t, h); n != 400 {
			t.Fatalf("%d rows after the interrupted replay, want 400", n)
		}

		// The next run replays the whole file again.
		l2, reg2 := testLogger(t, h, dir, Options{BatchSize: 200})
		eventually(t, 10*time.Second, "second replay", func() bool { return len(spillFiles(t, dir)) == 0 })
		if err := l2.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := metric(t, reg2, "sluice_calllog_replayed_total"); got != 600 {
			t.Fatalf("second run inserted %v, want the 600 missing", got)
		}
		assertExactlyOnce(t, h, 1000)
		checkRollupsMatchRaw(t, h, 1000)
	})
}

func TestQueueFullSpillsWithoutBlocking(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, kind string) {
		h, d := migrated(t, kind)
		gate := make(chan struct{})
		var blocking atomic.Bool
		blocking.Store(true)
		var blocked sync.Once
		entered := make(chan struct{})
		slow := hooked(t, d, func(_ context.Context, query string) error {
			if _, ok := insertedLogRows(query); ok && blocking.Load() {
				blocked.Do(func() { close(entered) })
				<-gate
			}
			return nil
		})
		release := sync.OnceFunc(func() { blocking.Store(false); close(gate) })
		dir := t.TempDir()
		l, reg := testLogger(t, slow, dir, Options{QueueSize: 8, OverflowSize: 100000, BatchSize: 4, WriteTimeout: time.Minute})
		t.Cleanup(release) // runs before the Logger's Close, even on failure
		const n = 500
		l.Log(genRecord(0))
		<-entered // the writer is stuck in a slow insert
		start := time.Now()
		for _, r := range genRecords(1, n-1) {
			l.Log(r)
		}
		if took := time.Since(start); took > time.Second {
			t.Fatalf("Log blocked for %s on a full queue", took)
		}
		eventually(t, 10*time.Second, "overflow spilled", func() bool { return metric(t, reg, "sluice_calllog_spilled_total") >= n-1-8 })
		release()
		eventually(t, 20*time.Second, "all rows", func() bool { return countRows(t, h) == n })
		if err := l.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		assertExactlyOnce(t, h, n)
		if got := metric(t, reg, "sluice_calllog_dropped_total"); got != 0 {
			t.Fatalf("dropped %v", got)
		}
	})
}

func TestCloseDrainsTheQueue(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, kind string) {
		h, _ := migrated(t, kind)
		dir := t.TempDir()
		l, _ := testLogger(t, h, dir, Options{FlushInterval: time.Hour, BatchSize: 1000, QueueSize: 5000, WriteTimeout: time.Minute})
		for _, r := range genRecords(0, 2500) {
			l.Log(r)
		}
		if err := l.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		assertExactlyOnce(t, h, 2500)
		if files := spillFiles(t, dir); len(files) != 0 {
			t.Fatalf("Close with a healthy database spilled: %v", files)
		}

		// A record logged after Close is spilled, not lost, and the next
		// Logger writes it.
		l.Log(genRecord(2500))
		if len(spillFiles(t, dir)) != 1 {
			t.Fatal("record logged after Close was not spilled")
		}
		l2, _ := testLogger(t, h, dir, Options{})
		if err := l2.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		assertExactlyOnce(t, h, 2501)
	})
}

func TestCloseWithDatabaseDownSpillsAndNextRunReplays(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, kind string) {
		h, d := migrated(t, kind)
		flaky, failing := outage(t, d)
		failing.Store(true)
		dir := t.TempDir()
		l, reg := testLogger(t, flaky, dir, Options{FlushInterval: time.Hour, BatchSize: 300})
		for _, r := range genRecords(0, 1000) {
			l.Log(r)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := l.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if got := metric(t, reg, "sluice_calllog_spilled_total"); got != 1000 {
			t.Fatalf("spilled %v at Close, want 1000", got)
		}
		if n := countRows(t, h); n != 0 {
			t.Fatalf("%d rows", n)
		}

		// Next start: the spill files are replayed without any Log call.
		l2, reg2 := testLogger(t, h, dir, Options{})
		eventually(t, 10*time.Second, "replay on start", func() bool { return countRows(t, h) == 1000 })
		if err := l2.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := metric(t, reg2, "sluice_calllog_replayed_total"); got != 1000 {
			t.Fatalf("replayed %v, want 1000", got)
		}
		assertExactlyOnce(t, h, 1000)
		checkRollupsMatchRaw(t, h, 1000)
	})
}

func TestCorruptSpillLinesAreReportedAndSkipped(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, kind string) {
		h, _ := migrated(t, kind)
		dir := t.TempDir()
		first := writeSpill(t, dir, genRecords(0, 40))
		// A line damaged in the middle of the first file.
		content := strings.SplitAfter(readFile(t, first), "\n")
		content[10] = "{\"id\": garbage\n"
		if err := os.WriteFile(first, []byte(strings.Join(content, "")), 0o600); err != nil {
			t.Fatal(err)
		}
		// A second file whose last write was cut short by a crash.
		time.Sleep(time.Millisecond)
		second := writeSpill(t, dir, genRecords(40, 20))
		f, err := os.OpenFile(second, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(`{"id":"0190b7c2-0000-7000-8000-000000000000","request_id":"req-9999`)
		f.Close()

		var logs strings.Builder
		var mu sync.Mutex
		l, reg := testLogger(t, h, dir, Options{Logger: slogTo(&logs, &mu)})
		eventually(t, 10*time.Second, "replay", func() bool { return len(spillFiles(t, dir)) == 0 })
		if err := l.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		// 40 + 20 records, minus the damaged one; the truncated line was a
		// 61st record that never completed.
		assertExactlyOnce(t, h, 59)
		if got := metric(t, reg, "sluice_calllog_dropped_total"); got != 2 {
			t.Fatalf("dropped_total = %v, want the 2 bad lines", got)
		}
		mu.Lock()
		out := logs.String()
		mu.Unlock()
		for _, want := range []string{filepath.Base(first), "line=11", filepath.Base(second), "line=21", "corrupt spill line"} {
			if !contains(out, want) {
				t.Errorf("log does not report %q:\n%s", want, out)
			}
		}
		bad := hasBad(dir)
		if len(bad) != 2 {
			t.Fatalf("bad-line files %v, want one per damaged spill file", bad)
		}
		all := readFile(t, bad[0]) + readFile(t, bad[1])
		if !contains(all, "garbage") || !contains(all, "req-9999") {
			t.Fatalf("bad lines not kept: %q", all)
		}
	})
}
