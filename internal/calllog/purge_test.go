package calllog

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/dbtest"
)

func TestPurgeKeepsRowsWithinEachServicesRetention(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, kind string) {
		h, _ := migrated(t, kind)
		ctx := context.Background()
		now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
		st := &gormStore{db: h.Gorm, driver: h.Driver}
		day := 24 * time.Hour
		var recs []*Record
		add := func(svc uint64, age time.Duration, n int) {
			for range n {
				at := now.Add(-age)
				recs = append(recs, &Record{ID: newID(at), RequestID: "r", StartedAt: at, ServiceID: svc, Status: 200})
			}
		}
		add(1, 10*day, 7)  // service 1 keeps 7 days: purged
		add(1, 6*day, 2)   // kept
		add(2, 10*day, 3)  // service 2 keeps 30 days: kept
		add(2, 31*day, 1)  // purged
		add(3, 400*day, 2) // service 3 keeps forever: kept
		if n, err := st.insert(ctx, recs, true); err != nil || n != len(recs) {
			t.Fatalf("insert = %d, %v", n, err)
		}
		var rollupsBefore int64
		h.Gorm.Table("call_rollups").Count(&rollupsBefore)

		deleted, err := purge(ctx, st, now, map[uint64]int{1: 7, 2: 30, 3: 0}, 3)
		if err != nil || deleted != 8 {
			t.Fatalf("Purge = %d, %v; want 8 deleted", deleted, err)
		}
		type count struct {
			ServiceID uint64
			N         int64
		}
		var got []count
		if err := h.Gorm.Table("call_logs").Select("service_id, COUNT(*) AS n").Group("service_id").Scan(&got).Error; err != nil {
			t.Fatal(err)
		}
		sort.Slice(got, func(i, j int) bool { return got[i].ServiceID < got[j].ServiceID })
		want := []count{{1, 2}, {2, 3}, {3, 2}}
		if len(got) != len(want) {
			t.Fatalf("rows per service = %v, want %v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("rows per service = %v, want %v", got, want)
			}
		}
		var rollupsAfter int64
		h.Gorm.Table("call_rollups").Count(&rollupsAfter)
		if rollupsAfter != rollupsBefore || rollupsAfter == 0 {
			t.Fatalf("rollups %d → %d; the purge must keep them", rollupsBefore, rollupsAfter)
		}
		// A second purge finds nothing; the exported entry point works too.
		if deleted, err := Purge(ctx, h.Gorm, now, map[uint64]int{1: 7, 2: 30}); err != nil || deleted != 0 {
			t.Fatalf("second Purge = %d, %v", deleted, err)
		}
	})
}
