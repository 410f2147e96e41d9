package calllog

import (
	"context"
	"sort"
	"time"

	"gorm.io/gorm"
)

// PurgeBatch is how many call_logs rows one DELETE removes at most, so the
// purge never holds a long lock on the table.
const PurgeBatch = 5000

// Purge deletes the call_logs rows of each service in retention (service
// id → days) that started more than that many days before now, in batches
// of PurgeBatch rows: each batch selects the ids, then deletes them by id.
// Services absent from retention (or with 0 days) keep their rows; the
// rollups are never purged (they carry no bodies). It returns how many
// rows it deleted, including those deleted before an error.
func Purge(ctx context.Context, db *gorm.DB, now time.Time, retention map[uint64]int) (int64, error) {
	return purge(ctx, &gormStore{db: db}, now, retention, PurgeBatch)
}

// purge is Purge with batches of size rows (tests use small ones).
func purge(ctx context.Context, st *gormStore, now time.Time, retention map[uint64]int, size int) (int64, error) {
	ids := make([]uint64, 0, len(retention))
	for id, days := range retention {
		if days > 0 {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	var deleted int64
	db := st.db.WithContext(ctx)
	for _, svc := range ids {
		cutoff := now.Add(-time.Duration(retention[svc]) * 24 * time.Hour).UTC()
		for {
			if err := ctx.Err(); err != nil {
				return deleted, err
			}
			var batch []string
			if err := db.Model(&logRow{}).Where("service_id = ? AND started_at < ?", svc, cutoff).
				Limit(size).Pluck("id", &batch).Error; err != nil {
				return deleted, err
			}
			if len(batch) == 0 {
				break
			}
			res := db.Where("id IN ?", batch).Delete(&logRow{})
			if res.Error != nil {
				return deleted, res.Error
			}
			deleted += res.RowsAffected
			if len(batch) < size {
				break
			}
		}
	}
	return deleted, nil
}
