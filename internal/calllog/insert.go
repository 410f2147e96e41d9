package calllog

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/sluicehq/sluice/internal/config"
)

// The writer's SQL, written by hand: GORM's CreateInBatches reflects over
// every row and binds every value, and the cgo-free SQLite driver matches
// each bound parameter to its argument by a linear scan (quadratic in the
// parameters of a statement) and compiles every statement it runs. Here
// each statement is a multi-row INSERT whose numbers, and strings made of
// plain characters (ids, names, addresses), are literals; only the start
// time and other strings are bound, so a statement can hold many rows and
// its compilation is shared by them. Statements go straight to the
// transaction's connection. TestRawInsertMatchesGORM checks on every
// database that the rows are those GORM wrote.

// logColumns are the columns of call_logs the writer fills, in the order
// of logValues.
var logColumns = []string{
	"id", "request_id", "started_at", "consumer_id", "key_id", "service_id", "team_id", "endpoint",
	"prompt_slug", "prompt_version", "model", "provider", "upstream_model", "status", "error", "stream",
	"tokens_in", "tokens_out", "usage_estimated", "cost", "bytes_in", "bytes_out", "client_addr",
	"auth_us", "routing_us", "total_us", "ttft_us", "attempts", "request_body", "response_body",
}

// sqlWriter builds one statement: its text and its bound arguments, with
// the placeholders of the database ("?", or "$n" on PostgreSQL).
type sqlWriter struct {
	b        strings.Builder
	args     []any
	dollar   bool
	argBytes int // bytes of bound strings, to bound a statement's size
}

func newSQLWriter(driver string) *sqlWriter {
	return &sqlWriter{dollar: driver == config.Postgres}
}

func (w *sqlWriter) reset() {
	w.b.Reset()
	w.args = w.args[:0]
	w.argBytes = 0
}

func (w *sqlWriter) raw(s string) { w.b.WriteString(s) }

// bind appends a placeholder for v.
func (w *sqlWriter) bind(v any) {
	w.args = append(w.args, v)
	if w.dollar {
		w.b.WriteByte('$')
		w.b.WriteString(strconv.Itoa(len(w.args)))
	} else {
		w.b.WriteByte('?')
	}
}

// str writes s as a literal when it is short and made only of
// characters no SQL dialect treats specially inside quotes (ids, names,
// addresses), and binds it otherwise.
func (w *sqlWriter) str(s string) {
	if len(s) <= maxLiteral && plainLiteral(s) {
		w.b.WriteByte('\'')
		w.b.WriteString(s)
		w.b.WriteByte('\'')
		return
	}
	w.argBytes += len(s)
	w.bind(s)
}

// maxLiteral is the longest string written as a literal.
const maxLiteral = 200

// plainLiteral reports whether s holds only ASCII letters, digits and
// " #%+,-./:;=[]_" (no quote, no backslash, no control character), so
// that '...' is the same string in SQLite, PostgreSQL and MySQL.
func plainLiteral(s string) bool {
	for i := 0; i < len(s); i++ {
		if !plainByte[s[i]] {
			return false
		}
	}
	return true
}

var plainByte = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for _, c := range " #%+,-./:;=[]_" {
		t[c] = true
	}
	return t
}()

// strPtr binds *s, or writes NULL.
func (w *sqlWriter) strPtr(s *string) {
	if s == nil {
		w.b.WriteString("NULL")
		return
	}
	w.str(*s)
}

func (w *sqlWriter) int(v int64) { w.b.WriteString(strconv.FormatInt(v, 10)) }

func (w *sqlWriter) uint(v uint64) { w.b.WriteString(strconv.FormatUint(v, 10)) }

// bool writes TRUE or FALSE, which every supported database takes for a
// boolean column (SQLite and MySQL store 1 or 0, as a bound bool).
func (w *sqlWriter) bool(v bool) {
	if v {
		w.b.WriteString("TRUE")
	} else {
		w.b.WriteString("FALSE")
	}
}

// float writes v as a literal; NaN and infinities, which SQL cannot store,
// as 0.
func (w *sqlWriter) float(v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		v = 0
	}
	w.b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
}

func (w *sqlWriter) comma() { w.b.WriteString(", ") }

// exec runs the statement on conn.
func (w *sqlWriter) exec(ctx context.Context, conn gorm.ConnPool) error {
	_, err := conn.ExecContext(ctx, w.b.String(), w.args...)
	return err
}

