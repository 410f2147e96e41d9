package limits

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a Clock that moves only when told to.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{t: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// realClock is the wall clock, for benchmarks.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// t0 is a mid-month instant, far from any month boundary.
var t0 = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// backend makes a namespace for one test: every limiter the returned function
// makes reads clock and shares one budget with the others.
type backend func(t *testing.T, clock Clock) func() Limiter

func memoryBackend(t *testing.T, clock Clock) func() Limiter {
	m := NewMemory(clock)
	return func() Limiter { return m }
}

func TestMemoryConformance(t *testing.T) { runConformance(t, memoryBackend) }

func admit(t *testing.T, lim Limiter, sub string, l Limits, est int) Decision {
	t.Helper()
	d, err := lim.Admit(context.Background(), sub, l, est)
	if err != nil {
		t.Fatalf("Admit: %v", err)
	}
	return d
}

func wantAllowed(t *testing.T, d Decision, what string) {
	t.Helper()
	if !d.Allowed {
		t.Fatalf("%s: refused (%s, retry %v), want allowed", what, d.Reason, d.RetryAfter)
	}
}

func wantDenied(t *testing.T, d Decision, reason string, retry time.Duration, what string) {
	t.Helper()
	if d.Allowed || d.Reason != reason || d.RetryAfter != retry {
		t.Fatalf("%s: allowed=%v reason=%q retry=%v; want refused by %q, retry %v", what, d.Allowed, d.Reason, d.RetryAfter, reason, retry)
	}
}

func wantWindow(t *testing.T, got, want Window, what string) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: window %+v, want %+v", what, got, want)
	}
}

func headersOf(d Decision) http.Header {
	h := http.Header{}
	d.Headers(h)
	return h
}

