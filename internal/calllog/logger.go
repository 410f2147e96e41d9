// Package calllog writes the call log: one Record per data-plane call,
// handed to Logger.Log, which only enqueues it in a bounded in-memory queue
// and never blocks or touches the database. A background writer drains the
// queue in batches (BatchSize records or FlushInterval, whichever comes
// first) and writes each batch in one transaction: a multi-row INSERT into
// call_logs and an upsert of the per-minute rollups in call_rollups, so a
// batch is all or nothing.
//
// Nothing is dropped silently. When the database fails or is slow, records
// spill to JSON-lines files in Options.SpillDir (synced per write, rotated
// by size): a batch whose write fails is spilled, batches go straight to
// the spill files while the database stays down, and when the queue is
// full Log hands records to an overflow buffer that a second goroutine
// spills. Once the database answers again, and at start for files left by
// an earlier run, the writer replays the files in order and deletes them.
// Every record carries a UUIDv7 id assigned before it is first written, and
// a batch inserts only the ids not yet in call_logs (adding only their
// rollups), so a replay interrupted by a crash and repeated neither
// duplicates rows nor double-counts rollups. Records are dropped, counted
// in sluice_calllog_dropped_total and logged at error level, only when the
// spill file cannot be written, when the overflow buffer is full as well
// (the disk cannot keep up), or when a spill line is corrupt (it is kept
// in a .bad file beside the spill file).
//
// Close stops accepting (later records are spilled synchronously), drains
// the queue to the database, or to the spill files if the database is
// down or Close's context expires, and returns with no record lost.
//
// What a crash (kill -9, power loss) can lose is what is only in memory:
// the queue (at most QueueSize records), the batch being built or written
// (at most BatchSize records, FlushInterval's worth of traffic) and the
// overflow buffer not yet spilled (at most OverflowSize). Smaller values
// bound the loss at the cost of more, smaller transactions and earlier
// spilling. Spilled records survive a crash: each spill write is synced.
//
// One Logger owns its spill directory; replicas on one host need one
// directory each. The package imports GORM, Prometheus and internal/db,
// internal/config; nothing imports it but the server's wiring and the
// data-plane handlers that build records.
package calllog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicehq/sluice/internal/db"
)

// Options configure a Logger. Zero values take the defaults.
type Options struct {
	// SpillDir is the directory for spill files, e.g. DATA_DIR/calllog-spill;
	// required. It is created if missing.
	SpillDir string
	// Registerer receives the package's metrics; nil keeps them private.
	Registerer prometheus.Registerer
	// Logger reports write failures, spills and drops; nil discards.
	Logger *slog.Logger
	// Clock stamps records that come without a start time.
	Clock interface{ Now() time.Time }
	// QueueSize is how many records wait in memory for the writer
	// (default 10000).
	QueueSize int
	// OverflowSize is how many records may wait in memory to be spilled
	// when the queue is full (default 10 × QueueSize): a burst beyond it,
	// faster than the spill files absorb, is dropped.
	OverflowSize int
	// BatchSize is the most records written in one transaction
	// (default 500).
	BatchSize int
	// FlushInterval is the longest a record waits for its batch to fill
	// (default 200ms).
	FlushInterval time.Duration
	// RetryInterval is how often the database is tried again while it is
	// down (default 2s).
	RetryInterval time.Duration
	// WriteTimeout bounds one batch's transaction (default 10s).
	WriteTimeout time.Duration
	// MaxSpillFileBytes starts a new spill file once the current one is
	// this large (default 16 MiB).
	MaxSpillFileBytes int64
	// Observe, when set, is called by the writer once per record before
	// it is first written or spilled, e.g. DataPlaneMetrics.Observe.
	Observe func(*Record)
}

