package limits

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Defaults of the Redis limiter's settings.
const (
	DefaultKeyPrefix     = "sluice:limits:"
	DefaultTimeout       = 50 * time.Millisecond
	DefaultRetryInterval = time.Second
)

// admitScript is counters.admit in Lua, run atomically by Redis: it checks
// RPM, TPM and the monthly quota together and counts only if all pass.
// Times are in milliseconds taken from the caller's clock; the key's TTL only
// collects garbage.
//
// KEYS[1] the subscription's hash (fields rs rc ts tc mm mt).
// ARGV now_ms, month, month_left_ms, rpm, tpm, monthly, est, window_ms.
// Returns {allowed, reason (0 none, 1 rpm, 2 tpm, 3 monthly), retry_ms,
// reqs, req_reset_ms, toks, tok_reset_ms, month_toks}.
var admitScript = redis.NewScript(`
local now, month, month_left = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local rpm, tpm, monthly = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local est, win = tonumber(ARGV[7]), tonumber(ARGV[8])
local h = redis.call('HMGET', KEYS[1], 'rs', 'rc', 'ts', 'tc', 'mm', 'mt')
local rs, rc = tonumber(h[1]) or 0, tonumber(h[2]) or 0
local ts, tc = tonumber(h[3]) or 0, tonumber(h[4]) or 0
local mm, mt = tonumber(h[5]) or -1, tonumber(h[6]) or 0
local function left(start)
  if start == 0 then return 0 end
  local l = start + win - now
  if l <= 0 then return 0 end
  if l > win then return win end
  return l
end
local rl, tl = left(rs), left(ts)
if rl == 0 then rc = 0 end
if tl == 0 then tc = 0 end
if mm ~= month then mt = 0 end
local reason, retry = 0, 0
if rpm > 0 and rc >= rpm and rl > retry then reason, retry = 1, rl end
if tpm > 0 and tc > 0 and tc + est > tpm and tl > retry then reason, retry = 2, tl end
if monthly > 0 and mt >= monthly and month_left > retry then reason, retry = 3, month_left end
if reason ~= 0 then return {0, reason, retry, rc, rl, tc, tl, mt} end
if rl == 0 then rs, rl = now, win end
if tl == 0 then ts, tl = now, win end
rc, tc, mt = rc + 1, tc + est, mt + est
redis.call('HSET', KEYS[1], 'rs', rs, 'rc', rc, 'ts', ts, 'tc', tc, 'mm', month, 'mt', mt)
local ttl = 2 * win
if monthly > 0 and mt > 0 and month_left + win > ttl then ttl = month_left + win end
redis.call('PEXPIRE', KEYS[1], ttl)
return {1, 0, 0, rc, rl, tc, tl, mt}
`)

// settleScript is counters.settle in Lua.
//
// KEYS[1] the subscription's hash. ARGV now_ms, month, month_left_ms, delta,
// window_ms, monthly (the limit; the key outlives the month's end only when set).
var settleScript = redis.NewScript(`
local now, month, month_left = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local delta, win, monthly = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local h = redis.call('HMGET', KEYS[1], 'ts', 'tc', 'mm', 'mt')
local ts, tc = tonumber(h[1]) or 0, tonumber(h[2]) or 0
local mm, mt = tonumber(h[3]) or -1, tonumber(h[4]) or 0
local l = 0
if ts ~= 0 then l = ts + win - now end
if l > 0 then
  tc = math.max(tc + delta, 0)
elseif delta > 0 then
  ts, tc = now, delta
end
if mm == month then
  mt = math.max(mt + delta, 0)
elseif delta > 0 then
  mm, mt = month, delta
end
if ts == 0 and mm == -1 then return 0 end
redis.call('HSET', KEYS[1], 'ts', ts, 'tc', tc, 'mm', mm, 'mt', mt)
local ttl = 2 * win
if monthly > 0 and mt > 0 and month_left + win > ttl then ttl = month_left + win end
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1
`)

// reasons maps admitScript's reason codes to Decision.Reason.
var reasons = [...]string{"", ReasonRequests, ReasonTokens, ReasonMonthly}

// Redis is a Limiter whose counts live in Redis, shared by every replica.
// While Redis fails or does not answer within Timeout, it counts in its
// fallback Memory instead (this replica's own budget), logs one warning per
// outage, and tries Redis again every RetryInterval; once Redis answers,
// shared counting resumes and it logs that once.
//
// The client should be created with ContextTimeoutEnabled so that Timeout
// also bounds socket reads (go-redis otherwise waits for ReadTimeout).
// Set the exported fields before the first call.
type Redis struct {
	// KeyPrefix starts every Redis key; the subscription id follows it.
	KeyPrefix string
	// Timeout bounds each Redis call before the limiter falls back.
	Timeout time.Duration
	// RetryInterval is how long after a failure calls go straight to the
	// fallback before Redis is tried again.
	RetryInterval time.Duration
	// OnFallback, when set, is called once for every call answered by the
	// fallback (the gateway counts them in a metric).
	OnFallback func()

	client    redis.UniversalClient
	clock     Clock
	fallback  *Memory
	logger    *slog.Logger
	fallbacks atomic.Uint64
	down      atomic.Bool  // in an outage (warning logged)
	retryAt   atomic.Int64 // Unix ns before which Redis is not tried
}