// runConformance is the behaviour every Limiter must have.
func runConformance(t *testing.T, newNS backend) {
	t.Run("RPM window", func(t *testing.T) {
		t.Parallel()
		clk := newFakeClock(t0)
		lim := newNS(t, clk)()
		l := Limits{RPM: 60}
		for i := range 60 {
			d := admit(t, lim, "sub", l, 0)
			wantAllowed(t, d, fmt.Sprint("request ", i+1))
			wantWindow(t, d.Requests, Window{Limit: 60, Remaining: int64(59 - i), Reset: WindowLength - time.Duration(i)*500*time.Millisecond}, fmt.Sprint("request ", i+1))
			clk.Advance(500 * time.Millisecond)
		}
		// 61st request, 30 s into the window.
		d := admit(t, lim, "sub", l, 0)
		wantDenied(t, d, ReasonRequests, 30*time.Second, "61st request")
		wantWindow(t, d.Requests, Window{Limit: 60, Remaining: 0, Reset: 30 * time.Second}, "61st request")
		want := http.Header{
			"X-Ratelimit-Limit-Requests":     {"60"},
			"X-Ratelimit-Remaining-Requests": {"0"},
			"X-Ratelimit-Reset-Requests":     {"30s"},
			"Retry-After":                    {"30"},
		}
		if h := headersOf(d); !reflect.DeepEqual(h, want) {
			t.Fatalf("headers of 61st request:\n got %v\nwant %v", h, want)
		}
		clk.Set(t0.Add(WindowLength - time.Millisecond))
		d = admit(t, lim, "sub", l, 0)
		wantDenied(t, d, ReasonRequests, time.Millisecond, "last millisecond of the window")
		if got := headersOf(d).Get("Retry-After"); got != "1" {
			t.Fatalf("Retry-After = %q, want 1", got)
		}
		// The window is over: the refused requests consumed nothing, the next
		// window starts now and holds 60 again.
		clk.Set(t0.Add(WindowLength))
		for i := range 60 {
			d := admit(t, lim, "sub", l, 0)
			wantAllowed(t, d, fmt.Sprint("second window request ", i+1))
			wantWindow(t, d.Requests, Window{Limit: 60, Remaining: int64(59 - i), Reset: WindowLength}, "second window")
		}
		wantDenied(t, admit(t, lim, "sub", l, 0), ReasonRequests, WindowLength, "61st of second window")
	})

	t.Run("window anchored at first request", func(t *testing.T) {
		t.Parallel()
		start := t0.Add(45 * time.Second) // 12:00:45
		clk := newFakeClock(start)
		lim := newNS(t, clk)()
		l := Limits{RPM: 3}
		for range 3 {
			wantAllowed(t, admit(t, lim, "sub", l, 0), "within limit")
		}
		clk.Set(t0.Add(time.Minute)) // calendar minute changes: no reset
		wantDenied(t, admit(t, lim, "sub", l, 0), ReasonRequests, 45*time.Second, "at 12:01:00")
		clk.Set(start.Add(WindowLength - time.Millisecond))
		wantDenied(t, admit(t, lim, "sub", l, 0), ReasonRequests, time.Millisecond, "at 12:01:44.999")
		clk.Set(start.Add(WindowLength))
		wantAllowed(t, admit(t, lim, "sub", l, 0), "at 12:01:45")
	})

	t.Run("TPM estimate and settle", func(t *testing.T) {
		t.Parallel()
		clk := newFakeClock(t0)
		lim := newNS(t, clk)()
		ctx := context.Background()
		l := Limits{TPM: 1000}
		d := admit(t, lim, "sub", l, 600)
		wantAllowed(t, d, "600 of 1000")
		wantWindow(t, d.Tokens, Window{Limit: 1000, Remaining: 400, Reset: WindowLength}, "after 600")
		clk.Advance(10 * time.Second)
		d = admit(t, lim, "sub", l, 600)
		wantDenied(t, d, ReasonTokens, 50*time.Second, "600 more")
		wantWindow(t, d.Tokens, Window{Limit: 1000, Remaining: 400, Reset: 50 * time.Second}, "refusal consumed nothing")
		want := http.Header{
			"X-Ratelimit-Limit-Tokens":     {"1000"},
			"X-Ratelimit-Remaining-Tokens": {"400"},
			"X-Ratelimit-Reset-Tokens":     {"50s"},
			"Retry-After":                  {"50"},
		}
		if h := headersOf(d); !reflect.DeepEqual(h, want) {
			t.Fatalf("headers:\n got %v\nwant %v", h, want)
		}
		wantAllowed(t, admit(t, lim, "sub", l, 400), "exactly the rest")
		wantDenied(t, admit(t, lim, "sub", l, 1), ReasonTokens, 50*time.Second, "one over")
		// The first call used 200, not 600: 400 come back.
		lim.Settle(ctx, "sub", l, 600, 200)
		d = admit(t, lim, "sub", l, 400)
		wantAllowed(t, d, "after downward correction")
		wantWindow(t, d.Tokens, Window{Limit: 1000, Remaining: 0, Reset: 50 * time.Second}, "after downward correction")
		// That call used 900, not 400: the window is now over budget.
		lim.Settle(ctx, "sub", l, 400, 900)
		d = admit(t, lim, "sub", l, 0)
		wantDenied(t, d, ReasonTokens, 50*time.Second, "after upward correction")
		wantWindow(t, d.Tokens, Window{Limit: 1000, Remaining: 0, Reset: 50 * time.Second}, "over budget shows 0")
		// An exact estimate changes nothing.
		lim.Settle(ctx, "sub", l, 50, 50)
		// A correction can never push the count below zero, and a window
		// with nothing counted takes even an oversized request.
		lim.Settle(ctx, "sub", l, 100000, 0)
		d = admit(t, lim, "sub", l, 1500)
		wantAllowed(t, d, "after a huge downward correction")
		wantWindow(t, d.Tokens, Window{Limit: 1000, Remaining: 0, Reset: 50 * time.Second}, "clamped at zero, then 1500")
		wantDenied(t, admit(t, lim, "sub", l, 0), ReasonTokens, 50*time.Second, "after 1500")
		// Next window: a request bigger than the whole budget still gets in
		// when the window is empty, so it is not refused forever.
		clk.Advance(50 * time.Second)
		d = admit(t, lim, "sub", l, 5000)
		wantAllowed(t, d, "oversized request in empty window")
		wantWindow(t, d.Tokens, Window{Limit: 1000, Remaining: 0, Reset: WindowLength}, "oversized")
		wantDenied(t, admit(t, lim, "sub", l, 1), ReasonTokens, WindowLength, "after oversized")
	})

	t.Run("settle after the window ended", func(t *testing.T) {
		t.Parallel()
		clk := newFakeClock(t0)
		lim := newNS(t, clk)()
		ctx := context.Background()
		l := Limits{TPM: 1000}
		wantAllowed(t, admit(t, lim, "sub", l, 100), "first")
		clk.Advance(2 * time.Minute)        // a long stream ends
		lim.Settle(ctx, "sub", l, 100, 50)  // refund of a finished window: dropped
		lim.Settle(ctx, "sub", l, 100, 700) // 600 more used now: charged to a new window
		d := admit(t, lim, "sub", l, 0)
		wantAllowed(t, d, "after late settle")
		wantWindow(t, d.Tokens, Window{Limit: 1000, Remaining: 400, Reset: WindowLength}, "late settle opens a window")
		lim.Settle(ctx, "never-admitted", l, 100, 0) // nothing to refund
		d = admit(t, lim, "never-admitted", l, 10)
		wantWindow(t, d.Tokens, Window{Limit: 1000, Remaining: 990, Reset: WindowLength}, "refund without usage")
	})

	t.Run("monthly quota across a month boundary", func(t *testing.T) {
		t.Parallel()
		start := time.Date(2026, 1, 31, 23, 59, 0, 0, time.UTC)
		clk := newFakeClock(start)
		lim := newNS(t, clk)()
		ctx := context.Background()
		l := Limits{MonthlyTokens: 1000}
		d := admit(t, lim, "sub", l, 700)
		wantAllowed(t, d, "700 of 1000")
		wantWindow(t, d.Monthly, Window{Limit: 1000, Remaining: 300, Reset: time.Minute}, "after 700")
		if h := headersOf(d); len(h) != 0 {
			t.Fatalf("monthly-only decision wrote headers %v", h)
		}
		lim.Settle(ctx, "sub", l, 700, 1000)
		d = admit(t, lim, "sub", l, 1)
		wantDenied(t, d, ReasonMonthly, time.Minute, "quota used up")
		if h, want := headersOf(d), (http.Header{"Retry-After": {"60"}}); !reflect.DeepEqual(h, want) {
			t.Fatalf("headers %v, want %v", h, want)
		}
		clk.Advance(30 * time.Second)
		wantDenied(t, admit(t, lim, "sub", l, 1), ReasonMonthly, 30*time.Second, "30 s later")
		lim.Settle(ctx, "sub", l, 1000, 900) // a correction frees 100
		d = admit(t, lim, "sub", l, 500)
		wantAllowed(t, d, "below quota again; the last request may overshoot")
		wantWindow(t, d.Monthly, Window{Limit: 1000, Remaining: 0, Reset: 30 * time.Second}, "overshoot")
		wantDenied(t, admit(t, lim, "sub", l, 0), ReasonMonthly, 30*time.Second, "overshot")
		clk.Set(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
		// Calls admitted in January that end in February: a refund is dropped
		// (it belongs to January), extra tokens count in February.
		lim.Settle(ctx, "sub", l, 100, 0)
		lim.Settle(ctx, "sub", l, 0, 50)
		d = admit(t, lim, "sub", l, 250)
		wantAllowed(t, d, "new month")
		wantWindow(t, d.Monthly, Window{Limit: 1000, Remaining: 1000 - 50 - 250, Reset: 28 * 24 * time.Hour}, "new month")
	})

	t.Run("monthly quota at year end", func(t *testing.T) {
		t.Parallel()
		clk := newFakeClock(time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC))
		lim := newNS(t, clk)()
		l := Limits{MonthlyTokens: 10}
		wantAllowed(t, admit(t, lim, "sub", l, 10), "quota")
		wantDenied(t, admit(t, lim, "sub", l, 1), ReasonMonthly, time.Hour, "used up")
		clk.Advance(time.Hour)
		wantAllowed(t, admit(t, lim, "sub", l, 1), "January")
	})

	t.Run("longest wait wins", func(t *testing.T) {
		t.Parallel()
		clk := newFakeClock(t0)
		lim := newNS(t, clk)()
		l := Limits{RPM: 1, TPM: 10, MonthlyTokens: 1000}
		d := admit(t, lim, "sub", l, 10)
		wantAllowed(t, d, "first")
		wantWindow(t, d.Requests, Window{Limit: 1, Remaining: 0, Reset: WindowLength}, "requests")
		wantWindow(t, d.Tokens, Window{Limit: 10, Remaining: 0, Reset: WindowLength}, "tokens")
		wantWindow(t, d.Monthly, Window{Limit: 1000, Remaining: 990, Reset: 22*24*time.Hour - 12*time.Hour}, "monthly")
		clk.Advance(10 * time.Second)
		// RPM and TPM both refuse with 50 s left: requests is named first.
		wantDenied(t, admit(t, lim, "sub", l, 10), ReasonRequests, 50*time.Second, "tie")

		l2 := Limits{RPM: 1, MonthlyTokens: 10}
		wantAllowed(t, admit(t, lim, "sub2", l2, 10), "first of sub2")
		monthLeft := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC).Sub(clk.Now())
		wantDenied(t, admit(t, lim, "sub2", l2, 1), ReasonMonthly, monthLeft, "RPM and monthly")
	})

	t.Run("longest wait wins in the last minute of a month", func(t *testing.T) {
		t.Parallel()
		clk := newFakeClock(time.Date(2026, 4, 30, 23, 59, 30, 0, time.UTC))
		lim := newNS(t, clk)()
		l := Limits{RPM: 1, MonthlyTokens: 10}
		wantAllowed(t, admit(t, lim, "sub", l, 10), "first")
		// Monthly would allow again in 30 s, RPM only in 60 s.
		wantDenied(t, admit(t, lim, "sub", l, 1), ReasonRequests, WindowLength, "both refuse")
	})

	t.Run("unlimited", func(t *testing.T) {
		t.Parallel()
		clk := newFakeClock(t0)
		lim := newNS(t, clk)()
		for i := range 500 {
			d := admit(t, lim, "sub", Limits{}, 1_000_000)
			if d != (Decision{Allowed: true}) {
				t.Fatalf("request %d with no limits: %+v", i, d)
			}
			if h := headersOf(d); len(h) != 0 {
				t.Fatalf("no limits wrote headers %v", h)
			}
		}
		lim.Settle(context.Background(), "sub", Limits{}, 0, 1_000_000)
		// Only TPM set: no request headers, tokens never refused at est 0.
		l := Limits{TPM: 100}
		for range 500 {
			d := admit(t, lim, "sub2", l, 0)
			wantAllowed(t, d, "TPM only")
			if d.Requests != (Window{}) {
				t.Fatalf("requests window %+v with RPM unset", d.Requests)
			}
		}
		h := headersOf(admit(t, lim, "sub2", l, 0))
		want := http.Header{
			"X-Ratelimit-Limit-Tokens":     {"100"},
			"X-Ratelimit-Remaining-Tokens": {"100"},
			"X-Ratelimit-Reset-Tokens":     {"1m0s"},
		}
		if !reflect.DeepEqual(h, want) {
			t.Fatalf("headers:\n got %v\nwant %v", h, want)
		}
	})

	t.Run("subscriptions are independent", func(t *testing.T) {
		t.Parallel()
		clk := newFakeClock(t0)
		lim := newNS(t, clk)()
		l := Limits{RPM: 1}
		wantAllowed(t, admit(t, lim, "a", l, 0), "a")
		wantDenied(t, admit(t, lim, "a", l, 0), ReasonRequests, WindowLength, "a again")
		wantAllowed(t, admit(t, lim, "b", l, 0), "b")
	})

	t.Run("limiters of one namespace share the budget", func(t *testing.T) {
		t.Parallel()
		clk := newFakeClock(t0)
		ns := newNS(t, clk)
		a, b := ns(), ns()
		l := Limits{RPM: 60}
		for i := range 60 {
			lim := a
			if i%2 == 1 {
				lim = b
			}
			wantAllowed(t, admit(t, lim, "sub", l, 0), fmt.Sprint("request ", i+1))
		}
		wantDenied(t, admit(t, a, "sub", l, 0), ReasonRequests, WindowLength, "61st on a")
		wantDenied(t, admit(t, b, "sub", l, 0), ReasonRequests, WindowLength, "61st on b")
	})

	t.Run("concurrent admits count exactly", func(t *testing.T) {
		t.Parallel()
		clk := newFakeClock(t0)
		ns := newNS(t, clk)
		limiters := []Limiter{ns(), ns()}
		tests := []struct {
			name    string
			l       Limits
			est     int
			want    int64
			workers int
			each    int
		}{
			{"RPM", Limits{RPM: 500}, 0, 500, 50, 20},
			{"TPM", Limits{TPM: 1000}, 10, 100, 40, 10},
			{"monthly", Limits{MonthlyTokens: 250}, 1, 250, 40, 10},
		}
		for _, tt := range tests {
			var allowed atomic.Int64
			var wg sync.WaitGroup
			errs := make(chan error, tt.workers)
			for g := range tt.workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					lim := limiters[g%len(limiters)]
					for range tt.each {
						d, err := lim.Admit(context.Background(), "sub-"+tt.name, tt.l, tt.est)
						if err != nil {
							errs <- err
							return
						}
						if d.Allowed {
							allowed.Add(1)
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			if got := allowed.Load(); got != tt.want {
				t.Errorf("%s: %d of %d admitted, want exactly %d", tt.name, got, tt.workers*tt.each, tt.want)
			}
		}
	})

	t.Run("concurrent settles add up", func(t *testing.T) {
		t.Parallel()
		clk := newFakeClock(t0)
		ns := newNS(t, clk)
		limiters := []Limiter{ns(), ns()}
		l := Limits{TPM: 100_000, MonthlyTokens: 1_000_000}
		var wg sync.WaitGroup
		for g := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				lim := limiters[g%len(limiters)]
				for range 10 {
					if d, err := lim.Admit(context.Background(), "sub", l, 10); err != nil || !d.Allowed {
						t.Errorf("Admit = %+v, %v", d, err)
						return
					}
					lim.Settle(context.Background(), "sub", l, 10, 15)
				}
			}()
		}
		wg.Wait()
		d := admit(t, limiters[0], "sub", l, 0)
		wantWindow(t, d.Tokens, Window{Limit: 100_000, Remaining: 100_000 - 400*15, Reset: WindowLength}, "tokens")
		if d.Monthly.Remaining != 1_000_000-400*15 {
			t.Fatalf("monthly remaining %d, want %d", d.Monthly.Remaining, 1_000_000-400*15)
		}
	})
}

