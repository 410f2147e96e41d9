package migrations

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/db"
	"github.com/sluicehq/sluice/internal/dbtest"
)

func newMigrator(t *testing.T, h *db.DB, d config.Database, extra ...step) *Migrator {
	t.Helper()
	m, err := New(h, d, func(o *options) { o.extra = extra; o.lockTimeout = 30 * time.Second })
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestUpIsOrderedRecordedAndIdempotent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		d, _ := dbtest.NewDatabase(t, kind)
		h := dbtest.OpenURL(t, d)
		m := newMigrator(t, h, d)

		pending, err := m.Pending(ctx)
		if err != nil || !pending {
			t.Fatalf("fresh database: pending=%v err=%v", pending, err)
		}
		applied, err := m.Up(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(applied) != len(steps) {
			t.Fatalf("applied %d, want %d", len(applied), len(steps))
		}
		for i, a := range applied {
			if a.Version != steps[i].Version || a.Name != steps[i].Name {
				t.Fatalf("applied[%d] = %+v, want version %d", i, a, steps[i].Version)
			}
		}
		again, err := m.Up(ctx)
		if err != nil || len(again) != 0 {
			t.Fatalf("second Up applied %v, err %v", again, err)
		}
		if pending, _ := m.Pending(ctx); pending {
			t.Fatal("still pending after Up")
		}
		st, err := m.Status(ctx)
		if err != nil || len(st) != len(steps) || !st[0].Applied {
			t.Fatalf("status = %+v, %v", st, err)
		}
		if !h.Gorm.Migrator().HasTable("users") {
			t.Fatal("users table missing")
		}
	})
}

func TestConcurrentUpFromTwoProcesses(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, kind string) {
		d, _ := dbtest.NewDatabase(t, kind)
		// Two separate pools stand for two processes.
		var wg sync.WaitGroup
		errs := make([]error, 2)
		counts := make([]int, 2)
		for i := range 2 {
			h := dbtest.OpenURL(t, d)
			m := newMigrator(t, h, d)
			wg.Add(1)
			go func() {
				defer wg.Done()
				a, err := m.Up(context.Background())
				errs[i], counts[i] = err, len(a)
			}()
		}
		wg.Wait()
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("concurrent Up: %v / %v", errs[0], errs[1])
		}
		if counts[0]+counts[1] != len(steps) {
			t.Fatalf("applied %d + %d migrations, want %d in total", counts[0], counts[1], len(steps))
		}
		h := dbtest.OpenURL(t, d)
		var n int64
		if err := h.Gorm.Table(VersionTable).Where("version_id > 0").Count(&n).Error; err != nil || n != int64(len(steps)) {
			t.Fatalf("version rows = %d (%v), want %d", n, err, len(steps))
		}
	})
}

func TestFailedMigrationStopsAtLastGoodVersion(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		d, _ := dbtest.NewDatabase(t, kind)
		h := dbtest.OpenURL(t, d)
		broken := step{Version: 9999, Name: "broken on purpose",
			Up: func(tx *gorm.DB) error {
				if err := tx.Exec("CREATE TABLE half_done (id INTEGER)").Error; err != nil {
					return err
				}
				return errors.New("boom")
			},
			Down: func(tx *gorm.DB) error { return nil },
		}
		m := newMigrator(t, h, d, broken)
		applied, err := m.Up(ctx)
		var me *Error
		if !errors.As(err, &me) || me.Version != 9999 || !strings.Contains(err.Error(), "broken on purpose") || !strings.Contains(err.Error(), "boom") {
			t.Fatalf("err = %v, want a migrations.Error naming 9999", err)
		}
		if len(applied) != len(steps) {
			t.Fatalf("applied %d good migrations, want %d", len(applied), len(steps))
		}
		good := newMigrator(t, h, d)
		if pending, err := good.Pending(ctx); err != nil || pending {
			t.Fatalf("schema not at the last good version: pending=%v err=%v", pending, err)
		}
		if kind != config.MySQL && h.Gorm.Migrator().HasTable("half_done") {
			t.Fatal("the failed migration's table survived its rollback")
		}
	})
}
