package calllog

import "github.com/prometheus/client_golang/prometheus"

// metrics are the Logger's Prometheus series.
type metrics struct {
	records, spilled, replayed, dropped, writeErrors prometheus.Counter
	batchSeconds                                     prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer, depth func() float64) (*metrics, error) {
	m := &metrics{
		records: prometheus.NewCounter(prometheus.CounterOpts{Name: "sluice_calllog_records_total",
			Help: "Call-log records taken from memory by the writer (written, spilled or dropped)."}),
		spilled: prometheus.NewCounter(prometheus.CounterOpts{Name: "sluice_calllog_spilled_total",
			Help: "Call-log records written to the local spill files instead of the database."}),
		replayed: prometheus.NewCounter(prometheus.CounterOpts{Name: "sluice_calllog_replayed_total",
			Help: "Spilled call-log records inserted into the database by a replay."}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "sluice_calllog_dropped_total",
			Help: "Call-log records lost: the spill file could not be written, or a spill line was corrupt."}),
		writeErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "sluice_calllog_write_errors_total",
			Help: "Failed call-log batch writes and replays (each one's records were kept in the spill files)."}),
		batchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sluice_calllog_batch_seconds",
			Help:    "Time to write one call-log batch (rows and rollups) to the database.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}),
	}
	depthGauge := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sluice_calllog_queue_depth",
		Help: "Call-log records waiting in memory (queue and overflow buffer)."}, depth)
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	for _, c := range []prometheus.Collector{m.records, m.spilled, m.replayed, m.dropped, m.writeErrors, m.batchSeconds, depthGauge} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