func TestHeaders(t *testing.T) {
	tests := []struct {
		name string
		d    Decision
		want http.Header
	}{
		{"nothing set", Decision{Allowed: true}, http.Header{}},
		{"allowed, both trios", Decision{
			Allowed:  true,
			Requests: Window{Limit: 5000, Remaining: 4999, Reset: 12 * time.Millisecond},
			Tokens:   Window{Limit: 160000, Remaining: 159976, Reset: 6 * time.Minute},
		}, http.Header{
			"X-Ratelimit-Limit-Requests":     {"5000"},
			"X-Ratelimit-Remaining-Requests": {"4999"},
			"X-Ratelimit-Reset-Requests":     {"12ms"},
			"X-Ratelimit-Limit-Tokens":       {"160000"},
			"X-Ratelimit-Remaining-Tokens":   {"159976"},
			"X-Ratelimit-Reset-Tokens":       {"6m0s"},
		}},
		{"refused, retry rounded up", Decision{
			RetryAfter: 1500 * time.Millisecond,
			Reason:     ReasonRequests,
			Requests:   Window{Limit: 60, Remaining: 0, Reset: 1500 * time.Millisecond},
		}, http.Header{
			"X-Ratelimit-Limit-Requests":     {"60"},
			"X-Ratelimit-Remaining-Requests": {"0"},
			"X-Ratelimit-Reset-Requests":     {"1.5s"},
			"Retry-After":                    {"2"},
		}},
		{"refused, retry at least 1", Decision{RetryAfter: 0, Reason: ReasonTokens}, http.Header{"Retry-After": {"1"}}},
		{"negative remaining shows 0", Decision{
			Allowed: true,
			Tokens:  Window{Limit: 10, Remaining: -5, Reset: time.Second},
		}, http.Header{
			"X-Ratelimit-Limit-Tokens":     {"10"},
			"X-Ratelimit-Remaining-Tokens": {"0"},
			"X-Ratelimit-Reset-Tokens":     {"1s"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := headersOf(tt.d)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("headers:\n got %v\nwant %v", got, tt.want)
			}
			// The names are the lower-case ones OpenAI sends, once canonicalized.
			for name := range got {
				if http.CanonicalHeaderKey(name) != name {
					t.Errorf("header %q is not in canonical form", name)
				}
			}
		})
	}
	if got := headersOf(Decision{Allowed: true, Requests: Window{Limit: 1, Reset: time.Second}}).Get("x-ratelimit-reset-requests"); got != "1s" {
		t.Fatalf("lookup by OpenAI's lower-case name = %q", got)
	}
}

