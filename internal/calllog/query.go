package calllog

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/sluicehq/sluice/internal/config"
)

// The read side of the call log: Reader lists and filters raw records with
// cursor pagination, returns one record with its waterfall (this file),
// and answers analytics from call_rollups (analytics.go). It only reads.

// Reader answers the admin API's queries on call_logs and call_rollups.
type Reader struct {
	db     *gorm.DB
	driver string
	clock  interface{ Now() time.Time }
}

// NewReader returns a Reader over g (a handle opened by internal/db).
func NewReader(g *gorm.DB) *Reader {
	r := &Reader{db: g, clock: realClock{}}
	if g != nil && g.Dialector != nil {
		r.driver = g.Dialector.Name()
	}
	return r
}

// WithClock makes r take "now" (the default end of a range) from c.
func (r *Reader) WithClock(c interface{ Now() time.Time }) *Reader {
	r.clock = c
	return r
}

// Scope limits the rows a query sees to teams (team_id), unless All.
type Scope struct {
	// All is true for admins.
	All bool
	// Teams are the visible teams when All is false; none sees nothing.
	Teams []uint64
}

func (s Scope) where(q *gorm.DB) *gorm.DB {
	if s.All {
		return q
	}
	if len(s.Teams) == 0 {
		return q.Where("1 = 0")
	}
	return q.Where("team_id IN ?", s.Teams)
}

// ErrNotFound is returned for a record that does not exist or is outside
// the caller's scope.
var ErrNotFound = errors.New("call log record not found")

// QueryError is a query refused because one of its parameters is wrong.
type QueryError struct {
	// Param is the query parameter at fault.
	Param string
	// Message says what is wrong and what is expected.
	Message string
}

func (e *QueryError) Error() string { return e.Param + ": " + e.Message }

func badParam(param, format string, args ...any) error {
	return &QueryError{Param: param, Message: fmt.Sprintf(format, args...)}
}

// Page sizes of List.
const (
	DefaultLogLimit = 50
	MaxLogLimit     = 200
)

// LogFilter selects records for List. Zero fields do not filter.
type LogFilter struct {
	Scope Scope
	// Since (inclusive) and Until (exclusive) bound started_at.
	Since, Until time.Time
	// Status selects one status; StatusClass one of 2xx, 4xx, 5xx.
	Status      int
	StatusClass string
	ConsumerID  uint64
	ServiceID   uint64
	Model       string
	RequestID   string
	Endpoint    string
	// Cursor is the NextCursor of the previous page; empty for the first.
	Cursor string
	// Limit is the page size (default DefaultLogLimit, at most MaxLogLimit).
	Limit int
}

// LogSummary is one record as the log list shows it: everything but the
// bodies and the attempts. Durations are microseconds.
type LogSummary struct {
	ID             string    `json:"id" gorm:"column:id"`
	RequestID      string    `json:"request_id" gorm:"column:request_id"`
	StartedAt      time.Time `json:"started_at" gorm:"column:started_at"`
	ConsumerID     uint64    `json:"consumer_id" gorm:"column:consumer_id"`
	KeyID          string    `json:"key_id" gorm:"column:key_id"`
	ServiceID      uint64    `json:"service_id" gorm:"column:service_id"`
	TeamID         uint64    `json:"team_id" gorm:"column:team_id"`
	Endpoint       string    `json:"endpoint" gorm:"column:endpoint"`
	PromptSlug     string    `json:"prompt_slug" gorm:"column:prompt_slug"`
	PromptVersion  int       `json:"prompt_version" gorm:"column:prompt_version"`
	Model          string    `json:"model" gorm:"column:model"`
	Provider       string    `json:"provider" gorm:"column:provider"`
	UpstreamModel  string    `json:"upstream_model" gorm:"column:upstream_model"`
	Status         int       `json:"status" gorm:"column:status"`
	Error          string    `json:"error" gorm:"column:error"`
	Stream         bool      `json:"stream" gorm:"column:stream"`
	TokensIn       int64     `json:"tokens_in" gorm:"column:tokens_in"`
	TokensOut      int64     `json:"tokens_out" gorm:"column:tokens_out"`
	UsageEstimated bool      `json:"usage_estimated" gorm:"column:usage_estimated"`
	Cost           float64   `json:"cost" gorm:"column:cost"`
	BytesIn        int64     `json:"bytes_in" gorm:"column:bytes_in"`
	BytesOut       int64     `json:"bytes_out" gorm:"column:bytes_out"`
	ClientAddr     string    `json:"client_addr" gorm:"column:client_addr"`
	AuthUS         int64     `json:"auth_us" gorm:"column:auth_us"`
	RoutingUS      int64     `json:"routing_us" gorm:"column:routing_us"`
	TotalUS        int64     `json:"total_us" gorm:"column:total_us"`
	TTFTUS         int64     `json:"ttft_us" gorm:"column:ttft_us"`
}

// summaryColumns are the columns of LogSummary.
const summaryColumns = "id, request_id, started_at, consumer_id, key_id, service_id, team_id, endpoint, prompt_slug, prompt_version, " +
	"model, provider, upstream_model, status, error, stream, tokens_in, tokens_out, usage_estimated, cost, " +
	"bytes_in, bytes_out, client_addr, auth_us, routing_us, total_us, ttft_us"

