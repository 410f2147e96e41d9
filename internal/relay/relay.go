// Package relay is the step of the data path after authentication,
// subscription and limits: it picks a target of the requested model, calls
// the upstream (passing the client's bytes through when the upstream speaks
// the client's format, translating otherwise), copies the answer to the
// client as it arrives, retries and falls back before the first byte
// reaches the client, keeps a circuit breaker per target, and returns a
// Result with everything the call log needs.
//
// It works on net/http types only and may import the standard library,
// providers, internal/apierr, internal/upstream and the gjson/sjson
// wire-format libraries; never Gin or GORM (a test enforces it).
package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sort"
	"time"

	"github.com/sluicehq/sluice/internal/upstream"
	"github.com/sluicehq/sluice/providers"
)

// Target is one way to serve a public model.
type Target struct {
	// ID is stable across requests and keys the target's circuit breaker,
	// e.g. "openai-main/gpt-4o-mini".
	ID           string
	ProviderName string
	ProviderKind string
	// Provider is built by the caller from the provider's configuration,
	// with the shared upstream client as its HTTP.
	Provider      providers.Provider
	UpstreamModel string
	// Weight splits traffic within a priority; values below 1 count as 1.
	Weight int
	// Priority orders the targets: lower is tried first.
	Priority int
}

// Request is one client call to relay.
type Request struct {
	// Body is the client's raw JSON body, already checked to be a JSON
	// object with a string "model".
	Body []byte
	// Model is the public model name the client asked for.
	Model string
	// Stream is the body's "stream".
	Stream bool
	// Targets are the model's route.
	Targets []Target
	// RequestID identifies the call in logs.
	RequestID string
}

// Result is what happened, for the call log.
type Result struct {
	// Status is what the client got (499 when it went away).
	Status     int
	ErrMessage string
	// Target is the target that answered; nil when none did.
	Target *Target
	// Attempts has one entry per upstream try, in order.
	Attempts []Attempt
	Usage    providers.Usage
	// UsageEstimated is true when the provider reported no usage and the
	// relay estimated it from the text (bytes / 4).
	UsageEstimated    bool
	BytesIn, BytesOut int64
	// TTFT is the time from the start of the call to the first byte sent
	// to the client.
	TTFT   time.Duration
	Stream bool

	answered bool // an upstream answer (whole or in part) reached the client
}

// Attempt is one upstream try and its timing waterfall.
type Attempt struct {
	TargetID string
	// Status is the upstream's HTTP status; 0 when it sent none.
	Status int
	Err    string
	// DNS, Connect, TLS and TTFB come from net/http/httptrace; Transfer is
	// from the first response byte to the end of the attempt.
	DNS, Connect, TLS, TTFB, Transfer time.Duration
	Start                             time.Time
	// Retried is true when another attempt followed this one.
	Retried bool
}

// Config tunes the relay. Zero fields take the defaults.
type Config struct {
	// MaxAttempts bounds the upstream tries of one call. Default 3.
	MaxAttempts int
	// Deadline bounds a call until its first byte reaches the client,
	// retries and waits included. After the first byte only IdleTimeout
	// applies, so long streams live on. Default 120s.
	Deadline time.Duration
	// FirstByteTimeout is how long one attempt may wait for the upstream's
	// first byte; past it the attempt fails as a timeout (retryable).
	// Default 60s.
	FirstByteTimeout time.Duration
	// IdleTimeout aborts an attempt whose upstream sends nothing for this
	// long once it has started answering. Default 60s.
	IdleTimeout time.Duration
	// BaseBackoff is the wait before the second attempt; it doubles for
	// each further attempt, up to MaxBackoff, with jitter. Default 100ms.
	BaseBackoff time.Duration
	// MaxBackoff caps the backoff. Default 2s.
	MaxBackoff time.Duration
	// BreakerThreshold is the number of consecutive failures that opens a
	// target's circuit. Default 5.
	BreakerThreshold int
	// BreakerCooldown is how long an open circuit stays open before one
	// probe is let through. Default 30s.
	BreakerCooldown time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Sleep waits d or until ctx ends; default a timer. Tests inject one
	// that advances a fake clock.
	Sleep func(ctx context.Context, d time.Duration) error
	// Rand returns a number in [0,1) for weighted choice and jitter;
	// default math/rand/v2.
	Rand func() float64
	// Logger receives upstream failures; default slog.Default().
	Logger *slog.Logger
}

