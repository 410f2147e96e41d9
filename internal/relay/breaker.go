package relay

import (
	"sort"
	"sync"
	"time"
)

// Breaker states, as the admin API shows them.
const (
	StateClosed   = "closed"
	StateOpen     = "open"
	StateHalfOpen = "half-open"
)

// BreakerState is the circuit breaker of one target, for the admin API.
type BreakerState struct {
	TargetID            string    `json:"target_id"`
	State               string    `json:"state"` // closed | open | half-open
	ConsecutiveFailures int       `json:"consecutive_failures"`
	OpenedAt            time.Time `json:"opened_at,omitzero"`
}

// breaker is the circuit breaker of one target. It opens after threshold
// consecutive failures, stays open for cooldown, then lets one probe
// through (half-open): a success closes it, a failure opens it again.
type breaker struct {
	mu       sync.Mutex
	fails    int
	open     bool
	openedAt time.Time
	probing  bool // a half-open probe is in flight
}

// breakers holds the breakers of every target seen, by target id.
type breakers struct {
	threshold int
	cooldown  time.Duration

	mu sync.Mutex
	m  map[string]*breaker
}

func (bs *breakers) get(id string) *breaker {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	b := bs.m[id]
	if b == nil {
		b = &breaker{}
		bs.m[id] = b
	}
	return b
}

// state returns the breaker's state at now.
func (bs *breakers) state(b *breaker, now time.Time) string {
	switch {
	case !b.open:
		return StateClosed
	case now.Sub(b.openedAt) >= bs.cooldown:
		return StateHalfOpen
	default:
		return StateOpen
	}
}

// available reports whether a request may be sent to the target at now.
func (bs *breakers) available(id string, now time.Time) bool {
	b := bs.get(id)
	b.mu.Lock()
	defer b.mu.Unlock()
	switch bs.state(b, now) {
	case StateClosed:
		return true
	case StateHalfOpen:
		return !b.probing
	}
	return false
}

// acquire takes the right to send one request at now; in the half-open
// state only one request (the probe) gets it.
func (bs *breakers) acquire(id string, now time.Time) bool {
	b := bs.get(id)
	b.mu.Lock()
	defer b.mu.Unlock()
	switch bs.state(b, now) {
	case StateClosed:
		return true
	case StateHalfOpen:
		if b.probing {
			return false
		}
		b.probing = true
		return true
	}
	return false
}

// success records an answer from the target: the breaker closes.
func (bs *breakers) success(id string) {
	b := bs.get(id)
	b.mu.Lock()
	b.fails, b.open, b.probing = 0, false, false
	b.openedAt = time.Time{}
	b.mu.Unlock()
}

// failure records a failed attempt at now.
func (bs *breakers) failure(id string, now time.Time) {
	b := bs.get(id)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fails++
	if b.probing || b.fails >= bs.threshold {
		b.open, b.openedAt = true, now
	}
	b.probing = false
}

// release gives back an attempt that proved nothing (the client left).
func (bs *breakers) release(id string) {
	b := bs.get(id)
	b.mu.Lock()
	b.probing = false
	b.mu.Unlock()
}

// snapshot lists every breaker, sorted by target id.
func (bs *breakers) snapshot(now time.Time) []BreakerState {
	bs.mu.Lock()
	ids := make([]string, 0, len(bs.m))
	for id := range bs.m {
		ids = append(ids, id)
	}
	bs.mu.Unlock()
	sort.Strings(ids)
	out := make([]BreakerState, 0, len(ids))
	for _, id := range ids {
		b := bs.get(id)
		b.mu.Lock()
		out = append(out, BreakerState{TargetID: id, State: bs.state(b, now), ConsecutiveFailures: b.fails, OpenedAt: b.openedAt})
		b.mu.Unlock()
	}
	return out
}
