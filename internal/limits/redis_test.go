package limits

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisOptions returns the options of SLUICE_TEST_REDIS, or skips the test.
func redisOptions(t testing.TB) *redis.Options {
	t.Helper()
	u := os.Getenv("SLUICE_TEST_REDIS")
	if u == "" {
		t.Skip("SLUICE_TEST_REDIS not set: Redis limiter suite skipped")
	}
	opt, err := redis.ParseURL(u)
	if err != nil {
		t.Fatalf("SLUICE_TEST_REDIS: %v", err)
	}
	opt.ContextTimeoutEnabled = true
	return opt
}

func newTestClient(t testing.TB, opt *redis.Options) *redis.Client {
	t.Helper()
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

var prefixSeq atomic.Int64

// uniquePrefix returns a key prefix no other test (or test run) uses, and
// deletes its keys when the test ends.
func uniquePrefix(t testing.TB, c *redis.Client) string {
	t.Helper()
	p := fmt.Sprintf("sluicetest:%d:%d:", time.Now().UnixNano(), prefixSeq.Add(1))
	t.Cleanup(func() {
		ctx := context.Background()
		iter := c.Scan(ctx, 0, p+"*", 100).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
	})
	return p
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) count(substr string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Count(s.b.String(), substr)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const (
	logOutage   = "Redis unavailable"
	logRecovery = "shared counting resumed"
)

// redisBackend makes Redis limiters sharing one key prefix; the test fails if
// any of them answered from its fallback, so the suite really tests Redis.
func redisBackend(t *testing.T, clock Clock) func() Limiter {
	client := newTestClient(t, redisOptions(t))
	prefix := uniquePrefix(t, client)
	var made []*Redis
	var mu sync.Mutex
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range made {
			if n := r.Fallbacks(); n != 0 {
				t.Errorf("%d calls answered by the fallback, not Redis", n)
			}
		}
	})
	return func() Limiter {
		r := NewRedis(client, clock, nil, nil)
		r.KeyPrefix = prefix
		r.Timeout = 2 * time.Second // generous: -race on a busy machine
		mu.Lock()
		made = append(made, r)
		mu.Unlock()
		return r
	}
}

func TestRedisConformance(t *testing.T) {
	redisOptions(t) // skip once, not in every subtest
	runConformance(t, redisBackend)
}

// closedAddr returns an address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestRedisFallsBackWhenUnreachable(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: closedAddr(t), MaxRetries: -1, ContextTimeoutEnabled: true})
	t.Cleanup(func() { client.Close() })
	clk := newFakeClock(t0)
	var logs syncBuffer
	r := NewRedis(client, clk, nil, slog.New(slog.NewTextHandler(&logs, nil)))
	var hook atomic.Int64
	r.OnFallback = func() { hook.Add(1) }

	l := Limits{RPM: 3}
	want := []bool{true, true, true, false, false}
	for i, w := range want {
		d := admit(t, r, "sub", l, 0)
		if d.Allowed != w {
			t.Fatalf("request %d: allowed=%v, want %v (the fallback must still count)", i+1, d.Allowed, w)
		}
		clk.Advance(2 * time.Second) // past RetryInterval: Redis is tried (and fails) every time
	}
	r.Settle(context.Background(), "sub", Limits{TPM: 10}, 0, 5)
	if got := r.Fallbacks(); got != 6 {
		t.Errorf("Fallbacks() = %d, want 6", got)
	}
	if got := hook.Load(); got != 6 {
		t.Errorf("OnFallback called %d times, want 6", got)
	}
	if n := logs.count(logOutage); n != 1 {
		t.Errorf("outage logged %d times, want once:\n%s", n, logs.String())
	}
	if n := logs.count(logRecovery); n != 0 {
		t.Errorf("recovery logged without recovery:\n%s", logs.String())
	}
}

func TestRedisCallerCancelIsAnError(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: closedAddr(t), MaxRetries: -1, ContextTimeoutEnabled: true})
	t.Cleanup(func() { client.Close() })
	r := NewRedis(client, newFakeClock(t0), nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d, err := r.Admit(ctx, "sub", Limits{RPM: 1}, 0)
	if !errors.Is(err, context.Canceled) || d.Allowed {
		t.Fatalf("Admit with a cancelled context = %+v, %v; want context.Canceled", d, err)
	}
	if r.Fallbacks() != 0 {
		t.Fatalf("a caller that left counted as a fallback")
	}
}

func TestRedisBreakerSkipsRedisBetweenRetries(t *testing.T) {
	var dials atomic.Int64
	client := redis.NewClient(&redis.Options{
		Addr:       "redis.invalid:6379",
		MaxRetries: -1,
		Dialer: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return nil, errors.New("dial refused by test")
		},
		ContextTimeoutEnabled: true,
	})
	t.Cleanup(func() { client.Close() })
	clk := newFakeClock(t0)
	r := NewRedis(client, clk, nil, nil)
	admit(t, r, "sub", Limits{RPM: 100}, 0)
	first := dials.Load()
	if first == 0 {
		t.Fatal("Redis was not tried")
	}
	for range 20 {
		admit(t, r, "sub", Limits{RPM: 100}, 0)
	}
	if got := dials.Load(); got != first {
		t.Fatalf("%d dials within RetryInterval of a failure, want none", got-first)
	}
	clk.Advance(r.RetryInterval)
	admit(t, r, "sub", Limits{RPM: 100}, 0)
	if got := dials.Load(); got == first {
		t.Fatal("Redis not retried after RetryInterval")
	}
	if got := r.Fallbacks(); got != 22 {
		t.Fatalf("Fallbacks() = %d, want 22", got)
	}
}