// Relay relays calls to upstream targets. It is safe for concurrent use.
type Relay struct {
	cfg      Config
	breakers *breakers
	log      *slog.Logger
}

// New returns a relay configured by cfg.
func New(cfg Config) *Relay {
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 3
	}
	if cfg.Deadline <= 0 {
		cfg.Deadline = 120 * time.Second
	}
	if cfg.FirstByteTimeout <= 0 {
		cfg.FirstByteTimeout = 60 * time.Second
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 60 * time.Second
	}
	if cfg.BaseBackoff <= 0 {
		cfg.BaseBackoff = 100 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 2 * time.Second
	}
	if cfg.BreakerThreshold <= 0 {
		cfg.BreakerThreshold = 5
	}
	if cfg.BreakerCooldown <= 0 {
		cfg.BreakerCooldown = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Float64
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Relay{
		cfg:      cfg,
		breakers: &breakers{threshold: cfg.BreakerThreshold, cooldown: cfg.BreakerCooldown, m: map[string]*breaker{}},
		log:      cfg.Logger,
	}
}

// Breakers returns the circuit breaker of every target seen, for the
// admin API.
func (r *Relay) Breakers() []BreakerState { return r.breakers.snapshot(r.cfg.Now()) }

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Causes with which an attempt's context is cancelled.
var (
	errFirstByte  = fmt.Errorf("no first byte from upstream in time: %w", context.DeadlineExceeded)
	errIdle       = fmt.Errorf("upstream stream idle too long: %w", context.DeadlineExceeded)
	errDeadline   = fmt.Errorf("call deadline passed: %w", context.DeadlineExceeded)
	errDrained    = errors.New("attempt finished")
	errClientGone = errors.New("client went away")
	errNoTarget   = errors.New("no target")
)

// call is one client request being relayed.
type call struct {
	r        *Relay
	parent   context.Context // the client's
	req      *Request
	res      *Result
	w        *clientWriter
	dialect  dialect
	start    time.Time
	deadline time.Time // logical, on r.cfg.Now's clock
	// retryAfter is each target's Retry-After, once one sent it. The
	// call's state is kept here, not in serve's frame, which stays on the
	// stack for the whole of a stream (see copyOpenAIStream).
	retryAfter map[string]time.Duration
}

// try runs one attempt; it returns nil once the whole answer was written.
type try func(a *attempt) error

// serve is the retry loop shared by every endpoint: pick a target, run the
// attempt, and on a retryable failure before the first byte pick the next
// one. It writes the error answer itself.
func (r *Relay) serve(ctx context.Context, w http.ResponseWriter, req *Request, d dialect, targets []Target, fn try) *Result {
	now := r.cfg.Now()
	c := &call{
		r: r, parent: ctx, req: req, dialect: d, start: now,
		deadline: now.Add(r.cfg.Deadline),
		res:      &Result{Stream: req.Stream, BytesIn: int64(len(req.Body))},
		w:        newClientWriter(w, r.cfg.Now),
	}
	defer c.finish()

	order := byPriority(targets)
	tried := make([]bool, len(order))
	var last *failure
	var lastTarget *Target
	skips := 0
	for n := 0; n < r.cfg.MaxAttempts; n++ {
		if ctx.Err() != nil {
			last = c.gone()
			break
		}
		i, wait := c.next(n, order, tried, c.retryAfter)
		if i < 0 {
			break
		}
		t := order[i]
		if wait > 0 {
			if err := r.cfg.Sleep(ctx, wait); err != nil {
				last = c.gone()
				break
			}
		}
		tried[i] = true
		if !r.breakers.acquire(t.ID, r.cfg.Now()) {
			// Another call took the half-open probe first: not an attempt.
			if skips++; skips > len(order) {
				break
			}
			n--
			continue
		}
		if k := len(c.res.Attempts); k > 0 {
			c.res.Attempts[k-1].Retried = true
		}
		a := c.newAttempt(t)
		err := fn(a)
		a.end(err)
		if err == nil {
			r.breakers.success(t.ID)
			c.res.Target = t
			c.res.answered = true
			if c.res.Status == 0 {
				c.res.Status = http.StatusOK
			}
			return c.res
		}
		f := c.failed(a, err)
		if f.upstream != 0 || a.committed {
			lastTarget = t
		}
		if a.committed {
			return c.res
		}
		last = f
		if f.retryAfter > 0 {
			if c.retryAfter == nil {
				c.retryAfter = map[string]time.Duration{}
			}
			c.retryAfter[t.ID] = f.retryAfter
		}
		if !f.retryable {
			break
		}
	}
	if last == nil {
		last = noTarget(req.Model)
	}
	c.res.Target = lastTarget
	c.fail(last)
	return c.res
}

