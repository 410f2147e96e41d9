package calllog

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Analytics are computed from the rollup tables only, never from
// call_logs: each part of the range is read from the coarsest table that
// covers it (whole days from call_rollups_daily, whole hours from
// call_rollups_hourly, the minutes at the ends from call_rollups), grouped
// by bucket (truncated in SQL) and group in one UNION ALL query; the
// latency and TTFT histograms are summed per group and their percentiles
// estimated by Quantile.

// Bucket sizes of Analytics.
const (
	BucketMinute = "minute"
	BucketHour   = "hour"
	BucketDay    = "day"
)

// bucketSizes are the durations of the bucket sizes.
var bucketSizes = map[string]time.Duration{BucketMinute: time.Minute, BucketHour: time.Hour, BucketDay: 24 * time.Hour}

// MaxBuckets bounds the buckets of one Analytics query (a week of minutes).
const MaxBuckets = 7 * 24 * 60

// groupColumns are the columns Analytics and Top group by.
var groupColumns = map[string]string{
	"service": "service_id", "consumer": "consumer_id", "model": "model", "provider": "provider", "endpoint": "endpoint", "prompt": "prompt",
}

// GroupNames lists what Analytics and Top can group by.
var GroupNames = []string{"service", "consumer", "model", "provider", "endpoint", "prompt"}

// AnalyticsQuery selects the rollups of a chart.
type AnalyticsQuery struct {
	Scope Scope
	// Since (inclusive) and Until (exclusive) bound the minutes counted;
	// the first and last buckets may be partial.
	Since, Until time.Time
	// Bucket is minute, hour or day (UTC).
	Bucket string
	// GroupBy is service, consumer, model, provider, endpoint, or empty
	// for one series.
	GroupBy string
	// ServiceID, ConsumerID and Model, when set, count only their calls.
	ServiceID, ConsumerID uint64
	Model                 string
}

// Stats are the counters of a bucket, a group or a whole range. Latencies
// are estimated from the rollup histograms (see Quantile).
type Stats struct {
	Requests int64 `json:"requests"`
	// Errors counts every call that failed; Errors4xx and Errors5xx those
	// answered with a 4xx or 5xx status.
	Errors       int64   `json:"errors"`
	Errors4xx    int64   `json:"errors_4xx"`
	Errors5xx    int64   `json:"errors_5xx"`
	TokensIn     int64   `json:"tokens_in"`
	TokensOut    int64   `json:"tokens_out"`
	Cost         float64 `json:"cost"`
	LatencyAvgMS float64 `json:"latency_avg_ms"`
	LatencyP50MS float64 `json:"latency_p50_ms"`
	LatencyP95MS float64 `json:"latency_p95_ms"`
	LatencyP99MS float64 `json:"latency_p99_ms"`
	// TTFT counts only calls that streamed a first token.
	TTFTP50MS float64 `json:"ttft_p50_ms"`
	TTFTP95MS float64 `json:"ttft_p95_ms"`
}

// Point is one bucket of one group.
type Point struct {
	Group       string    `json:"group"`
	BucketStart time.Time `json:"bucket_start"`
	Stats
}

// GroupTotal is one group over the whole range.
type GroupTotal struct {
	Group string `json:"group"`
	Stats
}

// AnalyticsResult is a chart: points ordered by group, then time; group
// totals by requests, most first; and the total.
type AnalyticsResult struct {
	Since   time.Time    `json:"since"`
	Until   time.Time    `json:"until"`
	Bucket  string       `json:"bucket"`
	GroupBy string       `json:"group_by"`
	Data    []Point      `json:"data"`
	Groups  []GroupTotal `json:"groups"`
	Total   Stats        `json:"total"`
}

// acc sums rollup rows.
type acc struct {
	requests, errors, e4, e5, tokensIn, tokensOut, latencyUS int64
	cost                                                     float64
	lat, ttft                                                [numBuckets]int64
}