// logRows returns the most rows of one INSERT into call_logs.
func (s *gormStore) logRows() int {
	if s.driver == config.SQLite {
		return sqliteLogRows
	}
	return 500
}

// maxStatementBytes ends a statement early once its text and bound strings
// reach it: bodies can be 60 KB each, and MySQL's max_allowed_packet
// (4 MiB by default on older servers) bounds one statement.
const maxStatementBytes = 1 << 20

// sqliteLogRows is the rows of one INSERT on SQLite, where the driver
// compiles every statement it executes: more rows share that work, and
// with about one bound parameter a row its quadratic parameter matching
// stays small (BenchmarkWriteBatchRows: 16 rows 61, 64 rows 42, 128 rows
// 41 CPU-µs per record on a shared 2-core VM).
var sqliteLogRows = 128

// insertLogs inserts rows into call_logs on conn, skipping ids already
// there.
func (s *gormStore) insertLogs(ctx context.Context, conn gorm.ConnPool, recs []*Record) error {
	maxRows := s.logRows()
	w := newSQLWriter(s.driver)
	w.args = make([]any, 0, min(len(recs), maxRows)*8)
	head := "INSERT INTO call_logs (" + strings.Join(logColumns, ", ") + ") VALUES "
	tail := " ON CONFLICT (id) DO NOTHING"
	if s.driver == config.MySQL {
		tail = " ON DUPLICATE KEY UPDATE id = id"
	}
	n := 0
	for i, r := range recs {
		if n == 0 {
			w.reset()
			w.raw(head)
		} else {
			w.comma()
		}
		s.logValues(w, r)
		n++
		if n == maxRows || w.b.Len()+w.argBytes >= maxStatementBytes || i == len(recs)-1 {
			w.raw(tail)
			if err := w.exec(ctx, conn); err != nil {
				return err
			}
			n = 0
		}
	}
	return nil
}

// logValues writes the parenthesised values of r's row in logColumns
// order, strings clipped to their column sizes.
func (s *gormStore) logValues(w *sqlWriter, r *Record) {
	w.raw("(")
	w.str(r.ID)
	w.comma()
	w.str(clip(r.RequestID, sizeRequestID))
	w.comma()
	w.bind(r.StartedAt)
	w.comma()
	w.uint(r.ConsumerID)
	w.comma()
	w.str(clip(r.KeyID, sizeKeyID))
	w.comma()
	w.uint(r.ServiceID)
	w.comma()
	w.uint(r.TeamID)
	w.comma()
	w.str(clip(r.Endpoint, sizeEndpoint))
	w.comma()
	w.str(clip(r.PromptSlug, sizePromptSlug))
	w.comma()
	w.int(int64(r.PromptVersion))
	w.comma()
	w.str(clip(r.Model, sizeModel))
	w.comma()
	w.str(clip(r.Provider, sizeProvider))
	w.comma()
	w.str(clip(r.UpstreamModel, sizeModel))
	w.comma()
	w.int(int64(r.Status))
	w.comma()
	w.str(clip(r.Error, sizeError))
	w.comma()
	w.bool(r.Stream)
	w.comma()
	w.int(r.TokensIn)
	w.comma()
	w.int(r.TokensOut)
	w.comma()
	w.bool(r.UsageEstimated)
	w.comma()
	w.float(r.Cost)
	w.comma()
	w.int(r.BytesIn)
	w.comma()
	w.int(r.BytesOut)
	w.comma()
	w.str(clip(r.ClientAddr, sizeClientAddr))
	w.comma()
	w.int(r.Auth.Microseconds())
	w.comma()
	w.int(r.Routing.Microseconds())
	w.comma()
	w.int(r.Total.Microseconds())
	w.comma()
	w.int(r.TTFT.Microseconds())
	w.comma()
	w.str(attemptsJSON(r.Attempts))
	w.comma()
	w.strPtr(clipPtr(r.RequestBody, MaxBodyBytes))
	w.comma()
	w.strPtr(clipPtr(r.ResponseBody, MaxBodyBytes))
	w.raw(")")
}

// bucketTime is the start of a rollup bucket given in Unix minutes.
func bucketTime(minute int64) time.Time { return time.Unix(minute*60, 0).UTC() }
