package migrations

import (
	"time"

	"gorm.io/gorm"
)

// The call log and its per-minute rollups, as migration 4 creates them.
//
// call_logs holds one row per data-plane call. Its primary key is a UUIDv7
// string assigned by the writer (package calllog), so a replay of spilled
// records inserts nothing twice. Durations are microseconds. The upstream
// attempts of the waterfall are one JSON array in attempts: the detail page
// reads them only whole, and a batch insert stays a single multi-row INSERT.
// request_body and response_body are NULL unless the service asks for
// bodies to be captured.
//
// call_rollups holds one row per (minute, service, consumer, team, model,
// provider, endpoint, status class) with summable counters, so analytics
// never scan the raw log. lat_le_N counts calls whose total time was in
// (previous bound, N] milliseconds, lat_inf those above 120 s; ttft_le_N
// and ttft_inf do the same for the time to first token (only calls that
// have one are counted, see ttft_count).

type callLog0004 struct {
	ID             string    `gorm:"primaryKey;size:36"`
	RequestID      string    `gorm:"size:64;not null;default:'';index"`
	StartedAt      time.Time `gorm:"not null;index;index:idx_call_logs_service_time,priority:2;index:idx_call_logs_consumer_time,priority:2;index:idx_call_logs_team_time,priority:2"`
	ConsumerID     uint64    `gorm:"not null;default:0;index:idx_call_logs_consumer_time,priority:1"`
	KeyID          string    `gorm:"size:40;not null;default:''"`
	ServiceID      uint64    `gorm:"not null;default:0;index:idx_call_logs_service_time,priority:1"`
	TeamID         uint64    `gorm:"not null;default:0;index:idx_call_logs_team_time,priority:1"`
	Endpoint       string    `gorm:"size:32;not null;default:''"`
	PromptSlug     string    `gorm:"size:64;not null;default:''"`
	PromptVersion  int       `gorm:"not null;default:0"`
	Model          string    `gorm:"size:200;not null;default:''"`
	Provider       string    `gorm:"size:100;not null;default:''"`
	UpstreamModel  string    `gorm:"size:200;not null;default:''"`
	Status         int       `gorm:"not null;default:0;index"`
	Error          string    `gorm:"type:text"`
	Stream         bool      `gorm:"not null;default:false"`
	TokensIn       int64     `gorm:"not null;default:0"`
	TokensOut      int64     `gorm:"not null;default:0"`
	UsageEstimated bool      `gorm:"not null;default:false"`
	Cost           float64   `gorm:"not null;default:0"`
	BytesIn        int64     `gorm:"not null;default:0"`
	BytesOut       int64     `gorm:"not null;default:0"`
	ClientAddr     string    `gorm:"size:64;not null;default:''"`
	AuthUS         int64     `gorm:"column:auth_us;not null;default:0"`
	RoutingUS      int64     `gorm:"column:routing_us;not null;default:0"`
	TotalUS        int64     `gorm:"column:total_us;not null;default:0"`
	TTFTUS         int64     `gorm:"column:ttft_us;not null;default:0"`
	Attempts       string    `gorm:"type:text"`
	RequestBody    *string   `gorm:"type:text"`
	ResponseBody   *string   `gorm:"type:text"`
}

func (callLog0004) TableName() string { return "call_logs" }

type callRollup0004 struct {
	ID           uint64    `gorm:"primaryKey;autoIncrement"`
	Bucket       time.Time `gorm:"not null;uniqueIndex:idx_call_rollups_key,priority:1;index:idx_call_rollups_service,priority:2;index:idx_call_rollups_team,priority:2"`
	ServiceID    uint64    `gorm:"not null;default:0;uniqueIndex:idx_call_rollups_key,priority:2;index:idx_call_rollups_service,priority:1"`
	ConsumerID   uint64    `gorm:"not null;default:0;uniqueIndex:idx_call_rollups_key,priority:3"`
	TeamID       uint64    `gorm:"not null;default:0;uniqueIndex:idx_call_rollups_key,priority:4;index:idx_call_rollups_team,priority:1"`
	Model        string    `gorm:"size:200;not null;default:'';uniqueIndex:idx_call_rollups_key,priority:5"`
	Provider     string    `gorm:"size:100;not null;default:'';uniqueIndex:idx_call_rollups_key,priority:6"`
	Endpoint     string    `gorm:"size:32;not null;default:'';uniqueIndex:idx_call_rollups_key,priority:7"`
	StatusClass  string    `gorm:"size:8;not null;default:'';uniqueIndex:idx_call_rollups_key,priority:8"`
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

func (callRollup0004) TableName() string { return "call_rollups" }

func up0004(tx *gorm.DB) error {
	return tx.Migrator().CreateTable(&callLog0004{}, &callRollup0004{})
}

func down0004(tx *gorm.DB) error {
	return tx.Migrator().DropTable(&callRollup0004{}, &callLog0004{})
}