func (o *Options) defaults() {
	if o.QueueSize <= 0 {
		o.QueueSize = 10000
	}
	if o.OverflowSize <= 0 {
		o.OverflowSize = 10 * o.QueueSize
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 500
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = 200 * time.Millisecond
	}
	if o.RetryInterval <= 0 {
		o.RetryInterval = 2 * time.Second
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.MaxSpillFileBytes <= 0 {
		o.MaxSpillFileBytes = 16 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = realClock{}
	}
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// Logger queues records and writes them to the database in batches.
type Logger struct {
	opts  Options
	log   *slog.Logger
	store store
	spill *spillWriter
	m     *metrics

	queue    chan *Record
	inflight atomic.Int64 // Log calls between their closed check and their send
	closed   atomic.Bool

	ovMu     sync.Mutex
	overflow []*Record
	ovSignal chan struct{}

	spillPending atomic.Bool // spill files may exist
	dropped      atomic.Int64
	lastDropLog  atomic.Int64

	runCtx    context.Context // cancelled when Close's context expires
	cancelRun context.CancelFunc
	stop      chan struct{}
	done      chan struct{} // writer exited
	ovDone    chan struct{} // spiller exited

	// writer goroutine state
	down    bool
	lastTry time.Time
}

// New starts a Logger writing to d. It replays spill files left in
// opts.SpillDir by an earlier run in the background.
func New(d *db.DB, opts Options) (*Logger, error) {
	return newLogger(&gormStore{db: d.Gorm, driver: d.Driver}, opts)
}

func newLogger(st store, opts Options) (*Logger, error) {
	if opts.SpillDir == "" {
		return nil, errors.New("calllog: a spill directory is required")
	}
	opts.defaults()
	sw, err := newSpillWriter(opts.SpillDir, opts.MaxSpillFileBytes)
	if err != nil {
		return nil, err
	}
	l := &Logger{
		opts: opts, log: opts.Logger, store: st, spill: sw,
		queue:    make(chan *Record, opts.QueueSize),
		ovSignal: make(chan struct{}, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
		ovDone:   make(chan struct{}),
	}
	l.runCtx, l.cancelRun = context.WithCancel(context.Background())
	l.m, err = newMetrics(opts.Registerer, l.depth)
	if err != nil {
		return nil, err
	}
	if files, err := listSpill(opts.SpillDir); err != nil {
		return nil, fmt.Errorf("calllog: %w", err)
	} else if len(files) > 0 {
		l.spillPending.Store(true)
	}
	go l.run()
	go l.spiller()
	return l, nil
}

// Log hands r to the writer; the Logger owns r afterwards and the caller
// must not change it. Log never blocks on the database: it puts r in the
// queue or, when the queue is full, in the overflow buffer that is spilled
// to disk. After Close, r is spilled at once.
func (l *Logger) Log(r *Record) {
	if r == nil {
		return
	}
	l.inflight.Add(1)
	if l.closed.Load() {
		l.inflight.Add(-1)
		l.m.records.Inc()
		l.spillSync([]*Record{r}, "logger closed")
		return
	}
	select {
	case l.queue <- r:
	default:
		l.addOverflow(r)
	}
	l.inflight.Add(-1)
}

func (l *Logger) addOverflow(r *Record) {
	l.ovMu.Lock()
	if len(l.overflow) >= l.opts.OverflowSize {
		l.ovMu.Unlock()
		l.m.records.Inc()
		l.drop(1, "queue and overflow buffer full: the spill files cannot keep up", nil)
		return
	}
	l.overflow = append(l.overflow, r)
	l.ovMu.Unlock()
	select {
	case l.ovSignal <- struct{}{}:
	default:
	}
}

// depth is the records waiting in memory, for the queue-depth gauge.
func (l *Logger) depth() float64 {
	l.ovMu.Lock()
	n := len(l.overflow)
	l.ovMu.Unlock()
	return float64(len(l.queue) + n)
}

// Close stops accepting records and writes out everything queued: to the
// database, or to the spill files when the database fails or ctx expires
// (ctx bounds the database writes, not the local spill). It returns an
// error only if records had to be dropped.
func (l *Logger) Close(ctx context.Context) error {
	if !l.closed.CompareAndSwap(false, true) {
		<-l.done
		<-l.ovDone
		return nil
	}
	for l.inflight.Load() != 0 {
		time.Sleep(10 * time.Microsecond)
	}
	droppedBefore := l.dropped.Load()
	stopCancel := context.AfterFunc(ctx, l.cancelRun)
	defer stopCancel()
	close(l.stop)
	<-l.done
	<-l.ovDone
	l.spill.close()
	l.cancelRun()
	if n := l.dropped.Load() - droppedBefore; n > 0 {
		return fmt.Errorf("calllog: %d records dropped while closing", n)
	}
	return nil
}

// prepare assigns what a record needs before it is first written: its id,
// a start time, a cost JSON and SQL can store.
func (l *Logger) prepare(r *Record) {
	if r.StartedAt.IsZero() {
		r.StartedAt = l.opts.Clock.Now()
	}
	r.StartedAt = r.StartedAt.UTC()
	if math.IsNaN(r.Cost) || math.IsInf(r.Cost, 0) {
		r.Cost = 0
	}
	if r.ID == "" { // first seen: replays of spilled records are not counted again
		r.ID = newID(r.StartedAt)
		if l.opts.Observe != nil {
			l.opts.Observe(r)
		}
	}
}

// run is the writer goroutine.
func (l *Logger) run() {
	defer close(l.done)
	if l.spillPending.Load() {
		l.lastTry = time.Now()
		if !l.replayAll() {
			l.down = true
		}
	}
	ticker := time.NewTicker(l.opts.FlushInterval)
	defer ticker.Stop()
	batch := make([]*Record, 0, l.opts.BatchSize)
	flush := func() {
		if len(batch) > 0 {
			l.flush(batch)
			clear(batch)
			batch = batch[:0]
		}
	}
	for {
		select {
		case r := <-l.queue:
			batch = append(batch, r)
			if len(batch) >= l.opts.BatchSize {
				flush()
			}
		case <-ticker.C:
			flush()
			l.tick()
		case <-l.stop:
			for {
				select {
				case r := <-l.queue:
					batch = append(batch, r)
					if len(batch) >= l.opts.BatchSize {
						flush()
					}
					continue
				default:
				}
				break
			}
			flush()
			return
		}
	}
}

// flush writes one batch, or spills it when the database is down or the
// write fails.
func (l *Logger) flush(batch []*Record) {
	for _, r := range batch {
		l.prepare(r)
	}
	l.m.records.Add(float64(len(batch)))
	if l.down || l.runCtx.Err() != nil {
		l.spillSync(batch, "database unavailable")
		return
	}
	if err := l.write(batch); err != nil {
		l.markDown(err)
		l.spillSync(batch, "database write failed")
	}
}

func (l *Logger) write(batch []*Record) error {
	start := time.Now()
	ctx, cancel := context.WithTimeout(l.runCtx, l.opts.WriteTimeout)
	_, err := l.store.insert(ctx, batch, false)
	cancel()
	l.m.batchSeconds.Observe(time.Since(start).Seconds())
	return err
}

func (l *Logger) markDown(err error) {
	if !l.down {
		l.log.Warn("call log: database write failed, spilling to disk until it recovers",
			"err", err, "dir", l.opts.SpillDir, "retry", l.opts.RetryInterval)
	}
	l.m.writeErrors.Inc()
	l.down = true
	l.lastTry = time.Now()
}

// tick retries the database while it is down, and replays spill files
// once it answers.
func (l *Logger) tick() {
	if l.runCtx.Err() != nil {
		return
	}
	if l.down {
		if time.Since(l.lastTry) < l.opts.RetryInterval {
			return
		}
		l.lastTry = time.Now()
		l.down = false // the replay, or else the next batch, tells
	}
	if l.spillPending.Load() && !l.replayAll() {
		l.down = true
	}
}

// replayAll writes every spill file to the database, oldest first, and
// removes each once it is written. It returns false when the database
// failed; the files left are tried again later.
func (l *Logger) replayAll() bool {
	l.spillPending.Store(false)
	files, err := l.spill.rotate()
	if err != nil {
		l.log.Error("call log: cannot list spill files", "dir", l.opts.SpillDir, "err", err)
		l.spillPending.Store(true)
		return true
	}
	for _, path := range files {
		if err := l.replayFile(path); err != nil {
			l.spillPending.Store(true)
			l.m.writeErrors.Inc()
			l.lastTry = time.Now()
			l.log.Warn("call log: replay of spill file failed, will retry", "file", path, "err", err)
			return false
		}
	}
	return true
}

func (l *Logger) replayFile(path string) error {
	replayed := 0
	bad, err := readSpill(path, l.opts.BatchSize, func(recs []*Record) error {
		for _, r := range recs {
			l.prepare(r)
		}
		start := time.Now()
		ctx, cancel := context.WithTimeout(l.runCtx, l.opts.WriteTimeout)
		n, err := l.store.insert(ctx, recs, true)
		cancel()
		l.m.batchSeconds.Observe(time.Since(start).Seconds())
		if err != nil {
			return err
		}
		replayed += n
		l.m.replayed.Add(float64(n))
		return nil
	})
	if err != nil {
		return err
	}
	if len(bad) > 0 {
		for _, b := range bad {
			text := b.text
			if len(text) > 200 {
				text = text[:200]
			}
			l.log.Error("call log: corrupt spill line skipped", "file", path, "line", b.line, "err", b.err, "text", string(text))
		}
		kerr := keepBad(path, bad)
		l.drop(len(bad), "corrupt spill lines (kept in "+path+badSuffix+")", kerr)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		// Leaving it means a later replay: its records are skipped as
		// already present.
		l.log.Error("call log: cannot remove replayed spill file", "file", path, "err", err)
	}
	syncDir(l.opts.SpillDir)
	l.log.Info("call log: spill file replayed", "file", path, "inserted", replayed, "bad_lines", len(bad))
	return nil
}

// spillSync writes prepared records to the spill files.
func (l *Logger) spillSync(recs []*Record, why string) {
	for _, r := range recs {
		if r.ID == "" {
			l.prepare(r)
		}
	}
	if err := l.spill.write(recs); err != nil {
		l.drop(len(recs), "spill file not writable ("+why+")", err)
		return
	}
	l.m.spilled.Add(float64(len(recs)))
	l.spillPending.Store(true)
}

// spiller is the goroutine that spills the overflow buffer.
func (l *Logger) spiller() {
	defer close(l.ovDone)
	for {
		select {
		case <-l.ovSignal:
			l.spillOverflow()
		case <-l.stop:
			l.spillOverflow()
			return
		}
	}
}

func (l *Logger) spillOverflow() {
	l.ovMu.Lock()
	recs := l.overflow
	l.overflow = nil
	l.ovMu.Unlock()
	if len(recs) == 0 {
		return
	}
	for _, r := range recs {
		l.prepare(r)
	}
	l.m.records.Add(float64(len(recs)))
	l.spillSync(recs, "queue full")
}

// drop counts lost records and logs it loudly, at most once a second
// unless err is set.
func (l *Logger) drop(n int, why string, err error) {
	l.dropped.Add(int64(n))
	l.m.dropped.Add(float64(n))
	now := time.Now().UnixNano()
	last := l.lastDropLog.Load()
	if err != nil || now-last >= int64(time.Second) && l.lastDropLog.CompareAndSwap(last, now) {
		l.log.Error("call log: RECORDS DROPPED", "count", n, "reason", why, "err", err, "dir", l.opts.SpillDir)
	}
}
