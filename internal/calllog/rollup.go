package calllog

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// LatencyBounds are the upper bounds of the latency histogram buckets of
// call_rollups, fixed by migration 4: column lat_le_N (and ttft_le_N)
// counts calls in (previous bound, N ms], lat_inf (ttft_inf) those above
// the last bound. Roughly log-spaced, finer where LLM latencies fall.
var LatencyBounds = []time.Duration{
	5 * time.Millisecond, 10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 150 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond,
	500 * time.Millisecond, 750 * time.Millisecond, time.Second, 1500 * time.Millisecond,
	2 * time.Second, 3 * time.Second, 5 * time.Second, 10 * time.Second,
	20 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute,
}

// numBuckets is the number of histogram columns per histogram: one per
// bound plus the overflow bucket.
const numBuckets = 21

// LatencyColumns and TTFTColumns name the histogram columns of
// call_rollups in bucket order (the last is the overflow bucket).
var (
	LatencyColumns = histogramColumns("lat")
	TTFTColumns    = histogramColumns("ttft")
)

func histogramColumns(prefix string) []string {
	cols := make([]string, 0, numBuckets)
	for _, b := range LatencyBounds {
		cols = append(cols, fmt.Sprintf("%s_le_%d", prefix, b.Milliseconds()))
	}
	return append(cols, prefix+"_inf")
}

// bucketIndex returns the histogram bucket of d.
func bucketIndex(d time.Duration) int {
	return sort.Search(len(LatencyBounds), func(i int) bool { return d <= LatencyBounds[i] })
}

// Quantile estimates the q-quantile (0 < q ≤ 1) of a latency histogram
// given its bucket counts in LatencyColumns order, interpolating linearly
// within the bucket; calls in the overflow bucket count as the last bound.
// It returns 0 for an empty histogram.
func Quantile(counts []int64, q float64) time.Duration {
	var total int64
	for _, c := range counts {
		total += c
	}
	if total == 0 {
		return 0
	}
	rank := q * float64(total)
	var seen float64
	for i, c := range counts {
		if c == 0 {
			continue
		}
		if seen+float64(c) >= rank || i == len(counts)-1 {
			if i >= len(LatencyBounds) {
				return LatencyBounds[len(LatencyBounds)-1]
			}
			lo := time.Duration(0)
			if i > 0 {
				lo = LatencyBounds[i-1]
			}
			frac := math.Max(0, (rank-seen)/float64(c))
			return lo + time.Duration(frac*float64(LatencyBounds[i]-lo))
		}
		seen += float64(c)
	}
	return LatencyBounds[len(LatencyBounds)-1]
}

// rollupKey identifies one row of call_rollups.
type rollupKey struct {
	minute                         int64 // Unix minutes, UTC
	service, consumer, team        uint64
	model, provider, endpoint, cls string
	prompt                         string
}

// rollupSums are the counters a batch adds to one rollup row.
type rollupSums struct {
	requests, errors, tokensIn, tokensOut, bytesIn, bytesOut int64
	latencyUS, ttftUS, ttftCount                             int64
	cost                                                     float64
	lat, ttft                                                [numBuckets]int64
}

// aggregate folds records into per-key sums, in first-seen order.
func aggregate(recs []*Record) ([]rollupKey, map[rollupKey]*rollupSums) {
	sums := make(map[rollupKey]*rollupSums)
	var keys []rollupKey
	for _, r := range recs {
		k := rollupKey{
			minute: r.StartedAt.Truncate(time.Minute).Unix() / 60, service: r.ServiceID, consumer: r.ConsumerID, team: r.TeamID,
			model: clip(r.Model, sizeModel), provider: clip(r.Provider, sizeProvider),
			endpoint: clip(r.Endpoint, sizeEndpoint), cls: StatusClass(r.Status),
			prompt: clip(r.PromptSlug, sizePromptSlug),
		}
		s := sums[k]
		if s == nil {
			s = &rollupSums{}
			sums[k] = s
			keys = append(keys, k)
		}
		s.requests++
		if r.IsError() {
			s.errors++
		}
		s.tokensIn += r.TokensIn
		s.tokensOut += r.TokensOut
		s.bytesIn += r.BytesIn
		s.bytesOut += r.BytesOut
		s.cost += r.Cost
		s.latencyUS += r.Total.Microseconds()
		s.lat[bucketIndex(r.Total)]++
		if r.TTFT > 0 {
			s.ttftUS += r.TTFT.Microseconds()
			s.ttftCount++
			s.ttft[bucketIndex(r.TTFT)]++
		}
	}
	return keys, sums
}

// rollupKeyColumns is the unique key of call_rollups.
var rollupKeyColumns = []string{"bucket", "service_id", "consumer_id", "team_id", "model", "provider", "endpoint", "status_class", "prompt"}

// rollupSumColumns are the columns an upsert adds to.
var rollupSumColumns = append([]string{"requests", "errors", "tokens_in", "tokens_out", "cost",
	"bytes_in", "bytes_out", "latency_us", "ttft_us", "ttft_count"}, append(append([]string(nil), LatencyColumns...), TTFTColumns...)...)
