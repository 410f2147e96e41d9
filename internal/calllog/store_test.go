package calllog

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm/clause"

	"github.com/sluicehq/sluice/internal/db"
	"github.com/sluicehq/sluice/internal/dbtest"
)

// TestRawInsertMatchesGORM writes the same records with the writer's
// hand-written INSERT into one database and with GORM's CreateInBatches of
// toRow (what the writer did before) into another, and compares every
// column of every row as each database returns it.
func TestRawInsertMatchesGORM(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, kind string) {
		raw, _ := migrated(t, kind)
		ref, _ := migrated(t, kind)
		recs := genRecords(0, 150)
		odd := []string{"", "plain-name_1.2:3/4", "it's", `back\slash`, "100% [x] a=b; c,d #e", "$1 ? @user :name",
			"dés accents", "emoji 🚀", "line\nbreak\ttab", "nul\x00byte", "bad\xffutf8", strings.Repeat("x", 300), "  spaced  ", "NULL", "'); DROP TABLE call_logs; --"}
		for i, s := range odd {
			body := s
			recs = append(recs, &Record{RequestID: s, StartedAt: base.Add(time.Duration(i)*time.Second + 123456789*time.Nanosecond),
				ConsumerID: math.MaxInt64, KeyID: s, ServiceID: uint64(i), TeamID: 1, Endpoint: s, PromptSlug: s, PromptVersion: -i,
				Model: s, Provider: s, UpstreamModel: s, Status: 500 + i, Error: s, Stream: i%2 == 0, TokensIn: -1, TokensOut: math.MaxInt32 + 7,
				UsageEstimated: i%3 == 0, Cost: []float64{0, 1e-9, 0.1 + 0.2, 12345.678, math.Inf(1), math.NaN(), 1e20}[i%7],
				BytesIn: int64(i) << 40, ClientAddr: s, Auth: time.Duration(i) * time.Millisecond, TTFT: time.Nanosecond,
				RequestBody: &body, ResponseBody: []*string{nil, &body}[i%2],
				Attempts: []Attempt{{TargetID: uint64(i), Provider: s, UpstreamModel: s, Error: s, Status: 502, Retried: true}}})
		}
		// Ten records with two whole bodies each pass maxStatementBytes.
		big := strings.Repeat("b", MaxBodyBytes+10)
		for i := range 10 {
			recs = append(recs, &Record{RequestID: fmt.Sprint("big-", i), RequestBody: &big, ResponseBody: &big, Status: 200})
		}
		l := &Logger{opts: Options{Clock: realClock{}}}
		for _, r := range recs {
			l.prepare(r)
		}

		st := &gormStore{db: raw.Gorm, driver: raw.Driver}
		if n, err := st.insert(context.Background(), recs, false); err != nil || n != len(recs) {
			t.Fatalf("insert = %d, %v; want %d", n, err, len(recs))
		}
		rows := make([]logRow, len(recs))
		for i, r := range recs {
			rows[i] = toRow(r)
		}
		if err := ref.Gorm.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(rows, 25).Error; err != nil {
			t.Fatal(err)
		}

		got, want := allLogRows(t, raw), allLogRows(t, ref)
		if len(got) != len(recs) || len(want) != len(recs) {
			t.Fatalf("%d rows written by hand, %d by GORM, want %d", len(got), len(want), len(recs))
		}
		for i := range want {
			if !reflect.DeepEqual(got[i], want[i]) {
				for col, w := range want[i] {
					if g := got[i][col]; !reflect.DeepEqual(g, w) {
						t.Errorf("row %v column %s = %#v (%T), GORM wrote %#v (%T)", want[i]["id"], col, g, g, w, w)
					}
				}
			}
		}

		// A replay of the same records inserts nothing twice.
		if n, err := st.insert(context.Background(), recs, true); err != nil || n != 0 {
			t.Fatalf("replay inserted %d, %v; want 0", n, err)
		}
		if n := countRows(t, raw); n != int64(len(recs)) {
			t.Fatalf("%d rows after the replay, want %d", n, len(recs))
		}
	})
}

func allLogRows(t *testing.T, h *db.DB) []map[string]any {
	t.Helper()
	var out []map[string]any
	if err := h.Gorm.Table("call_logs").Order("id").Find(&out).Error; err != nil {
		t.Fatal(err)
	}
	for _, m := range out {
		for k, v := range m {
			if b, ok := v.([]byte); ok { // MySQL returns text as bytes
				m[k] = string(b)
			}
			if tm, ok := v.(time.Time); ok {
				m[k] = tm.UTC()
			}
		}
	}
	return out
}