func TestFormatReset(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"},
		{-time.Second, "0s"},
		{time.Nanosecond, "1ms"},
		{20 * time.Millisecond, "20ms"},
		{time.Millisecond + time.Microsecond, "2ms"},
		{time.Second, "1s"},
		{59*time.Second + 500*time.Millisecond, "59.5s"},
		{time.Minute, "1m0s"},
		{6 * time.Minute, "6m0s"},
		{90*time.Second + 250*time.Millisecond, "1m30.25s"},
		{28 * 24 * time.Hour, "672h0m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.in.String(), func(t *testing.T) {
			if got := FormatReset(tt.in); got != tt.want {
				t.Fatalf("FormatReset(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want int64
	}{
		{0, 1}, {-time.Second, 1}, {time.Nanosecond, 1}, {time.Second, 1},
		{time.Second + time.Millisecond, 2}, {30 * time.Second, 30}, {time.Hour, 3600},
	}
	for _, tt := range tests {
		if got := retryAfterSeconds(tt.in); got != tt.want {
			t.Errorf("retryAfterSeconds(%v) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestMonthOf(t *testing.T) {
	plus2 := time.FixedZone("UTC+2", 2*3600)
	tests := []struct {
		name      string
		in        time.Time
		wantMonth int64
		wantLeft  time.Duration
	}{
		{"mid month", time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC), 2026*12 + 2, 21*24*time.Hour + 12*time.Hour},
		{"first instant", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), 2026*12 + 2, 31 * 24 * time.Hour},
		{"last second of leap February", time.Date(2028, 2, 29, 23, 59, 59, 0, time.UTC), 2028*12 + 1, time.Second},
		{"December", time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC), 2026*12 + 11, time.Hour},
		{"non-UTC input uses the UTC month", time.Date(2026, 3, 1, 1, 0, 0, 0, plus2), 2026*12 + 1, time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, left := monthOf(tt.in)
			if m != tt.wantMonth || left != tt.wantLeft {
				t.Fatalf("monthOf = %d, %v; want %d, %v", m, left, tt.wantMonth, tt.wantLeft)
			}
		})
	}
	// January follows December.
	dec, _ := monthOf(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	jan, _ := monthOf(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	if jan != dec+1 {
		t.Fatalf("January %d does not follow December %d", jan, dec)
	}
}

func TestMemoryMonthCacheAcrossBoundary(t *testing.T) {
	clk := newFakeClock(time.Date(2026, 2, 28, 23, 59, 59, 0, time.UTC))
	m := NewMemory(clk)
	for _, tc := range []struct {
		at   time.Time
		left time.Duration
	}{
		{time.Date(2026, 2, 28, 23, 59, 59, 0, time.UTC), time.Second},
		{time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), 31 * 24 * time.Hour},
		{time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC), 24 * time.Hour}, // clock went back
	} {
		id, _ := monthOf(tc.at)
		gotID, gotLeft := m.monthAt(tc.at, tc.at.UnixNano())
		if gotID != id || gotLeft != tc.left {
			t.Fatalf("monthAt(%v) = %d, %v; want %d, %v", tc.at, gotID, gotLeft, id, tc.left)
		}
	}
}

func TestMemorySweep(t *testing.T) {
	now := t0.UnixNano()
	month, _ := monthOf(t0)
	minute := int64(WindowLength)
	s := memShard{subs: map[string]*counters{
		"request window running": {reqStart: now - minute/2, reqs: 1},
		"token window running":   {tokStart: now - minute/2, toks: 5},
		"tokens this month":      {reqStart: now - 2*minute, month: month, monthToks: 5},
		"tokens last month":      {reqStart: now - 2*minute, month: month - 1, monthToks: 5},
		"nothing left":           {reqStart: now - 2*minute, tokStart: now - 2*minute, month: month},
		"window just ended":      {reqStart: now - minute},
	}}
	s.sweep(now, month)
	var kept []string
	for _, k := range []string{"request window running", "token window running", "tokens this month"} {
		if s.subs[k] == nil {
			t.Errorf("%q was removed", k)
		}
	}
	for k := range s.subs {
		kept = append(kept, k)
	}
	if len(s.subs) != 3 {
		t.Fatalf("kept %v, want the 3 running entries", kept)
	}
	if s.nextSweep != now+minute {
		t.Fatalf("next sweep at %d, want a minute later", s.nextSweep)
	}
}

func TestMemoryDoesNotGrowWithoutBound(t *testing.T) {
	clk := newFakeClock(t0)
	m := NewMemory(clk)
	l := Limits{RPM: 10}
	for minute := range 10 {
		for i := range 1000 {
			admit(t, m, fmt.Sprintf("m%d-s%d", minute, i), l, 0)
		}
		clk.Advance(WindowLength + time.Second)
	}
	n := 0
	for i := range m.shards {
		n += len(m.shards[i].subs)
	}
	if n > 2500 {
		t.Fatalf("%d entries kept after 10 minutes of 1000 new subscriptions each", n)
	}
}

func TestMemoryAdmitAllocations(t *testing.T) {
	m := NewMemory(newFakeClock(t0))
	l := Limits{RPM: 1 << 30, TPM: 1 << 30, MonthlyTokens: 1 << 40}
	admit(t, m, "sub", l, 10)
	allocs := testing.AllocsPerRun(200, func() {
		if d, _ := m.Admit(context.Background(), "sub", l, 10); !d.Allowed {
			t.Fatal("refused")
		}
	})
	if allocs > 1 {
		t.Fatalf("Admit allocates %.0f times, want ≤ 1", allocs)
	}
}

func benchSubs(n int) []string {
	subs := make([]string, n)
	for i := range subs {
		subs[i] = fmt.Sprintf("sub_%06d", i)
	}
	return subs
}

func BenchmarkMemoryAdmit(b *testing.B) {
	m := NewMemory(realClock{})
	subs := benchSubs(1000)
	l := Limits{RPM: 1 << 30, TPM: 1 << 30, MonthlyTokens: 1 << 50}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m.Admit(ctx, subs[i%len(subs)], l, 100)
		i++
	}
}

func BenchmarkMemoryAdmitParallel(b *testing.B) {
	m := NewMemory(realClock{})
	subs := benchSubs(1000)
	l := Limits{RPM: 1 << 30, TPM: 1 << 30, MonthlyTokens: 1 << 50}
	ctx := context.Background()
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := int(next.Add(7919))
		for pb.Next() {
			m.Admit(ctx, subs[i%len(subs)], l, 100)
			i++
		}
	})
}