func (a *acc) add(b *acc) {
	a.requests += b.requests
	a.errors += b.errors
	a.e4 += b.e4
	a.e5 += b.e5
	a.tokensIn += b.tokensIn
	a.tokensOut += b.tokensOut
	a.latencyUS += b.latencyUS
	a.cost += b.cost
	for i := range a.lat {
		a.lat[i] += b.lat[i]
		a.ttft[i] += b.ttft[i]
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func (a *acc) stats() Stats {
	s := Stats{Requests: a.requests, Errors: a.errors, Errors4xx: a.e4, Errors5xx: a.e5,
		TokensIn: a.tokensIn, TokensOut: a.tokensOut, Cost: a.cost,
		LatencyP50MS: ms(Quantile(a.lat[:], .50)), LatencyP95MS: ms(Quantile(a.lat[:], .95)), LatencyP99MS: ms(Quantile(a.lat[:], .99)),
		TTFTP50MS: ms(Quantile(a.ttft[:], .50)), TTFTP95MS: ms(Quantile(a.ttft[:], .95))}
	if a.requests > 0 {
		s.LatencyAvgMS = float64(a.latencyUS) / 1000 / float64(a.requests)
	}
	return s
}

// sum is an integer SUM that scans as int64 on every database
// (PostgreSQL sums bigint as numeric).
func (r *Reader) sum(expr string) string {
	if r.isPostgres() {
		return "CAST(SUM(" + expr + ") AS BIGINT)"
	}
	return "SUM(" + expr + ")"
}

// bucketExpr truncates call_rollups.bucket (a UTC minute) to size.
func (r *Reader) bucketExpr(size string) string {
	if size == BucketMinute {
		return "bucket"
	}
	switch {
	case r.isPostgres():
		return "date_trunc('" + size + "', bucket AT TIME ZONE 'UTC')"
	case r.isMySQL():
		if size == BucketHour {
			return "DATE_FORMAT(bucket, '%Y-%m-%d %H:00:00')"
		}
		return "DATE_FORMAT(bucket, '%Y-%m-%d 00:00:00')"
	}
	// SQLite stores times as text, "2006-01-02 15:04:05+00:00" (UTC).
	if size == BucketHour {
		return "substr(bucket, 1, 13)"
	}
	return "substr(bucket, 1, 10)"
}

// parseBucket reads a bucket value as each database returns it.
func parseBucket(v any) (time.Time, error) {
	var s string
	switch x := v.(type) {
	case time.Time:
		return x.UTC(), nil
	case []byte:
		s = string(x)
	case string:
		s = x
	default:
		return time.Time{}, fmt.Errorf("bucket of type %T", v)
	}
	for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02 15", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("bucket %q: unknown time format", s)
}

// groupValue formats a group column's value.
func groupValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case []byte:
		return string(x)
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	}
	return fmt.Sprint(v)
}

// timeRange checks and defaults a range: until defaults to now, since to
// until minus def.
func timeRange(since, until, now time.Time, def time.Duration) (time.Time, time.Time, error) {
	if until.IsZero() {
		until = now
	}
	if since.IsZero() {
		since = until.Add(-def)
	}
	since, until = since.UTC(), until.UTC()
	if !since.Before(until) {
		return since, until, badParam("since", "since must be before until")
	}
	return since, until, nil
}

// rollupWhere is the filter shared by Analytics and Top, besides the
// bucket range.
func rollupWhere(scope Scope, serviceID, consumerID uint64, model string) (string, []any) {
	var conds []string
	var args []any
	if !scope.All {
		if len(scope.Teams) == 0 {
			conds = append(conds, "1 = 0")
		} else {
			conds = append(conds, "team_id IN ?")
			args = append(args, scope.Teams)
		}
	}
	if serviceID != 0 {
		conds, args = append(conds, "service_id = ?"), append(args, serviceID)
	}
	if consumerID != 0 {
		conds, args = append(conds, "consumer_id = ?"), append(args, consumerID)
	}
	if model != "" {
		conds, args = append(conds, "model = ?"), append(args, model)
	}
	return strings.Join(conds, " AND "), args
}

// piece is a part of a range read from one rollup table.
type piece struct {
	table    string
	from, to time.Time
}

