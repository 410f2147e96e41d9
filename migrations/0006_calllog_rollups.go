package migrations

import (
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Hourly and daily rollups of the call log, as migration 6 creates them.
//
// call_rollups_hourly and call_rollups_daily have the columns and key of
// call_rollups (migration 4) with bucket truncated to the hour or the UTC
// day. The writer upserts them in the same transaction as the minute rows,
// so a chart over a month reads a few hundred rows instead of a million
// (package calllog picks the coarsest table that fits each part of a
// range). The migration fills them from the minute rows already written.
//
// It also indexes call_logs by (status, started_at) and (model,
// started_at): the log explorer filters on them and pages newest first,
// and without them a rare status or model sorts every matching row.

type callRollupHourly0006 struct {
	ID           uint64    `gorm:"primaryKey;autoIncrement"`
	Bucket       time.Time `gorm:"not null;uniqueIndex:idx_call_rollups_hourly_key,priority:1;index:idx_call_rollups_hourly_team,priority:2"`
	ServiceID    uint64    `gorm:"not null;default:0;uniqueIndex:idx_call_rollups_hourly_key,priority:2"`
	ConsumerID   uint64    `gorm:"not null;default:0;uniqueIndex:idx_call_rollups_hourly_key,priority:3"`
	TeamID       uint64    `gorm:"not null;default:0;uniqueIndex:idx_call_rollups_hourly_key,priority:4;index:idx_call_rollups_hourly_team,priority:1"`
	Model        string    `gorm:"size:200;not null;default:'';uniqueIndex:idx_call_rollups_hourly_key,priority:5"`
	Provider     string    `gorm:"size:100;not null;default:'';uniqueIndex:idx_call_rollups_hourly_key,priority:6"`
	Endpoint     string    `gorm:"size:32;not null;default:'';uniqueIndex:idx_call_rollups_hourly_key,priority:7"`
	StatusClass  string    `gorm:"size:8;not null;default:'';uniqueIndex:idx_call_rollups_hourly_key,priority:8"`
	Requests     int64     `gorm:"not null;default:0"`
	Errors       int64     `gorm:"not null;default:0"`
	TokensIn     int64     `gorm:"not null;default:0"`
	TokensOut    int64     `gorm:"not null;default:0"`
	Cost         float64   `gorm:"not null;default:0"`
	BytesIn      int64     `gorm:"not null;default:0"`
	BytesOut     int64     `gorm:"not null;default:0"`
	LatencyUS    int64     `gorm:"column:latency_us;not null;default:0"`
	TTFTUS       int64     `gorm:"column:ttft_us;not null;default:0"`
	TTFTCount    int64     `gorm:"column:ttft_count;not null;default:0"`
	LatLe5       int64     `gorm:"column:lat_le_5;not null;default:0"`
	LatLe10      int64     `gorm:"column:lat_le_10;not null;default:0"`
	LatLe25      int64     `gorm:"column:lat_le_25;not null;default:0"`
	LatLe50      int64     `gorm:"column:lat_le_50;not null;default:0"`
	LatLe100     int64     `gorm:"column:lat_le_100;not null;default:0"`
	LatLe150     int64     `gorm:"column:lat_le_150;not null;default:0"`
	LatLe200     int64     `gorm:"column:lat_le_200;not null;default:0"`
	LatLe300     int64     `gorm:"column:lat_le_300;not null;default:0"`
	LatLe500     int64     `gorm:"column:lat_le_500;not null;default:0"`
	LatLe750     int64     `gorm:"column:lat_le_750;not null;default:0"`
	LatLe1000    int64     `gorm:"column:lat_le_1000;not null;default:0"`
	LatLe1500    int64     `gorm:"column:lat_le_1500;not null;default:0"`
	LatLe2000    int64     `gorm:"column:lat_le_2000;not null;default:0"`
	LatLe3000    int64     `gorm:"column:lat_le_3000;not null;default:0"`
	LatLe5000    int64     `gorm:"column:lat_le_5000;not null;default:0"`
	LatLe10000   int64     `gorm:"column:lat_le_10000;not null;default:0"`
	LatLe20000   int64     `gorm:"column:lat_le_20000;not null;default:0"`
	LatLe30000   int64     `gorm:"column:lat_le_30000;not null;default:0"`
	LatLe60000   int64     `gorm:"column:lat_le_60000;not null;default:0"`
	LatLe120000  int64     `gorm:"column:lat_le_120000;not null;default:0"`
	LatInf       int64     `gorm:"column:lat_inf;not null;default:0"`
	TtftLe5      int64     `gorm:"column:ttft_le_5;not null;default:0"`
	TtftLe10     int64     `gorm:"column:ttft_le_10;not null;default:0"`
	TtftLe25     int64     `gorm:"column:ttft_le_25;not null;default:0"`
	TtftLe50     int64     `gorm:"column:ttft_le_50;not null;default:0"`
	TtftLe100    int64     `gorm:"column:ttft_le_100;not null;default:0"`
	TtftLe150    int64     `gorm:"column:ttft_le_150;not null;default:0"`
	TtftLe200    int64     `gorm:"column:ttft_le_200;not null;default:0"`
	TtftLe300    int64     `gorm:"column:ttft_le_300;not null;default:0"`
	TtftLe500    int64     `gorm:"column:ttft_le_500;not null;default:0"`
	TtftLe750    int64     `gorm:"column:ttft_le_750;not null;default:0"`
	TtftLe1000   int64     `gorm:"column:ttft_le_1000;not null;default:0"`
	TtftLe1500   int64     `gorm:"column:ttft_le_1500;not null;default:0"`
	TtftLe2000   int64     `gorm:"column:ttft_le_2000;not null;default:0"`
	TtftLe3000   int64     `gorm:"column:ttft_le_3000;not null;default:0"`
	TtftLe5000   int64     `gorm:"column:ttft_le_5000;not null;default:0"`
	TtftLe10000  int64     `gorm:"column:ttft_le_10000;not null;default:0"`
	TtftLe20000  int64     `gorm:"column:ttft_le_20000;not null;default:0"`
	TtftLe30000  int64     `gorm:"column:ttft_le_30000;not null;default:0"`
	TtftLe60000  int64     `gorm:"column:ttft_le_60000;not null;default:0"`
	TtftLe120000 int64     `gorm:"column:ttft_le_120000;not null;default:0"`
	TtftInf      int64     `gorm:"column:ttft_inf;not null;default:0"`
}

func (callRollupHourly0006) TableName() string { return "call_rollups_hourly" }

type callRollupDaily0006 struct {
	ID           uint64    `gorm:"primaryKey;autoIncrement"`
	Bucket       time.Time `gorm:"not null;uniqueIndex:idx_call_rollups_daily_key,priority:1;index:idx_call_rollups_daily_team,priority:2"`
	ServiceID    uint64    `gorm:"not null;default:0;uniqueIndex:idx_call_rollups_daily_key,priority:2"`
	ConsumerID   uint64    `gorm:"not null;default:0;uniqueIndex:idx_call_rollups_daily_key,priority:3"`
	TeamID       uint64    `gorm:"not null;default:0;uniqueIndex:idx_call_rollups_daily_key,priority:4;index:idx_call_rollups_daily_team,priority:1"`
	Model        string    `gorm:"size:200;not null;default:'';uniqueIndex:idx_call_rollups_daily_key,priority:5"`
	Provider     string    `gorm:"size:100;not null;default:'';uniqueIndex:idx_call_rollups_daily_key,priority:6"`
	Endpoint     string    `gorm:"size:32;not null;default:'';uniqueIndex:idx_call_rollups_daily_key,priority:7"`
	StatusClass  string    `gorm:"size:8;not null;default:'';uniqueIndex:idx_call_rollups_daily_key,priority:8"`
	Requests     int64     `gorm:"not null;default:0"`
	Errors       int64     `gorm:"not null;default:0"`
	TokensIn     int64     `gorm:"not null;default:0"`
	TokensOut    int64     `gorm:"not null;default:0"`
	Cost         float64   `gorm:"not null;default:0"`
	BytesIn      int64     `gorm:"not null;default:0"`
	BytesOut     int64     `gorm:"not null;default:0"`
	LatencyUS    int64     `gorm:"column:latency_us;not null;default:0"`
	TTFTUS       int64     `gorm:"column:ttft_us;not null;default:0"`
	TTFTCount    int64     `gorm:"column:ttft_count;not null;default:0"`
	LatLe5       int64     `gorm:"column:lat_le_5;not null;default:0"`
	LatLe10      int64     `gorm:"column:lat_le_10;not null;default:0"`
	LatLe25      int64     `gorm:"column:lat_le_25;not null;default:0"`
	LatLe50      int64     `gorm:"column:lat_le_50;not null;default:0"`
	LatLe100     int64     `gorm:"column:lat_le_100;not null;default:0"`
	LatLe150     int64     `gorm:"column:lat_le_150;not null;default:0"`
	LatLe200     int64     `gorm:"column:lat_le_200;not null;default:0"`
	LatLe300     int64     `gorm:"column:lat_le_300;not null;default:0"`
	LatLe500     int64     `gorm:"column:lat_le_500;not null;default:0"`
	LatLe750     int64     `gorm:"column:lat_le_750;not null;default:0"`
	LatLe1000    int64     `gorm:"column:lat_le_1000;not null;default:0"`
	LatLe1500    int64     `gorm:"column:lat_le_1500;not null;default:0"`
	LatLe2000    int64     `gorm:"column:lat_le_2000;not null;default:0"`
	LatLe3000    int64     `gorm:"column:lat_le_3000;not null;default:0"`
	LatLe5000    int64     `gorm:"column:lat_le_5000;not null;default:0"`
	LatLe10000   int64     `gorm:"column:lat_le_10000;not null;default:0"`
	LatLe20000   int64     `gorm:"column:lat_le_20000;not null;default:0"`
	LatLe30000   int64     `gorm:"column:lat_le_30000;not null;default:0"`
	LatLe60000   int64     `gorm:"column:lat_le_60000;not null;default:0"`
	LatLe120000  int64     `gorm:"column:lat_le_120000;not null;default:0"`
	LatInf       int64     `gorm:"column:lat_inf;not null;default:0"`
	TtftLe5      int64     `gorm:"column:ttft_le_5;not null;default:0"`
	TtftLe10     int64     `gorm:"column:ttft_le_10;not null;default:0"`
	TtftLe25     int64     `gorm:"column:ttft_le_25;not null;default:0"`
	TtftLe50     int64     `gorm:"column:ttft_le_50;not null;default:0"`
	TtftLe100    int64     `gorm:"column:ttft_le_100;not null;default:0"`
	TtftLe150    int64     `gorm:"column:ttft_le_150;not null;default:0"`
	TtftLe200    int64     `gorm:"column:ttft_le_200;not null;default:0"`
	TtftLe300    int64     `gorm:"column:ttft_le_300;not null;default:0"`
	TtftLe500    int64     `gorm:"column:ttft_le_500;not null;default:0"`
	TtftLe750    int64     `gorm:"column:ttft_le_750;not null;default:0"`
	TtftLe1000   int64     `gorm:"column:ttft_le_1000;not null;default:0"`
	TtftLe1500   int64     `gorm:"column:ttft_le_1500;not null;default:0"`
	TtftLe2000   int64     `gorm:"column:ttft_le_2000;not null;default:0"`
	TtftLe3000   int64     `gorm:"column:ttft_le_3000;not null;default:0"`
	TtftLe5000   int64     `gorm:"column:ttft_le_5000;not null;default:0"`
	TtftLe10000  int64     `gorm:"column:ttft_le_10000;not null;default:0"`
	TtftLe20000  int64     `gorm:"column:ttft_le_20000;not null;default:0"`
	TtftLe30000  int64     `gorm:"column:ttft_le_30000;not null;default:0"`
	TtftLe60000  int64     `gorm:"column:ttft_le_60000;not null;default:0"`
	TtftLe120000 int64     `gorm:"column:ttft_le_120000;not null;default:0"`
	TtftInf      int64     `gorm:"column:ttft_inf;not null;default:0"`
}

func (callRollupDaily0006) TableName() string { return "call_rollups_daily" }

func up0006(tx *gorm.DB) error {
	if err := tx.Migrator().CreateTable(&callRollupHourly0006{}, &callRollupDaily0006{}); err != nil {
		return err
	}
	for _, ix := range []string{
		"CREATE INDEX idx_call_logs_status_time ON call_logs (status, started_at)",
		"CREATE INDEX idx_call_logs_model_time ON call_logs (model, started_at)",
	} {
		if err := tx.Exec(ix).Error; err != nil {
			return err
		}
	}
	for _, t := range []struct{ table, unit string }{{"call_rollups_hourly", "hour"}, {"call_rollups_daily", "day"}} {
		if err := backfill0006(tx, t.table, t.unit); err != nil {
			return err
		}
	}
	return nil
}

func down0006(tx *gorm.DB) error {
	for _, ix := range []string{"idx_call_logs_status_time", "idx_call_logs_model_time"} {
		if err := tx.Migrator().DropIndex("call_logs", ix); err != nil {
			return err
		}
	}
	return tx.Migrator().DropTable(&callRollupDaily0006{}, &callRollupHourly0006{})
}

// backfill0006 sums the minute rows of call_rollups into table.
func backfill0006(tx *gorm.DB, table, unit string) error {
	var truncated string
	switch tx.Dialector.Name() {
	case "postgres":
		truncated = "date_trunc('" + unit + "', bucket AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
	case "mysql":
		truncated = "DATE_FORMAT(bucket, '%Y-%m-%d %H:00:00')"
		if unit == "day" {
			truncated = "DATE_FORMAT(bucket, '%Y-%m-%d 00:00:00')"
		}
	default: // SQLite stores "2006-01-02 15:04:05+00:00"
		truncated = "substr(bucket, 1, 13) || ':00:00+00:00'"
		if unit == "day" {
			truncated = "substr(bucket, 1, 10) || ' 00:00:00+00:00'"
		}
	}
	keys := "service_id, consumer_id, team_id, model, provider, endpoint, status_class"
	var sums []string
	for _, c := range rollupSums0006() {
		sums = append(sums, "SUM("+c+")")
	}
	return tx.Exec("INSERT INTO " + table + " (bucket, " + keys + ", " + strings.Join(rollupSums0006(), ", ") + ") SELECT " +
		truncated + ", " + keys + ", " + strings.Join(sums, ", ") + " FROM call_rollups GROUP BY " + truncated + ", " + keys).Error
}

// rollupSums0006 are the summable columns of the rollup tables.
func rollupSums0006() []string {
	cols := []string{"requests", "errors", "tokens_in", "tokens_out", "cost", "bytes_in", "bytes_out", "latency_us", "ttft_us", "ttft_count"}
	for _, p := range []string{"lat", "ttft"} {
		for _, ms := range []int{5, 10, 25, 50, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000, 20000, 30000, 60000, 120000} {
			cols = append(cols, fmt.Sprintf("%s_le_%d", p, ms))
		}
		cols = append(cols, p+"_inf")
	}
	return cols
}
