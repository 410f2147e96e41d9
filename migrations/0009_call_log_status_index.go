package migrations

import "gorm.io/gorm"

// Migration 9 drops idx_call_logs_status (migration 4). The log explorer's
// status filters (one status, or a class as a range) are served by
// idx_call_logs_status_time (migration 6), which starts with status, so
// the single-column index answered no query the other does not, while
// costing the call-log writer one more B-tree insert per row.

func up0009(tx *gorm.DB) error {
	return tx.Migrator().DropIndex("call_logs", "idx_call_logs_status")
}

func down0009(tx *gorm.DB) error {
	return tx.Exec("CREATE INDEX idx_call_logs_status ON call_logs (status)").Error
}