var _ Limiter = (*Redis)(nil)

// NewRedis returns a limiter counting in client, falling back to fallback
// (a new Memory on clock when nil) while Redis is unavailable.
func NewRedis(client redis.UniversalClient, clock Clock, fallback *Memory, logger *slog.Logger) *Redis {
	if fallback == nil {
		fallback = NewMemory(clock)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if c, ok := client.(*redis.Client); ok && !c.Options().ContextTimeoutEnabled {
		logger.Warn("rate limiter: Redis client without ContextTimeoutEnabled; a hung Redis delays requests up to its ReadTimeout")
	}
	return &Redis{
		KeyPrefix:     DefaultKeyPrefix,
		Timeout:       DefaultTimeout,
		RetryInterval: DefaultRetryInterval,
		client:        client,
		clock:         clock,
		fallback:      fallback,
		logger:        logger,
	}
}

// Fallbacks returns how many calls the fallback answered since the start.
func (r *Redis) Fallbacks() uint64 { return r.fallbacks.Load() }

// Admit implements Limiter. It returns an error only when ctx is done.
func (r *Redis) Admit(ctx context.Context, sub string, l Limits, estTokens int) (Decision, error) {
	if l.unlimited() {
		return Decision{Allowed: true}, nil
	}
	now := r.clock.Now()
	if r.tryRedis(now) {
		d, err := r.admit(ctx, now, sub, l, int64(max(estTokens, 0)))
		if err == nil {
			r.recovered()
			return d, nil
		}
		if ctx.Err() != nil {
			return Decision{}, fmt.Errorf("limits: admit %s: %w", sub, ctx.Err())
		}
		r.failed(now, err)
	}
	r.countFallback()
	return r.fallback.admitAt(now, sub, l, estTokens), nil
}

// Settle implements Limiter.
func (r *Redis) Settle(ctx context.Context, sub string, l Limits, estTokens, actualTokens int) {
	delta := int64(max(actualTokens, 0) - max(estTokens, 0))
	if l.unlimited() || delta == 0 {
		return
	}
	now := r.clock.Now()
	if r.tryRedis(now) {
		err := r.settle(ctx, now, sub, l, delta)
		if err == nil {
			r.recovered()
			return
		}
		if ctx.Err() != nil {
			return
		}
		r.failed(now, err)
	}
	r.countFallback()
	r.fallback.settleAt(now, sub, l, estTokens, actualTokens)
}

// admit runs admitScript.
func (r *Redis) admit(ctx context.Context, now time.Time, sub string, l Limits, est int64) (Decision, error) {
	ctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	month, monthLeft := monthOf(now)
	res, err := admitScript.Run(ctx, r.client, []string{r.KeyPrefix + sub},
		now.UnixMilli(), month, monthLeft.Milliseconds(), l.RPM, l.TPM, l.MonthlyTokens, est, WindowLength.Milliseconds(),
	).Int64Slice()
	if err != nil {
		return Decision{}, fmt.Errorf("limits: redis admit: %w", err)
	}
	if len(res) != 8 || res[1] < 0 || res[1] >= int64(len(reasons)) {
		return Decision{}, fmt.Errorf("limits: redis admit: unexpected reply %v", res)
	}
	o := outcome{
		allowed:   res[0] == 1,
		reason:    reasons[res[1]],
		retry:     time.Duration(res[2]) * time.Millisecond,
		reqs:      res[3],
		reqReset:  time.Duration(res[4]) * time.Millisecond,
		toks:      res[5],
		tokReset:  time.Duration(res[6]) * time.Millisecond,
		monthToks: res[7],
	}
	if o.monthToks > 0 {
		o.monthReset = monthLeft
	}
	return o.decision(l), nil
}

// settle runs settleScript.
func (r *Redis) settle(ctx context.Context, now time.Time, sub string, l Limits, delta int64) error {
	ctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	month, monthLeft := monthOf(now)
	err := settleScript.Run(ctx, r.client, []string{r.KeyPrefix + sub},
		now.UnixMilli(), month, monthLeft.Milliseconds(), delta, WindowLength.Milliseconds(), l.MonthlyTokens,
	).Err()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("limits: redis settle: %w", err)
	}
	return nil
}

// tryRedis reports whether Redis should be asked now: always outside an
// outage, and once every RetryInterval during one.
func (r *Redis) tryRedis(now time.Time) bool {
	return !r.down.Load() || now.UnixNano() >= r.retryAt.Load()
}

// failed records a Redis failure, logging only the first of an outage.
func (r *Redis) failed(now time.Time, err error) {
	r.retryAt.Store(now.Add(r.RetryInterval).UnixNano())
	if r.down.CompareAndSwap(false, true) {
		r.logger.Warn("rate limiter: Redis unavailable, counting in memory on this replica until it answers",
			"err", err, "retry_every", r.RetryInterval)
	}
}

// recovered ends an outage, logging once.
func (r *Redis) recovered() {
	if r.down.Load() && r.down.CompareAndSwap(true, false) {
		r.logger.Info("rate limiter: Redis answers again, shared counting resumed")
	}
}

// countFallback counts one call answered by the fallback.
func (r *Redis) countFallback() {
	r.fallbacks.Add(1)
	if r.OnFallback != nil {
		r.OnFallback()
	}
}
