package calllog

import (
	"math"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/sluicehq/sluice/internal/config"
)

// coarseTables are the hourly and daily rollups (migration 6): the minute
// rows of a batch summed again per hour and per UTC day, so a month's chart
// reads hundreds of rows, not a million. Each is (table, minutes per bucket).
var coarseTables = []struct {
	table   string
	minutes int64
}{{"call_rollups_hourly", 60}, {"call_rollups_daily", 1440}}

// upsertCoarse adds a batch's minute sums to the hourly and daily rollups,
// in the batch's transaction tx.
func (s *gormStore) upsertCoarse(tx *gorm.DB, keys []rollupKey, sums map[rollupKey]*rollupSums) error {
	chunk := coarseRows
	for _, ct := range coarseTables {
		folded := map[rollupKey]*rollupSums{}
		var order []rollupKey
		for _, k := range keys {
			ck := k
			ck.minute -= ck.minute % ct.minutes
			dst := folded[ck]
			if dst == nil {
				dst = &rollupSums{}
				folded[ck] = dst
				order = append(order, ck)
			}
			dst.add(sums[k])
		}
		for i := 0; i < len(order); i += chunk {
			sql, args := s.coarseInsert(ct.table, order[i:min(i+chunk, len(order))], folded)
			if err := tx.Exec(sql, args...).Error; err != nil {
				return err
			}
		}
	}
	return nil
}

// coarseRows is the most rows of one coarse upsert.
const coarseRows = 400

// coarseInsert is one multi-row upsert into table, written by hand for the
// writer's hot path: the counters are integer literals (and the cost a
// float literal), so only the key's strings and time are bound and a
// batch's rows fit one statement even on SQLite, whose driver binds
// parameters in time quadratic in their number.
func (s *gormStore) coarseInsert(table string, keys []rollupKey, sums map[rollupKey]*rollupSums) (string, []any) {
	cols := append(append([]string(nil), rollupKeyColumns...), rollupSumColumns...)
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
	args := make([]any, 0, len(keys)*7)
	num := func(v int64) {
		b.WriteString(", ")
		b.WriteString(strconv.FormatInt(v, 10))
	}
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ")
		b.WriteString(strconv.FormatUint(k.service, 10) + ", " + strconv.FormatUint(k.consumer, 10) + ", " + strconv.FormatUint(k.team, 10))
		b.WriteString(", ?, ?, ?, ?, ?")
		args = append(args, time.Unix(k.minute*60, 0).UTC(), k.model, k.provider, k.endpoint, k.cls, k.prompt)
		m := sums[k]
		num(m.requests)
		num(m.errors)
		num(m.tokensIn)
		num(m.tokensOut)
		cost := m.cost
		if math.IsNaN(cost) || math.IsInf(cost, 0) {
			cost = 0
		}
		b.WriteString(", " + strconv.FormatFloat(cost, 'g', -1, 64))
		for _, v := range []int64{m.bytesIn, m.bytesOut, m.latencyUS, m.ttftUS, m.ttftCount} {
			num(v)
		}
		for _, v := range m.lat {
			num(v)
		}
		for _, v := range m.ttft {
			num(v)
		}
		b.WriteString(")")
	}
	set := make([]string, len(rollupSumColumns))
	for i, c := range rollupSumColumns {
		if s.driver == config.MySQL {
			set[i] = c + " = " + c + " + VALUES(" + c + ")"
		} else {
			set[i] = c + " = " + table + "." + c + " + excluded." + c
		}
	}
	if s.driver == config.MySQL {
		b.WriteString(" ON DUPLICATE KEY UPDATE ")
	} else {
		b.WriteString(" ON CONFLICT (" + strings.Join(rollupKeyColumns, ", ") + ") DO UPDATE SET ")
	}
	b.WriteString(strings.Join(set, ", "))
	return b.String(), args
}

func (s *rollupSums) add(o *rollupSums) {
	s.requests += o.requests
	s.errors += o.errors
	s.tokensIn += o.tokensIn
	s.tokensOut += o.tokensOut
	s.bytesIn += o.bytesIn
	s.bytesOut += o.bytesOut
	s.latencyUS += o.latencyUS
	s.ttftUS += o.ttftUS
	s.ttftCount += o.ttftCount
	s.cost += o.cost
	for i := range s.lat {
		s.lat[i] += o.lat[i]
		s.ttft[i] += o.ttft[i]
	}
}