// plan splits [since, until) into the parts each rollup table can answer,
// coarsest first: whole UTC days from call_rollups_daily (when coarsest is
// day), whole hours from call_rollups_hourly (unless coarsest is minute),
// the minutes at either end from call_rollups.
func plan(since, until time.Time, coarsest string) []piece {
	since = since.Truncate(time.Minute)
	var out []piece
	add := func(table string, from, to time.Time) {
		if from.Before(to) {
			out = append(out, piece{table, from, to})
		}
	}
	ceil := func(t time.Time, d time.Duration) time.Time {
		if c := t.Truncate(d); c.Before(t) {
			return c.Add(d)
		}
		return t
	}
	h0, h1 := ceil(since, time.Hour), until.Truncate(time.Hour)
	if coarsest == BucketMinute || !h0.Before(h1) {
		add("call_rollups", since, until)
		return out
	}
	add("call_rollups", since, h0)
	add("call_rollups", h1, until)
	d0, d1 := ceil(h0, 24*time.Hour), h1.Truncate(24*time.Hour)
	if coarsest == BucketDay && d0.Before(d1) {
		add("call_rollups_hourly", h0, d0)
		add("call_rollups_daily", d0, d1)
		add("call_rollups_hourly", d1, h1)
	} else {
		add("call_rollups_hourly", h0, h1)
	}
	return out
}

// unionSQL is one SELECT per piece, with cols, the filter and group, joined
// by UNION ALL.
func unionSQL(pieces []piece, cols, where string, filterArgs []any, group string) (string, []any) {
	var parts []string
	var args []any
	for _, p := range pieces {
		w := "bucket >= ? AND bucket < ?"
		if where != "" {
			w += " AND " + where
		}
		parts = append(parts, "SELECT "+cols+" FROM "+p.table+" WHERE "+w+" GROUP BY "+group)
		args = append(append(args, p.from, p.to), filterArgs...)
	}
	return strings.Join(parts, " UNION ALL "), args
}