func TestRedisFallsBackWhenRedisHangs(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns sync.WaitGroup
	done := make(chan struct{})
	t.Cleanup(func() { close(done); ln.Close(); conns.Wait() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() { // read and never answer
				defer conns.Done()
				defer c.Close()
				go func() { <-done; c.Close() }()
				buf := make([]byte, 4096)
				for {
					if _, err := c.Read(buf); err != nil {
						return
					}
				}
			}()
		}
	}()
	client := redis.NewClient(&redis.Options{Addr: ln.Addr().String(), MaxRetries: -1, ContextTimeoutEnabled: true})
	t.Cleanup(func() { client.Close() })
	r := NewRedis(client, newFakeClock(t0), nil, nil)
	start := time.Now()
	d := admit(t, r, "sub", Limits{RPM: 1}, 0)
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Fatalf("Admit took %v with a %v timeout", elapsed, r.Timeout)
	}
	if !d.Allowed || r.Fallbacks() != 1 {
		t.Fatalf("Admit = %+v, fallbacks %d; want allowed by the fallback", d, r.Fallbacks())
	}
}

func TestRedisRecovers(t *testing.T) {
	opt := redisOptions(t)
	var down atomic.Bool
	down.Store(true)
	flaky := *opt
	flaky.MaxRetries = -1
	flaky.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if down.Load() {
			return nil, errors.New("redis down (test)")
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	client := newTestClient(t, &flaky)
	healthy := newTestClient(t, opt)
	prefix := uniquePrefix(t, healthy)

	clk := newFakeClock(t0)
	var logs syncBuffer
	r := NewRedis(client, clk, nil, slog.New(slog.NewTextHandler(&logs, nil)))
	r.KeyPrefix = prefix
	r.Timeout = 2 * time.Second
	other := NewRedis(healthy, clk, nil, nil)
	other.KeyPrefix = prefix
	other.Timeout = 2 * time.Second
	l := Limits{RPM: 10}

	wantAllowed(t, admit(t, r, "sub", l, 0), "during outage")
	if r.Fallbacks() != 1 || logs.count(logOutage) != 1 {
		t.Fatalf("after outage: fallbacks %d, logs:\n%s", r.Fallbacks(), logs.String())
	}
	down.Store(false)
	wantAllowed(t, admit(t, r, "sub", l, 0), "Redis back, within RetryInterval")
	if r.Fallbacks() != 2 {
		t.Fatalf("Redis tried again before RetryInterval: fallbacks %d", r.Fallbacks())
	}
	clk.Advance(r.RetryInterval)
	for i := range 3 {
		wantAllowed(t, admit(t, r, "sub", l, 0), fmt.Sprint("after recovery ", i+1))
	}
	if r.Fallbacks() != 2 {
		t.Fatalf("fallbacks %d after recovery, want still 2", r.Fallbacks())
	}
	if n := logs.count(logRecovery); n != 1 {
		t.Fatalf("recovery logged %d times, want once:\n%s", n, logs.String())
	}
	// The three admits after recovery were counted in Redis, where another
	// replica sees them; the two answered in memory were not.
	d := admit(t, other, "sub", l, 0)
	wantWindow(t, d.Requests, Window{Limit: 10, Remaining: 6, Reset: WindowLength}, "seen by another replica")
	if n := logs.count(logOutage); n != 1 {
		t.Fatalf("outage logged %d times:\n%s", n, logs.String())
	}
}

func TestRedisKeyExpires(t *testing.T) {
	opt := redisOptions(t)
	client := newTestClient(t, opt)
	prefix := uniquePrefix(t, client)
	clk := newFakeClock(time.Date(2026, 3, 31, 23, 0, 0, 0, time.UTC))
	r := NewRedis(client, clk, nil, nil)
	r.KeyPrefix = prefix
	ctx := context.Background()

	admit(t, r, "minute", Limits{RPM: 5}, 0)
	if ttl := client.PTTL(ctx, prefix+"minute").Val(); ttl <= 0 || ttl > 2*WindowLength {
		t.Fatalf("TTL of a minute-only key = %v, want (0, 2m]", ttl)
	}
	admit(t, r, "month", Limits{MonthlyTokens: 100}, 10)
	if ttl := client.PTTL(ctx, prefix+"month").Val(); ttl <= time.Hour || ttl > time.Hour+WindowLength {
		t.Fatalf("TTL of a key holding monthly tokens = %v, want the rest of the month + 1m", ttl)
	}
}

func BenchmarkRedisAdmit(b *testing.B) {
	opt := redisOptions(b)
	client := newTestClient(b, opt)
	r := NewRedis(client, realClock{}, nil, nil)
	r.KeyPrefix = uniquePrefix(b, client)
	subs := benchSubs(1000)
	l := Limits{RPM: 1 << 30, TPM: 1 << 30, MonthlyTokens: 1 << 50}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := r.Admit(ctx, subs[i%len(subs)], l, 100); err != nil {
			b.Fatal(err)
		}
		i++
	}
	if r.Fallbacks() != 0 {
		b.Fatalf("%d fallbacks", r.Fallbacks())
	}
}

func BenchmarkRedisAdmitParallel(b *testing.B) {
	opt := redisOptions(b)
	client := newTestClient(b, opt)
	r := NewRedis(client, realClock{}, nil, nil)
	r.KeyPrefix = uniquePrefix(b, client)
	subs := benchSubs(1000)
	l := Limits{RPM: 1 << 30, TPM: 1 << 30, MonthlyTokens: 1 << 50}
	ctx := context.Background()
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := int(next.Add(7919))
		for pb.Next() {
			if _, err := r.Admit(ctx, subs[i%len(subs)], l, 100); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}
