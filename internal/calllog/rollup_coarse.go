package calllog

import (
	"context"
	"strings"

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

// upsertRollups adds a batch's minute sums to call_rollups and to the
// hourly and daily rollups, on the batch's transaction conn.
func (s *gormStore) upsertRollups(ctx context.Context, conn gorm.ConnPool, keys []rollupKey, sums map[rollupKey]*rollupSums) error {
	w := newSQLWriter(s.driver)
	if err := s.upsertTable(ctx, conn, w, "call_rollups", keys, sums); err != nil {
		return err
	}
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
		if err := s.upsertTable(ctx, conn, w, ct.table, order, folded); err != nil {
			return err
		}
	}
	return nil
}

// rollupRows is the most rows of one rollup upsert.
const rollupRows = 400

func (s *gormStore) upsertTable(ctx context.Context, conn gorm.ConnPool, w *sqlWriter, table string, keys []rollupKey, sums map[rollupKey]*rollupSums) error {
	for i := 0; i < len(keys); i += rollupRows {
		w.reset()
		s.rollupInsert(w, table, keys[i:min(i+rollupRows, len(keys))], sums)
		if err := w.exec(ctx, conn); err != nil {
			return err
		}
	}
	return nil
}

// rollupInsert writes one multi-row upsert into table: the counters are
// integer literals (and the cost a float literal), so only the key's
// strings and time are bound.
func (s *gormStore) rollupInsert(w *sqlWriter, table string, keys []rollupKey, sums map[rollupKey]*rollupSums) {
	w.raw("INSERT INTO " + table + " (" + strings.Join(rollupKeyColumns, ", ") + ", " + strings.Join(rollupSumColumns, ", ") + ") VALUES ")
	for i, k := range keys {
		if i > 0 {
			w.comma()
		}
		w.raw("(")
		w.bind(bucketTime(k.minute))
		w.comma()
		w.uint(k.service)
		w.comma()
		w.uint(k.consumer)
		w.comma()
		w.uint(k.team)
		for _, v := range []string{k.model, k.provider, k.endpoint, k.cls, k.prompt} {
			w.comma()
			w.str(v)
		}
		m := sums[k]
		for _, v := range []int64{m.requests, m.errors, m.tokensIn, m.tokensOut} {
			w.comma()
			w.int(v)
		}
		w.comma()
		w.float(m.cost)
		for _, v := range []int64{m.bytesIn, m.bytesOut, m.latencyUS, m.ttftUS, m.ttftCount} {
			w.comma()
			w.int(v)
		}
		for _, v := range m.lat {
			w.comma()
			w.int(v)
		}
		for _, v := range m.ttft {
			w.comma()
			w.int(v)
		}
		w.raw(")")
	}
	if s.driver == config.MySQL {
		w.raw(" ON DUPLICATE KEY UPDATE ")
	} else {
		w.raw(" ON CONFLICT (" + strings.Join(rollupKeyColumns, ", ") + ") DO UPDATE SET ")
	}
	for i, c := range rollupSumColumns {
		if i > 0 {
			w.comma()
		}
		if s.driver == config.MySQL {
			w.raw(c + " = " + c + " + VALUES(" + c + ")")
		} else {
			w.raw(c + " = " + table + "." + c + " + excluded." + c)
		}
	}
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
