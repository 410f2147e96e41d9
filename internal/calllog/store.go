package calllog

import (
	"context"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/sluicehq/sluice/internal/config"
)

// store writes batches of records. The Logger's only use of the database
// goes through it, so tests can put a discarding store behind a Logger.
type store interface {
	// insert writes the records that are not in the database yet, and
	// their rollups, in one transaction; it returns how many it inserted.
	// replay says the records come from a spill file and may already be
	// there (a replay interrupted after its commit); a live batch, whose ids
	// were just made, skips that lookup.
	insert(ctx context.Context, recs []*Record, replay bool) (int, error)
}

// Column sizes of call_logs and call_rollups (migration 4). Strings are
// clipped to them so one odd value cannot fail a whole batch.
const (
	sizeRequestID  = 64
	sizeKeyID      = 40
	sizeEndpoint   = 32
	sizePromptSlug = 64
	sizeModel      = 200
	sizeProvider   = 100
	sizeClientAddr = 64
	sizeError      = 4096
	maxAttempts    = 32
	// MaxBodyBytes caps a stored request or response body (below MySQL's
	// 64 KiB TEXT limit).
	MaxBodyBytes = 60000
)

// logRow is a row of call_logs.
type logRow struct {
	ID             string `gorm:"primaryKey"`
	RequestID      string
	StartedAt      time.Time
	ConsumerID     uint64
	KeyID          string
	ServiceID      uint64
	TeamID         uint64
	Endpoint       string
	PromptSlug     string
	PromptVersion  int
	Model          string
	Provider       string
	UpstreamModel  string
	Status         int
	Error          string
	Stream         bool
	TokensIn       int64
	TokensOut      int64
	UsageEstimated bool
	Cost           float64
	BytesIn        int64
	BytesOut       int64
	ClientAddr     string
	AuthUS         int64 `gorm:"column:auth_us"`
	RoutingUS      int64 `gorm:"column:routing_us"`
	TotalUS        int64 `gorm:"column:total_us"`
	TTFTUS         int64 `gorm:"column:ttft_us"`
	Attempts       string
	RequestBody    *string
	ResponseBody   *string
}

func (logRow) TableName() string { return "call_logs" }

// toRow maps a prepared record to its row.
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
	if n := len(r.Attempts); n > 0 {
		at := r.Attempts[:min(n, maxAttempts)]
		clipped := make([]Attempt, len(at))
		for i, a := range at {
			a.Provider, a.UpstreamModel, a.Error = clip(a.Provider, sizeProvider), clip(a.UpstreamModel, sizeModel), clip(a.Error, 1024)
			clipped[i] = a
		}
		if b, err := json.Marshal(clipped); err == nil {
			row.Attempts = string(b)
		}
	}
	return row
}

// clip makes s storable in a column of n bytes: valid UTF-8 (PostgreSQL
// rejects anything else), no NUL bytes, cut at a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n && utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func clipPtr(s *string, n int) *string {
	if s == nil {
		return nil
	}
	c := clip(*s, n)
	return &c
}

// gormStore writes to call_logs and call_rollups.
type gormStore struct {
	db     *gorm.DB
	driver string
}

// chunks bounds the rows of one INSERT statement: the bind-parameter
// limits are 65535 on PostgreSQL and MySQL, and the SQLite driver binds
// parameters in time quadratic in their number per statement, so on SQLite
// smaller statements are much faster (measured by BenchmarkWriteBatch).
func (s *gormStore) chunks() (logs, rollups int) {
	if s.driver == config.SQLite {
		return 25, 10
	}
	return 500, 200
}

func (s *gormStore) insert(ctx context.Context, recs []*Record, replay bool) (int, error) {
	if len(recs) == 0 {
		return 0, nil
	}
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.ID
	}
	inserted := 0
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Rows already present come from a replay that was interrupted
		// after its commit: skip them, so their rollups are not added
		// twice. Spill files are local to one process and the writer is
		// one goroutine, so nothing inserts these ids concurrently; ON
		// CONFLICT DO NOTHING is the backstop.
		var existing []string
		if replay {
			if err := tx.Model(&logRow{}).Where("id IN ?", ids).Pluck("id", &existing).Error; err != nil {
				return err
			}
		}
		fresh := recs
		if len(existing) > 0 {
			skip := make(map[string]bool, len(existing))
			for _, id := range existing {
				skip[id] = true
			}
			fresh = make([]*Record, 0, len(recs)-len(existing))
			for _, r := range recs {
				if !skip[r.ID] {
					skip[r.ID] = true // a duplicate within the batch is written once
					fresh = append(fresh, r)
				}
			}
		} else if hasDuplicateIDs(recs) {
			fresh = dedupe(recs)
		}
		if len(fresh) == 0 {
			return nil
		}
		rows := make([]logRow, len(fresh))
		for i, r := range fresh {
			rows[i] = toRow(r)
		}
		logChunk, rollupChunk := s.chunks()
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(rows, logChunk).Error; err != nil {
			return err
		}
		keys, sums := aggregate(fresh)
		maps := make([]map[string]any, len(keys))
		for i, k := range keys {
			maps[i] = sums[k].row(k)
		}
		if err := tx.Table("call_rollups").Clauses(s.rollupUpsert()).CreateInBatches(maps, rollupChunk).Error; err != nil {
			return err
		}
		if err := s.upsertCoarse(tx, keys, sums); err != nil {
			return err
		}
		inserted = len(fresh)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return inserted, nil
}

// rollupUpsert adds a batch's sums to existing rollup rows. PostgreSQL and
// SQLite name the proposed row EXCLUDED; MySQL and MariaDB use VALUES(col).
func (s *gormStore) rollupUpsert() clause.OnConflict {
	keys := make([]clause.Column, len(rollupKeyColumns))
	for i, c := range rollupKeyColumns {
		keys[i] = clause.Column{Name: c}
	}
	set := make(clause.Set, len(rollupSumColumns))
	for i, c := range rollupSumColumns {
		expr := "call_rollups." + c + " + excluded." + c
		if s.driver == config.MySQL {
			expr = c + " + VALUES(" + c + ")"
		}
		set[i] = clause.Assignment{Column: clause.Column{Name: c}, Value: gorm.Expr(expr)}
	}
	return clause.OnConflict{Columns: keys, DoUpdates: set}
}

func hasDuplicateIDs(recs []*Record) bool {
	if len(recs) < 2 {
		return false
	}
	seen := make(map[string]struct{}, len(recs))
	for _, r := range recs {
		if _, ok := seen[r.ID]; ok {
			return true
		}
		seen[r.ID] = struct{}{}
	}
	return false
}

func dedupe(recs []*Record) []*Record {
	seen := make(map[string]bool, len(recs))
	out := make([]*Record, 0, len(recs))
	for _, r := range recs {
		if !seen[r.ID] {
			seen[r.ID] = true
			out = append(out, r)
		}
	}
	return out
}