// The helpers below are apart from serve, whose frame stays on the stack
// for the whole of a stream, so that frame stays small.

// failed records a failed attempt: its error, the target's breaker, a log
// line; when bytes had reached the client the call ends here, with an
// error event in the client's format.
//
//go:noinline
func (c *call) failed(a *attempt, err error) *failure {
	r, t := c.r, a.t
	f := c.classify(a, err)
	at := &c.res.Attempts[len(c.res.Attempts)-1]
	at.Err = f.logMessage()
	if at.Status == 0 {
		at.Status = f.upstream
	}
	switch {
	case f.clientGone || f.own || f.deadline:
		r.breakers.release(t.ID)
	case f.retryable:
		r.breakers.failure(t.ID, r.cfg.Now())
	default:
		r.breakers.success(t.ID)
	}
	if !f.clientGone && !f.own {
		r.log.Warn("upstream attempt failed", "request_id", c.req.RequestID, "model", c.req.Model,
			"target", t.ID, "status", f.upstream, "retryable", f.retryable, "err", f.logMessage())
	}
	if a.committed {
		c.res.answered = true
		// Bytes reached the client: never retry; end the stream with an
		// error event in the client's format.
		c.res.Target = t
		c.res.ErrMessage = f.message
		if f.clientGone {
			c.res.Status = 499
		} else {
			c.res.Status = http.StatusOK
			c.dialect.streamError(c.w, f)
		}
	}
	return f
}

// noTarget is the failure of a call none of whose targets could be tried.
//
//go:noinline
func noTarget(model string) *failure {
	return &failure{status: http.StatusServiceUnavailable,
		message: fmt.Sprintf("no target could be tried for model %q: all are disabled or their circuits are open; retry later", model),
		err:     errNoTarget}
}

// fail answers the client with f, unless it went away.
func (c *call) fail(f *failure) {
	c.res.ErrMessage = f.message
	if f.clientGone {
		c.res.Status = 499
		return
	}
	c.res.Status = f.status
	c.dialect.writeError(c.w, f)
}

// finish fills the byte counts and time to first byte.
func (c *call) finish() {
	c.res.BytesOut = c.w.n
	if !c.w.first.IsZero() {
		c.res.TTFT = c.w.first.Sub(c.start)
	}
}

// gone is the failure of a client that went away (or a server-side
// deadline on the client's context).
func (c *call) gone() *failure {
	if errors.Is(c.parent.Err(), context.DeadlineExceeded) {
		return &failure{status: http.StatusGatewayTimeout, message: "the request timed out before the upstream answered; retry the request", err: c.parent.Err(), deadline: true}
	}
	return &failure{status: 499, clientGone: true, message: "client closed the request", err: errClientGone}
}

// next picks the target of attempt n and the wait before it, or -1 when no
// target can be tried. It prefers targets not yet tried in this call, in
// priority order and by weight; once every one was tried it starts over.
// A target whose wait (backoff, or its own Retry-After) would pass the
// deadline is skipped.
func (c *call) next(n int, order []*Target, tried []bool, retryAfter map[string]time.Duration) (int, time.Duration) {
	now := c.r.cfg.Now()
	remaining := c.deadline.Sub(now)
	backoff := time.Duration(0)
	if n > 0 {
		backoff = c.r.backoff(n)
	}
	wait := func(t *Target) time.Duration {
		return max(backoff, retryAfter[t.ID])
	}
	ok := func(i int, fresh bool) bool {
		t := order[i]
		return (!fresh || !tried[i]) && wait(t) < remaining && c.r.breakers.available(t.ID, now)
	}
	i := c.r.pick(order, func(i int) bool { return ok(i, true) })
	if i < 0 && n > 0 {
		i = c.r.pick(order, func(i int) bool { return ok(i, false) })
	}
	if i < 0 {
		return -1, 0
	}
	return i, wait(order[i])
}