// LogPage is one page of List.
type LogPage struct {
	Data []LogSummary `json:"data"`
	// NextCursor fetches the next (older) page; empty on the last page.
	NextCursor string `json:"next_cursor"`
}

// List returns one page of records, newest first (started_at, then id,
// descending). Pages follow a keyset cursor, so walking them neither skips
// nor repeats a record, however many are written meanwhile.
func (r *Reader) List(ctx context.Context, f LogFilter) (*LogPage, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultLogLimit
	}
	if limit > MaxLogLimit {
		return nil, badParam("limit", "limit must be from 1 to %d", MaxLogLimit)
	}
	q := f.Scope.where(r.db.WithContext(ctx).Table("call_logs"))
	if !f.Since.IsZero() {
		q = q.Where("started_at >= ?", f.Since.UTC())
	}
	if !f.Until.IsZero() {
		q = q.Where("started_at < ?", f.Until.UTC())
	}
	if f.Status != 0 {
		q = q.Where("status = ?", f.Status)
	}
	switch f.StatusClass {
	case "":
	case "2xx", "3xx", "4xx", "5xx":
		lo := int(f.StatusClass[0]-'0') * 100
		q = q.Where("status BETWEEN ? AND ?", lo, lo+99)
	default:
		return nil, badParam("status", "status must be a status code or one of 2xx, 3xx, 4xx, 5xx")
	}
	for _, c := range []struct {
		col string
		v   any
		set bool
	}{
		{"consumer_id", f.ConsumerID, f.ConsumerID != 0},
		{"service_id", f.ServiceID, f.ServiceID != 0},
		{"model", f.Model, f.Model != ""},
		{"request_id", f.RequestID, f.RequestID != ""},
		{"endpoint", f.Endpoint, f.Endpoint != ""},
	} {
		if c.set {
			q = q.Where(c.col+" = ?", c.v)
		}
	}
	if f.Cursor != "" {
		at, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, err
		}
		q = q.Where("(started_at < ? OR (started_at = ? AND id < ?))", at, at, id)
	}
	rows := make([]LogSummary, 0, limit+1)
	if err := q.Select(summaryColumns).Order("started_at DESC, id DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, err
	}
	page := &LogPage{Data: rows}
	if len(rows) > limit {
		page.Data = rows[:limit]
		last := rows[limit-1]
		page.NextCursor = encodeCursor(last.StartedAt, last.ID)
	}
	for i := range page.Data {
		page.Data[i].StartedAt = page.Data[i].StartedAt.UTC()
	}
	return page, nil
}

// A cursor is the (started_at, id) of the last record of a page, as the
// database returned it (so its precision matches the column's).
func encodeCursor(at time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(at.UTC().Format(time.RFC3339Nano) + "|" + id))
}

func decodeCursor(s string) (time.Time, string, error) {
	bad := badParam("cursor", "cursor must be the next_cursor of a previous page")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return time.Time{}, "", bad
	}
	ts, id, ok := strings.Cut(string(b), "|")
	if !ok || id == "" {
		return time.Time{}, "", bad
	}
	at, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return time.Time{}, "", bad
	}
	return at.UTC(), id, nil
}

// LogDetail is one record with its attempts, bodies and waterfall.
type LogDetail struct {
	LogSummary
	Attempts     []Attempt `json:"attempts"`
	RequestBody  *string   `json:"request_body"`
	ResponseBody *string   `json:"response_body"`
	Waterfall    Waterfall `json:"waterfall"`
}

// detailRow is the columns Get reads beyond the summary.
type detailRow struct {
	LogSummary
	Attempts     string  `gorm:"column:attempts"`
	RequestBody  *string `gorm:"column:request_body"`
	ResponseBody *string `gorm:"column:response_body"`
}

// Get returns one record with its waterfall; ErrNotFound when it does not
// exist or belongs to a team outside scope.
func (r *Reader) Get(ctx context.Context, scope Scope, id string) (*LogDetail, error) {
	var rows []detailRow
	q := scope.where(r.db.WithContext(ctx).Table("call_logs")).Where("id = ?", id)
	if err := q.Select(summaryColumns + ", attempts, request_body, response_body").Limit(1).Find(&rows).Error; err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, ErrNotFound
	}
	row := rows[0]
	row.StartedAt = row.StartedAt.UTC()
	attempts, err := DecodeAttempts(row.Attempts)
	if err != nil {
		return nil, fmt.Errorf("call log %s: attempts: %w", id, err)
	}
	if attempts == nil {
		attempts = []Attempt{}
	}
	d := &LogDetail{LogSummary: row.LogSummary, Attempts: attempts, RequestBody: row.RequestBody, ResponseBody: row.ResponseBody}
	d.Waterfall = BuildWaterfall(us(row.AuthUS), us(row.RoutingUS), us(row.TotalUS), us(row.TTFTUS), attempts)
	return d, nil
}

func us(v int64) time.Duration { return time.Duration(v) * time.Microsecond }

// isSQLite and friends name the Reader's database.
func (r *Reader) isPostgres() bool { return r.driver == config.Postgres }
func (r *Reader) isMySQL() bool    { return r.driver == config.MySQL }
