package calllog

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/config"
)

// discardStore accepts every batch, so BenchmarkLog measures the enqueue
// with a writer that keeps up.
type discardStore struct{}

func (discardStore) insert(_ context.Context, recs []*Record, _ bool) (int, error) {
	return len(recs), nil
}

func benchLogger(b *testing.B) *Logger {
	l, err := newLogger(discardStore{}, Options{SpillDir: b.TempDir(), QueueSize: 1 << 16})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = l.Close(context.Background()) })
	return l
}

// BenchmarkLog is the cost on the request path: building nothing, handing
// one record to Log (the record itself is allocated by the caller and
// counted here).
func BenchmarkLog(b *testing.B) {
	l := benchLogger(b)
	b.ReportAllocs()
	for b.Loop() {
		l.Log(&Record{RequestID: "req", Endpoint: "chat", Model: "gpt-4o", Status: 200, Total: time.Second})
	}
}

// BenchmarkLogParallel is Log under contention from every P.
func BenchmarkLogParallel(b *testing.B) {
	l := benchLogger(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.Log(&Record{RequestID: "req", Endpoint: "chat", Model: "gpt-4o", Status: 200, Total: time.Second})
		}
	})
}

// BenchmarkWriteBatch is the writer's throughput on SQLite: one
// transaction of 500 rows plus their rollup upserts per iteration.
func BenchmarkWriteBatch(b *testing.B) {
	h, _ := migrated(b, config.SQLite)
	st := &gormStore{db: h.Gorm, driver: h.Driver}
	l := &Logger{opts: Options{Clock: realClock{}}}
	const batch = 500
	n := 0
	cpu0 := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		recs := genRecords(n, batch)
		for _, r := range recs {
			l.prepare(r)
		}
		n += batch
		if _, err := st.insert(context.Background(), recs, false); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
	// CPU per record is steadier than time on a shared machine.
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(n), "cpu-µs/record")
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkWriteBatchRows is BenchmarkWriteBatch by rows per INSERT on
// SQLite (sqliteLogRows).
func BenchmarkWriteBatchRows(b *testing.B) {
	defer func(n int) { sqliteLogRows = n }(sqliteLogRows)
	for _, rows := range []int{16, 32, 64, 128, 256} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			sqliteLogRows = rows
			BenchmarkWriteBatch(b)
		})
	}
}
