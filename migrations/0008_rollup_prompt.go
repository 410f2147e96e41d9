package migrations

import (
	"fmt"

	"gorm.io/gorm"
)

// Migration 8 adds the prompt slug to the rollup key of the three rollup
// tables, so analytics can group by prompt.

var rollupTables0008 = []struct{ table, index string }{
	{"call_rollups", "idx_call_rollups_key"},
	{"call_rollups_hourly", "idx_call_rollups_hourly_key"},
	{"call_rollups_daily", "idx_call_rollups_daily_key"},
}

const rollupKey0008 = "bucket, service_id, consumer_id, team_id, model, provider, endpoint, status_class"

func up0008(tx *gorm.DB) error {
	for _, t := range rollupTables0008 {
		if err := tx.Exec("ALTER TABLE " + t.table + " ADD COLUMN prompt VARCHAR(64) NOT NULL DEFAULT ''").Error; err != nil {
			return fmt.Errorf("%s: %w", t.table, err)
		}
		if err := tx.Migrator().DropIndex(t.table, t.index); err != nil {
			return fmt.Errorf("%s: drop %s: %w", t.table, t.index, err)
		}
		if err := tx.Exec("CREATE UNIQUE INDEX " + t.index + "_p ON " + t.table + " (" + rollupKey0008 + ", prompt)").Error; err != nil {
			return fmt.Errorf("%s: %w", t.table, err)
		}
	}
	return nil
}

func down0008(tx *gorm.DB) error {
	for _, t := range rollupTables0008 {
		if err := tx.Migrator().DropIndex(t.table, t.index+"_p"); err != nil {
			return err
		}
		if err := tx.Migrator().DropColumn(t.table, "prompt"); err != nil {
			return err
		}
		if err := tx.Exec("CREATE UNIQUE INDEX " + t.index + " ON " + t.table + " (" + rollupKey0008 + ")").Error; err != nil {
			return err
		}
	}
	return nil
}