// pick chooses among the eligible targets of the best priority, by weight.
// order is sorted by priority.
func (r *Relay) pick(order []*Target, eligible func(int) bool) int {
	for lo := 0; lo < len(order); {
		hi := lo
		for hi < len(order) && order[hi].Priority == order[lo].Priority {
			hi++
		}
		total := 0
		for i := lo; i < hi; i++ {
			if eligible(i) {
				total += weight(order[i])
			}
		}
		if total > 0 {
			x := int(r.cfg.Rand() * float64(total))
			for i := lo; i < hi; i++ {
				if !eligible(i) {
					continue
				}
				if x < weight(order[i]) {
					return i
				}
				x -= weight(order[i])
			}
			for i := hi - 1; i >= lo; i-- { // rounding at the top end
				if eligible(i) {
					return i
				}
			}
		}
		lo = hi
	}
	return -1
}

func weight(t *Target) int { return max(t.Weight, 1) }

// backoff is the wait before attempt n (n ≥ 1): BaseBackoff·2^(n-1),
// capped, with jitter in [d/2, d).
func (r *Relay) backoff(n int) time.Duration {
	d := r.cfg.BaseBackoff << (n - 1)
	if d > r.cfg.MaxBackoff || d <= 0 {
		d = r.cfg.MaxBackoff
	}
	return d/2 + time.Duration(r.cfg.Rand()*float64(d/2))
}

// byPriority returns pointers to the targets, stably sorted by priority.
func byPriority(ts []Target) []*Target {
	out := make([]*Target, len(ts))
	for i := range ts {
		out[i] = &ts[i]
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Priority < out[j].Priority })
	return out
}

// attempt is one upstream try.
type attempt struct {
	c         *call
	t         *Target
	ctx       context.Context
	cancel    context.CancelCauseFunc
	watchdog  *time.Timer // first-byte, then idle timeout
	deadline  *time.Timer // the call's deadline, until the first byte to the client
	trace     *upstream.Trace
	status    int   // upstream HTTP status, when known
	cause     error // why the attempt's context ended, if it did before end
	committed bool
}

func (c *call) newAttempt(t *Target) *attempt {
	a := &attempt{c: c, t: t}
	ctx, cancel := context.WithCancelCause(c.parent)
	a.cancel = cancel
	cfg := &c.r.cfg
	a.watchdog = time.AfterFunc(cfg.FirstByteTimeout, func() { cancel(errFirstByte) })
	a.deadline = time.AfterFunc(max(c.deadline.Sub(cfg.Now()), 0), func() { cancel(errDeadline) })
	a.ctx, a.trace = upstream.WithTrace(ctx, cfg.Now, a.kick)
	c.res.Attempts = append(c.res.Attempts, Attempt{TargetID: t.ID, Start: a.trace.Start()})
	return a
}

// kick restarts the idle timeout after progress from the upstream.
func (a *attempt) kick() { a.watchdog.Reset(a.c.r.cfg.IdleTimeout) }

// commit marks the first byte to the client: no retry from here on, and
// the call's deadline no longer applies.
func (a *attempt) commit() {
	a.committed = true
	a.deadline.Stop()
}

// end stops the attempt's timers and context and records its timings.
func (a *attempt) end(err error) {
	a.watchdog.Stop()
	a.deadline.Stop()
	a.cause = context.Cause(a.ctx)
	a.cancel(errDrained)
	tm := a.trace.Timings()
	at := &a.c.res.Attempts[len(a.c.res.Attempts)-1]
	at.Status = a.status
	if err == nil && at.Status == 0 {
		at.Status = http.StatusOK
	}
	at.DNS, at.Connect, at.TLS, at.TTFB = tm.DNS, tm.Connect, tm.TLS, tm.TTFB
	if !tm.FirstByte.IsZero() {
		at.Transfer = a.c.r.cfg.Now().Sub(tm.FirstByte)
	}
}
