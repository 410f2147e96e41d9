// Package limits enforces the per-subscription limits of a Sluice service:
// requests per minute (RPM), tokens per minute (TPM) and tokens per calendar
// month (UTC).
//
// Windows are anchored at the first request: a minute window starts with the
// first request after the previous window ended and lasts 60 seconds, so the
// 61st request within the minute of a 60 RPM limit is refused every time.
// Tokens are admitted with an estimate before the upstream call (Admit) and
// corrected with the actual usage after it (Settle). A refused request
// consumes no budget. A zero limit means unlimited.
//
// Memory counts in process; Redis counts in a Redis shared by all replicas
// and falls back to a Memory while Redis is unreachable. Both take the time
// from a Clock. The package sits on the request hot path and imports only the
// standard library and go-redis, never Gin or GORM.
package limits

import (
	"context"
	"net/http"
	"strconv"
	"time"
)

// WindowLength is the length of the RPM and TPM windows.
const WindowLength = time.Minute

// Reasons reported in Decision.Reason when a request is refused.
const (
	ReasonRequests = "requests per minute"
	ReasonTokens   = "tokens per minute"
	ReasonMonthly  = "monthly tokens"
)

// Limits are a subscription's limits; a zero field means unlimited.
type Limits struct {
	// RPM is the number of requests allowed per minute window.
	RPM int
	// TPM is the number of tokens allowed per minute window.
	TPM int
	// MonthlyTokens is the number of tokens allowed per calendar month (UTC).
	MonthlyTokens int64
}

// unlimited reports whether l sets no limit at all.
func (l Limits) unlimited() bool { return l.RPM <= 0 && l.TPM <= 0 && l.MonthlyTokens <= 0 }

// Clock tells the time; tests pass a fake one.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
}

// Limiter admits requests against a subscription's limits and settles their
// actual token usage afterwards.
type Limiter interface {
	// Admit decides whether sub may make a request estimated at estTokens
	// tokens, and counts it (the request and the estimate) when allowed.
	Admit(ctx context.Context, sub string, l Limits, estTokens int) (Decision, error)
	// Settle replaces an admitted request's estimate with its actual usage.
	Settle(ctx context.Context, sub string, l Limits, estTokens, actualTokens int)
}

// Decision is the answer of Admit.
type Decision struct {
	// Allowed reports whether the request may proceed.
	Allowed bool
	// RetryAfter is how long a refused request should wait before retrying.
	RetryAfter time.Duration
	// Requests is the state of the RPM window (zero Limit when unset).
	Requests Window
	// Tokens is the state of the TPM window (zero Limit when unset).
	Tokens Window
	// Monthly is the state of the monthly token quota (zero Limit when unset).
	Monthly Window
	// Reason names the limit that refused the request: ReasonRequests,
	// ReasonTokens or ReasonMonthly; empty when allowed.
	Reason string
}

// Window is the state of one limit after a decision.
type Window struct {
	// Limit is the configured limit; 0 means the limit is not set.
	Limit int64
	// Remaining is what is left of the limit (never negative).
	Remaining int64
	// Reset is the time until the limit is back to its full value.
	Reset time.Duration
}

// Headers writes OpenAI's rate-limit headers for the limits that are set
// (x-ratelimit-limit-requests, x-ratelimit-remaining-requests,
// x-ratelimit-reset-requests and the -tokens trio for TPM), and Retry-After in
// whole seconds (rounded up, at least 1) when the request was refused.
func (d Decision) Headers(h http.Header) {
	// Every value is appended to one buffer and sliced out of one string, so
	// a decision costs two allocations however many headers it writes.
	var names [7]string
	var ends [7]int
	var buf [192]byte
	b, n := buf[:0], 0
	add := func(name string, appendVal func([]byte) []byte) {
		b = appendVal(b)
		names[n], ends[n] = name, len(b)
		n++
	}
	num := func(v int64) func([]byte) []byte {
		return func(b []byte) []byte { return strconv.AppendInt(b, v, 10) }
	}
	reset := func(d time.Duration) func([]byte) []byte {
		return func(b []byte) []byte { return append(b, FormatReset(d)...) }
	}
	if d.Requests.Limit > 0 {
		add("X-Ratelimit-Limit-Requests", num(d.Requests.Limit))
		add("X-Ratelimit-Remaining-Requests", num(max(d.Requests.Remaining, 0)))
		add("X-Ratelimit-Reset-Requests", reset(d.Requests.Reset))
	}
	if d.Tokens.Limit > 0 {
		add("X-Ratelimit-Limit-Tokens", num(d.Tokens.Limit))
		add("X-Ratelimit-Remaining-Tokens", num(max(d.Tokens.Remaining, 0)))
		add("X-Ratelimit-Reset-Tokens", reset(d.Tokens.Reset))
	}
	if !d.Allowed {
		add("Retry-After", num(retryAfterSeconds(d.RetryAfter)))
	}
	if n == 0 {
		return
	}
	all := string(b)
	vals := make([]string, n)
	start := 0
	for i := range n {
		vals[i] = all[start:ends[i]]
		h[names[i]] = vals[i : i+1 : i+1]
		start = ends[i]
	}
}

// FormatReset formats d the way OpenAI's x-ratelimit-reset-* headers do: a Go
// duration string ("1s", "6m0s", "20ms", "1.5s"), rounded up to whole
// milliseconds so a client never retries early; "0s" when nothing is used.
func FormatReset(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	if r := d % time.Millisecond; r != 0 {
		d += time.Millisecond - r
	}
	return d.String()
}

// retryAfterSeconds rounds d up to whole seconds, at least 1.
func retryAfterSeconds(d time.Duration) int64 {
	s := int64((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

// monthOf returns a month number (year*12 + month-1) of t in UTC and the time
// left until the next month starts.
func monthOf(t time.Time) (month int64, left time.Duration) {
	t = t.UTC()
	y, m, _ := t.Date()
	next := time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC)
	return int64(y)*12 + int64(m) - 1, next.Sub(t)
}

// outcome is what a backend found: the counters after the decision and the
// time left in each window. Memory and the Redis script compute the same one.
type outcome struct {
	allowed                        bool
	reason                         string
	retry                          time.Duration
	reqs, toks, monthToks          int64
	reqReset, tokReset, monthReset time.Duration
}

// decision turns o into a Decision showing only the limits l sets.
func (o outcome) decision(l Limits) Decision {
	d := Decision{Allowed: o.allowed, RetryAfter: o.retry, Reason: o.reason}
	if l.RPM > 0 {
		d.Requests = window(int64(l.RPM), o.reqs, o.reqReset)
	}
	if l.TPM > 0 {
		d.Tokens = window(int64(l.TPM), o.toks, o.tokReset)
	}
	if l.MonthlyTokens > 0 {
		d.Monthly = window(l.MonthlyTokens, o.monthToks, o.monthReset)
	}
	return d
}

// window builds a Window from a limit and the amount used.
func window(limit, used int64, reset time.Duration) Window {
	return Window{Limit: limit, Remaining: max(limit-used, 0), Reset: reset}
}
