package calllog

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
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

// attemptsJSON is the attempts column: the first maxAttempts attempts,
// their strings clipped, as a JSON array; "" for none. It writes what
// json.Marshal of the clipped []Attempt writes (TestAttemptsJSONMatchesMarshal),
// without reflection.
func attemptsJSON(attempts []Attempt) string {
	n := len(attempts)
	if n == 0 {
		return ""
	}
	b := make([]byte, 0, 192*min(n, maxAttempts))
	b = append(b, '[')
	for i, a := range attempts[:min(n, maxAttempts)] {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		if a.TargetID != 0 {
			b = append(b, `"target_id":`...)
			b = strconv.AppendUint(b, a.TargetID, 10)
			b = append(b, ',')
		}
		if p := clip(a.Provider, sizeProvider); p != "" {
			b = append(b, `"provider":`...)
			b = appendJSONString(b, p)
			b = append(b, ',')
		}
		if m := clip(a.UpstreamModel, sizeModel); m != "" {
			b = append(b, `"upstream_model":`...)
			b = appendJSONString(b, m)
			b = append(b, ',')
		}
		b = append(b, `"status":`...)
		b = strconv.AppendInt(b, int64(a.Status), 10)
		if e := clip(a.Error, 1024); e != "" {
			b = append(b, `,"error":`...)
			b = appendJSONString(b, e)
		}
		for _, f := range []struct {
			name string
			d    time.Duration
		}{{`,"start_us":`, a.Start}, {`,"dns_us":`, a.DNS}, {`,"connect_us":`, a.Connect}, {`,"tls_us":`, a.TLS},
			{`,"ttfb_us":`, a.TTFB}, {`,"transfer_us":`, a.Transfer}} {
			b = append(b, f.name...)
			b = strconv.AppendInt(b, f.d.Microseconds(), 10)
		}
		if a.Retried {
			b = append(b, `,"retried":true`...)
		}
		b = append(b, '}')
	}
	b = append(b, ']')
	return string(b)
}

// appendJSONString appends s as encoding/json writes it: plain printable
// ASCII as is, anything else through json.Marshal (which escapes <, >, &
// and U+2028/9 too).
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, err := json.Marshal(s)
			if err != nil {
				return append(b, `""`...)
			}
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
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
		conn := tx.Statement.ConnPool
		if err := s.insertLogs(ctx, conn, fresh); err != nil {
			return err
		}
		keys, sums := aggregate(fresh)
		if err := s.upsertRollups(ctx, conn, keys, sums); err != nil {
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
