package calllog

import (
	"encoding/json"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func slogTo(b *strings.Builder, mu *sync.Mutex) *slog.Logger {
	return slog.New(slog.NewTextHandler(lockedWriter{mu, b}, nil))
}

func TestNewIDIsAUniqueUUIDv7(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	at := time.Date(2026, 3, 1, 10, 0, 0, 123e6, time.UTC)
	seen := map[string]bool{}
	for range 100000 {
		id := newID(at)
		if !re.MatchString(id) {
			t.Fatalf("%q is not a UUIDv7", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
	// The first 48 bits are the Unix milliseconds, so ids sort by time.
	if a, b := newID(at), newID(at.Add(time.Millisecond)); a[:13] >= b[:13] {
		t.Fatalf("ids not time-ordered: %s, %s", a, b)
	}
	if got := newID(at)[:8] + newID(at)[9:13]; got != "019ca8d72d7b" {
		t.Fatalf("timestamp prefix %s, want 019ca8d72d7b", got)
	}
}

func TestStatusClassAndErrors(t *testing.T) {
	for _, c := range []struct {
		status int
		errMsg string
		class  string
		isErr  bool
	}{
		{200, "", "2xx", false},
		{204, "", "2xx", false},
		{200, "stream broke", "2xx", true},
		{301, "", "other", true},
		{401, "", "4xx", true},
		{499, "client gone", "4xx", true},
		{502, "", "5xx", true},
		{0, "dial failed", "other", true},
		{600, "", "other", true},
	} {
		r := Record{Status: c.status, Error: c.errMsg}
		if got := StatusClass(c.status); got != c.class {
			t.Errorf("StatusClass(%d) = %s, want %s", c.status, got, c.class)
		}
		if got := r.IsError(); got != c.isErr {
			t.Errorf("IsError(%d, %q) = %v, want %v", c.status, c.errMsg, got, c.isErr)
		}
	}
}

func TestLatencyBucketColumns(t *testing.T) {
	if len(LatencyColumns) != numBuckets || len(TTFTColumns) != numBuckets || len(LatencyBounds)+1 != numBuckets {
		t.Fatalf("%d bounds, %d/%d columns", len(LatencyBounds), len(LatencyColumns), len(TTFTColumns))
	}
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{0, "lat_le_5"},
		{5 * time.Millisecond, "lat_le_5"},
		{5*time.Millisecond + time.Microsecond, "lat_le_10"},
		{420 * time.Millisecond, "lat_le_500"},
		{time.Second, "lat_le_1000"},
		{119 * time.Second, "lat_le_120000"},
		{2 * time.Minute, "lat_le_120000"},
		{2*time.Minute + time.Millisecond, "lat_inf"},
		{time.Hour, "lat_inf"},
	} {
		if got := LatencyColumns[bucketIndex(c.d)]; got != c.want {
			t.Errorf("%s lands in %s, want %s", c.d, got, c.want)
		}
	}
	if TTFTColumns[3] != "ttft_le_50" {
		t.Errorf("TTFTColumns[3] = %s", TTFTColumns[3])
	}
}

func TestQuantile(t *testing.T) {
	counts := func(m map[int]int64) []int64 {
		c := make([]int64, numBuckets)
		for i, n := range m {
			c[i] = n
		}
		return c
	}
	for _, c := range []struct {
		name   string
		counts []int64
		q      float64
		want   time.Duration
	}{
		{"empty", counts(nil), 0.5, 0},
		{"all in (100,150] ms, median at the middle", counts(map[int]int64{5: 10}), 0.5, 125 * time.Millisecond},
		{"p99 in the top bucket", counts(map[int]int64{4: 99, 10: 1}), 0.99, 100 * time.Millisecond},
		{"p100 reaches the slow call", counts(map[int]int64{4: 99, 10: 1}), 1, time.Second},
		{"overflow counts as the last bound", counts(map[int]int64{20: 3}), 0.5, 2 * time.Minute},
		{"first bucket from zero", counts(map[int]int64{0: 4}), 0.5, 2500 * time.Microsecond},
	} {
		if got := Quantile(c.counts, c.q); got != c.want {
			t.Errorf("%s: Quantile = %s, want %s", c.name, got, c.want)
		}
	}
}

func TestClip(t *testing.T) {
	for _, c := range []struct {
		in, want string
		n        int
	}{
		{"plain", "plain", 10},
		{"abcdef", "abc", 3},
		{"héllo", "h", 2}, // never splits a rune
		{"a\x00b", "ab", 10},
		{"a\xffb", "a\uFFFDb", 10},
	} {
		if got := clip(c.in, c.n); got != c.want {
			t.Errorf("clip(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}

func TestAttemptsRoundTripInMicroseconds(t *testing.T) {
	in := []Attempt{{TargetID: 3, Provider: "p", UpstreamModel: "m", Status: 503, Error: "overloaded", Start: 1500 * time.Microsecond,
		DNS: time.Millisecond, Connect: 2 * time.Millisecond, TLS: 3 * time.Millisecond, TTFB: 4 * time.Millisecond, Transfer: 5 * time.Millisecond, Retried: true}}
	row := toRow(&Record{ID: "x", Attempts: in})
	if !strings.Contains(row.Attempts, `"dns_us":1000`) || !strings.Contains(row.Attempts, `"start_us":1500`) {
		t.Fatalf("attempts column %s", row.Attempts)
	}
	out, err := DecodeAttempts(row.Attempts)
	if err != nil || len(out) != 1 || out[0] != in[0] {
		t.Fatalf("round trip = %+v, %v", out, err)
	}
}

func TestAttemptsJSONMatchesMarshal(t *testing.T) {
	long := strings.Repeat("é", 700)
	for _, in := range [][]Attempt{
		{{Status: 200}},
		{{TargetID: 3, Provider: "p", UpstreamModel: "m", Status: 503, Error: "overloaded", Start: 1500 * time.Microsecond,
			DNS: time.Millisecond, Connect: 2 * time.Millisecond, TLS: 3 * time.Millisecond, TTFB: 4 * time.Millisecond,
			Transfer: 5 * time.Millisecond, Retried: true}, {TargetID: 4, Status: 0, Error: "dial tcp: refused"}},
		{{Provider: `a "quoted" <b>&\path` + "\n\t\u2028", UpstreamModel: long, Error: long + "\xff\x00", Start: -time.Microsecond}},
	} {
		clipped := make([]Attempt, len(in))
		for i, a := range in {
			a.Provider, a.UpstreamModel, a.Error = clip(a.Provider, sizeProvider), clip(a.UpstreamModel, sizeModel), clip(a.Error, 1024)
			clipped[i] = a
		}
		want, err := json.Marshal(clipped)
		if err != nil {
			t.Fatal(err)
		}
		if got := attemptsJSON(in); got != string(want) {
			t.Errorf("attemptsJSON =\n%s\nwant\n%s", got, want)
		}
	}
	many := make([]Attempt, maxAttempts+5)
	if out, err := DecodeAttempts(attemptsJSON(many)); err != nil || len(out) != maxAttempts {
		t.Fatalf("%d attempts kept (%v), want %d", len(out), err, maxAttempts)
	}
}
