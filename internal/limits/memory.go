package limits

import (
	"context"
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// memShards is the number of independently locked parts of a Memory.
const memShards = 64

// Memory is a Limiter counting in this process only. It is safe for
// concurrent use; entries whose windows are over are removed lazily.
type Memory struct {
	clock  Clock
	seed   maphash.Seed
	month  atomic.Pointer[monthSpan]
	shards [memShards]memShard
}

var _ Limiter = (*Memory)(nil)

// memShard is one lock's worth of subscriptions.
type memShard struct {
	mu        sync.Mutex
	subs      map[string]*counters
	nextSweep int64    // Unix ns of the next removal of finished entries
	_         [32]byte // keep neighbouring shards' locks off one cache line
}

// counters is one subscription's usage. Times are Unix nanoseconds.
type counters struct {
	reqStart, reqs int64 // RPM window start and requests counted in it
	tokStart, toks int64 // TPM window start and tokens counted in it
	month          int64 // month of monthToks (see monthOf)
	monthToks      int64
}

// monthSpan caches the bounds of the current month.
type monthSpan struct {
	id         int64
	start, end int64 // Unix ns, [start, end)
}

// NewMemory returns an in-process limiter reading the time from clock.
func NewMemory(clock Clock) *Memory {
	m := &Memory{clock: clock, seed: maphash.MakeSeed()}
	for i := range m.shards {
		m.shards[i].subs = make(map[string]*counters)
	}
	return m
}

// Admit implements Limiter. It never returns an error.
func (m *Memory) Admit(_ context.Context, sub string, l Limits, estTokens int) (Decision, error) {
	return m.admitAt(m.clock.Now(), sub, l, estTokens), nil
}

// Settle implements Limiter.
func (m *Memory) Settle(_ context.Context, sub string, l Limits, estTokens, actualTokens int) {
	m.settleAt(m.clock.Now(), sub, l, estTokens, actualTokens)
}

// admitAt is Admit at the given time.
func (m *Memory) admitAt(now time.Time, sub string, l Limits, estTokens int) Decision {
	if l.unlimited() {
		return Decision{Allowed: true}
	}
	ns := now.UnixNano()
	month, monthLeft := m.monthAt(now, ns)
	s := &m.shards[maphash.String(m.seed, sub)%memShards]
	s.mu.Lock()
	if ns >= s.nextSweep {
		s.sweep(ns, month)
	}
	c := s.subs[sub]
	if c == nil {
		c = &counters{}
		s.subs[strings.Clone(sub)] = c
	}
	o := c.admit(ns, month, monthLeft, l, int64(max(estTokens, 0)))
	s.mu.Unlock()
	return o.decision(l)
}

// settleAt is Settle at the given time.
func (m *Memory) settleAt(now time.Time, sub string, l Limits, estTokens, actualTokens int) {
	delta := int64(max(actualTokens, 0) - max(estTokens, 0))
	if l.unlimited() || delta == 0 {
		return
	}
	ns := now.UnixNano()
	month, _ := m.monthAt(now, ns)
	s := &m.shards[maphash.String(m.seed, sub)%memShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.subs[sub]
	if c == nil {
		if delta < 0 {
			return
		}
		c = &counters{}
		s.subs[strings.Clone(sub)] = c
	}
	c.settle(ns, month, delta)
}

// monthAt returns the month of now and the time left in it, from the cached
// bounds when now falls inside them.
func (m *Memory) monthAt(now time.Time, ns int64) (int64, time.Duration) {
	if sp := m.month.Load(); sp != nil && ns >= sp.start && ns < sp.end {
		return sp.id, time.Duration(sp.end - ns)
	}
	id, left := monthOf(now)
	y, mo, _ := now.UTC().Date()
	start := time.Date(y, mo, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	m.month.Store(&monthSpan{id: id, start: start, end: ns + int64(left)})
	return id, left
}

// windowLeft returns the time left in a window that started at start, 0 when
// it is over or never started. A start in the future (a clock that went
// back) keeps the window open for at most one WindowLength.
func windowLeft(start, now int64) time.Duration {
	if start == 0 {
		return 0
	}
	left := start + int64(WindowLength) - now
	switch {
	case left <= 0:
		return 0
	case left > int64(WindowLength):
		return WindowLength
	}
	return time.Duration(left)
}

// admit decides and, when allowed, counts one request of est tokens. The
// Redis script admitScript is the same algorithm; keep them in step.
func (c *counters) admit(now, month int64, monthLeft time.Duration, l Limits, est int64) outcome {
	reqLeft, tokLeft := windowLeft(c.reqStart, now), windowLeft(c.tokStart, now)
	reqs, toks, monthToks := c.reqs, c.toks, c.monthToks
	if reqLeft == 0 {
		reqs = 0
	}
	if tokLeft == 0 {
		toks = 0
	}
	if c.month != month {
		monthToks = 0
	}
	o := outcome{reqs: reqs, toks: toks, monthToks: monthToks, reqReset: reqLeft, tokReset: tokLeft}
	if l.RPM > 0 && reqs >= int64(l.RPM) && reqLeft > o.retry {
		o.reason, o.retry = ReasonRequests, reqLeft
	}
	if l.TPM > 0 && toks > 0 && toks+est > int64(l.TPM) && tokLeft > o.retry {
		o.reason, o.retry = ReasonTokens, tokLeft
	}
	if l.MonthlyTokens > 0 && monthToks >= l.MonthlyTokens && monthLeft > o.retry {
		o.reason, o.retry = ReasonMonthly, monthLeft
	}
	if o.reason == "" {
		o.allowed = true
		if reqLeft == 0 {
			c.reqStart, o.reqReset = now, WindowLength
		}
		if tokLeft == 0 {
			c.tokStart, o.tokReset = now, WindowLength
		}
		o.reqs, o.toks, o.monthToks = reqs+1, toks+est, monthToks+est
		c.reqs, c.toks, c.month, c.monthToks = o.reqs, o.toks, month, o.monthToks
	}
	if o.monthToks > 0 {
		o.monthReset = monthLeft
	}
	return o
}

// settle adds delta (actual − estimate) to the token counters: to the current
// TPM window and month when they are running; a positive delta with none
// running starts them, a negative one is dropped. Counters never go below 0.
// The Redis script settleScript is the same algorithm.
func (c *counters) settle(now, month, delta int64) {
	if windowLeft(c.tokStart, now) > 0 {
		c.toks = max(c.toks+delta, 0)
	} else if delta > 0 {
		c.tokStart, c.toks = now, delta
	}
	if c.month == month {
		c.monthToks = max(c.monthToks+delta, 0)
	} else if delta > 0 {
		c.month, c.monthToks = month, delta
	}
}

// sweep removes the entries with nothing left to remember: both windows over
// and no tokens counted in the current month.
func (s *memShard) sweep(now, month int64) {
	for sub, c := range s.subs {
		if windowLeft(c.reqStart, now) == 0 && windowLeft(c.tokStart, now) == 0 &&
			(c.month != month || c.monthToks == 0) {
			delete(s.subs, sub)
		}
	}
	s.nextSweep = now + int64(WindowLength)
}