// Analytics answers a chart from call_rollups.
func (r *Reader) Analytics(ctx context.Context, q AnalyticsQuery) (*AnalyticsResult, error) {
	if q.Bucket == "" {
		q.Bucket = BucketHour
	}
	size, ok := bucketSizes[q.Bucket]
	if !ok {
		return nil, badParam("bucket", "bucket must be minute, hour or day")
	}
	groupCol := "''"
	if q.GroupBy != "" {
		if groupCol, ok = groupColumns[q.GroupBy]; !ok {
			return nil, badParam("group_by", "group_by must be one of %s", strings.Join(GroupNames, ", "))
		}
	}
	since, until, err := timeRange(q.Since, q.Until, r.clock.Now(), 24*time.Hour)
	if err != nil {
		return nil, err
	}
	if n := until.Sub(since) / size; n > MaxBuckets {
		return nil, badParam("bucket", "%d %s buckets asked for, at most %d: choose a larger bucket or a shorter range", n, q.Bucket, MaxBuckets)
	}
	cols := []string{r.bucketExpr(q.Bucket) + " AS b", groupCol + " AS g",
		r.sum("requests"), r.sum("errors"),
		r.sum("CASE WHEN status_class = '4xx' THEN requests ELSE 0 END"),
		r.sum("CASE WHEN status_class = '5xx' THEN requests ELSE 0 END"),
		r.sum("tokens_in"), r.sum("tokens_out"), "SUM(cost)", r.sum("latency_us")}
	for _, c := range LatencyColumns {
		cols = append(cols, r.sum(c))
	}
	for _, c := range TTFTColumns {
		cols = append(cols, r.sum(c))
	}
	where, fargs := rollupWhere(q.Scope, q.ServiceID, q.ConsumerID, q.Model)
	group := "1, 2"
	if r.isMySQL() {
		group = "b, g"
	}
	sql, args := unionSQL(plan(since, until, q.Bucket), strings.Join(cols, ", "), where, fargs, group)
	rows, err := r.db.WithContext(ctx).Raw(sql, args...).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()

	res := &AnalyticsResult{Since: since, Until: until, Bucket: q.Bucket, GroupBy: q.GroupBy, Data: []Point{}, Groups: []GroupTotal{}}
	type point struct {
		group string
		at    time.Time
		acc
	}
	var points []point
	seen := map[any]int{}
	var b, g any
	for rows.Next() {
		var p point
		dst := []any{&b, &g, &p.requests, &p.errors, &p.e4, &p.e5, &p.tokensIn, &p.tokensOut, &p.cost, &p.latencyUS}
		for i := range p.lat {
			dst = append(dst, &p.lat[i])
		}
		for i := range p.ttft {
			dst = append(dst, &p.ttft[i])
		}
		if err := rows.Scan(dst...); err != nil {
			return nil, err
		}
		if p.at, err = parseBucket(b); err != nil {
			return nil, err
		}
		p.group = groupValue(g)
		type pk struct {
			group string
			at    time.Time
		}
		k := pk{p.group, p.at}
		if i, ok := seen[k]; ok { // the same bucket from two tables
			points[i].add(&p.acc)
			continue
		}
		seen[k] = len(points)
		points = append(points, p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sort.Slice(points, func(i, j int) bool {
		if points[i].group != points[j].group {
			return points[i].group < points[j].group
		}
		return points[i].at.Before(points[j].at)
	})
	var total acc
	groups := map[string]*acc{}
	var order []string
	for i := range points {
		p := &points[i]
		res.Data = append(res.Data, Point{Group: p.group, BucketStart: p.at, Stats: p.stats()})
		ga := groups[p.group]
		if ga == nil {
			ga = &acc{}
			groups[p.group] = ga
			order = append(order, p.group)
		}
		ga.add(&p.acc)
		total.add(&p.acc)
	}
	for _, name := range order {
		res.Groups = append(res.Groups, GroupTotal{Group: name, Stats: groups[name].stats()})
	}
	sort.SliceStable(res.Groups, func(i, j int) bool { return res.Groups[i].Requests > res.Groups[j].Requests })
	res.Total = total.stats()
	return res, nil
}

// TopQuery selects a ranking.
type TopQuery struct {
	Scope        Scope
	Since, Until time.Time
	// By is service, consumer, model, provider or endpoint.
	By string
	// Order is requests (default), cost, tokens or errors.
	Order string
	// Limit is how many to return (default 10, at most 100).
	Limit     int
	ServiceID uint64
}

// TopEntry is one ranked group.
type TopEntry struct {
	Group        string  `json:"group"`
	Requests     int64   `json:"requests"`
	Errors       int64   `json:"errors"`
	TokensIn     int64   `json:"tokens_in"`
	TokensOut    int64   `json:"tokens_out"`
	Cost         float64 `json:"cost"`
	LatencyAvgMS float64 `json:"latency_avg_ms"`
}

// topOrders are the sort expressions of Top.
var topOrders = map[string]string{"requests": "SUM(n_req)", "errors": "SUM(n_err)",
	"tokens": "SUM(n_in) + SUM(n_out)", "cost": "SUM(n_cost)"}

// Top ranks groups over a range (default the last 7 days) from
// call_rollups, most first.
func (r *Reader) Top(ctx context.Context, q TopQuery) ([]TopEntry, error) {
	col, ok := groupColumns[q.By]
	if !ok {
		return nil, badParam("by", "by must be one of %s", strings.Join(GroupNames, ", "))
	}
	if q.Order == "" {
		q.Order = "requests"
	}
	if _, ok := topOrders[q.Order]; !ok {
		return nil, badParam("order", "order must be requests, errors, tokens or cost")
	}
	if q.Limit == 0 {
		q.Limit = 10
	}
	if q.Limit < 1 || q.Limit > 100 {
		return nil, badParam("limit", "limit must be from 1 to 100")
	}
	since, until, err := timeRange(q.Since, q.Until, r.clock.Now(), 7*24*time.Hour)
	if err != nil {
		return nil, err
	}
	where, fargs := rollupWhere(q.Scope, q.ServiceID, 0, "")
	inner, args := unionSQL(plan(since, until, BucketDay), col+" AS g, "+r.sum("requests")+" AS n_req, "+r.sum("errors")+" AS n_err, "+
		r.sum("tokens_in")+" AS n_in, "+r.sum("tokens_out")+" AS n_out, SUM(cost) AS n_cost, "+r.sum("latency_us")+" AS n_lat", where, fargs, col)
	sql := "SELECT g, " + r.sum("n_req") + ", " + r.sum("n_err") + ", " + r.sum("n_in") + ", " + r.sum("n_out") + ", SUM(n_cost), " + r.sum("n_lat") +
		" FROM (" + inner + ") u GROUP BY g ORDER BY " + topOrders[q.Order] + " DESC, g LIMIT ?"
	rows, err := r.db.WithContext(ctx).Raw(sql, append(args, q.Limit)...).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []TopEntry{}
	for rows.Next() {
		var e TopEntry
		var g any
		var lat int64
		if err := rows.Scan(&g, &e.Requests, &e.Errors, &e.TokensIn, &e.TokensOut, &e.Cost, &lat); err != nil {
			return nil, err
		}
		e.Group = groupValue(g)
		if e.Requests > 0 {
			e.LatencyAvgMS = float64(lat) / 1000 / float64(e.Requests)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
