package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/sluicehq/sluice/internal/calllog"
)

// Analytics for the dashboard, from the call-log rollups: series per group
// and bucket, and rankings. Members see their teams' services' calls only.

func (a *API) analytics(c *gin.Context) error {
	q := calllog.AnalyticsQuery{Scope: logScope(c), Bucket: c.Query("bucket"), GroupBy: c.Query("group_by"), Model: c.Query("model")}
	var err error
	if q.Since, err = queryTime(c, "since"); err != nil {
		return err
	}
	if q.Until, err = queryTime(c, "until"); err != nil {
		return err
	}
	if q.ServiceID, err = queryID(c, "service_id"); err != nil {
		return err
	}
	if q.ConsumerID, err = queryID(c, "consumer_id"); err != nil {
		return err
	}
	res, err := a.calls().Analytics(c.Request.Context(), q)
	if err != nil {
		return callLogErr(err)
	}
	groups := make([]string, len(res.Groups))
	for i, g := range res.Groups {
		groups[i] = g.Group
	}
	names, err := a.groupNames(c, q.GroupBy, groups)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"since": res.Since, "until": res.Until, "bucket": res.Bucket, "group_by": res.GroupBy,
		"data": res.Data, "groups": res.Groups, "total": res.Total, "names": names})
	return nil
}

func (a *API) analyticsTop(c *gin.Context) error {
	q := calllog.TopQuery{Scope: logScope(c), By: c.Query("by"), Order: c.Query("order")}
	var err error
	if q.Since, err = queryTime(c, "since"); err != nil {
		return err
	}
	if q.Until, err = queryTime(c, "until"); err != nil {
		return err
	}
	if q.ServiceID, err = queryID(c, "service_id"); err != nil {
		return err
	}
	if q.Limit, err = queryInt(c, "limit", 1, 100); err != nil {
		return err
	}
	top, err := a.calls().Top(c.Request.Context(), q)
	if err != nil {
		return callLogErr(err)
	}
	groups := make([]string, len(top))
	for i, e := range top {
		groups[i] = e.Group
	}
	names, err := a.groupNames(c, q.By, groups)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"by": q.By, "data": top, "names": names})
	return nil
}

// groupNames maps service and consumer ids to their names, for the ones
// the caller may see (a member's service may be called by another team's
// consumer: its id is shown, not its name).
func (a *API) groupNames(c *gin.Context, by string, groups []string) (map[string]string, error) {
	names := map[string]string{}
	table := map[string]string{"service": "services", "consumer": "consumers"}[by]
	if table == "" || len(groups) == 0 {
		return names, nil
	}
	ids := make([]uint64, 0, len(groups))
	for _, g := range groups {
		if id, err := strconv.ParseUint(g, 10, 64); err == nil && id != 0 {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return names, nil
	}
	var rows []struct {
		ID   uint64
		Name string
	}
	q := a.deps.DB.WithContext(c.Request.Context()).Table(table).Select("id, name").Where("id IN ?", ids)
	if s := who(c).scope(); !s.All {
		if len(s.Teams) == 0 {
			return names, nil
		}
		q = q.Where("team_id IN ?", s.Teams)
	}
	if err := q.Find(&rows).Error; err != nil {
		return nil, err
	}
	for _, r := range rows {
		names[strconv.FormatUint(r.ID, 10)] = r.Name
	}
	return names, nil
}

// The OpenAPI operations and schemas of the log explorer and analytics.
func init() {
	ms := func(desc string) object { return object{"type": "number", "description": desc} }
	us := func(desc string) object { return object{"type": "integer", "format": "int64", "description": desc} }
	summary := object{"id": str(), "request_id": str(), "started_at": dateTime(), "consumer_id": integer(), "key_id": str(),
		"service_id": integer(), "team_id": integer(), "endpoint": str(), "prompt_slug": str(), "prompt_version": integer(),
		"model": str(), "provider": str(), "upstream_model": str(), "status": integer(), "error": str(), "stream": boolean(),
		"tokens_in": integer(), "tokens_out": integer(), "usage_estimated": boolean(), "cost": number(),
		"bytes_in": integer(), "bytes_out": integer(), "client_addr": str(),
		"auth_us": us("time authenticating, µs"), "routing_us": us("time choosing a target, µs"),
		"total_us": us("the whole call, µs"), "ttft_us": us("time to the first token sent to the client, µs (streams)")}
	stats := object{"requests": integer(), "errors": integer(), "errors_4xx": integer(), "errors_5xx": integer(),
		"tokens_in": integer(), "tokens_out": integer(), "cost": number(),
		"latency_avg_ms": number(), "latency_p50_ms": ms("estimated from the rollup histogram"),
		"latency_p95_ms": ms("estimated from the rollup histogram"), "latency_p99_ms": ms("estimated from the rollup histogram"),
		"ttft_p50_ms": ms("time to first token, streamed calls only"), "ttft_p95_ms": ms("time to first token, streamed calls only")}
	with := func(base object, more object) object {
		props := object{}
		for k, v := range base {
			props[k] = v
		}
		for k, v := range more {
			props[k] = v
		}
		return obj(props)
	}
	names := object{"type": "object", "additionalProperties": str(), "description": "service or consumer id to name, for those visible to the caller"}
	schemas["LogSummary"] = obj(summary)
	schemas["LogPage"] = obj(object{"data": arr(ref("LogSummary")),
		"next_cursor": object{"type": "string", "description": "pass as cursor for the next (older) page; empty on the last page"}})
	schemas["Attempt"] = obj(object{"target_id": integer(), "provider": str(), "upstream_model": str(), "status": integer(), "error": str(),
		"start_us": us("offset from the start of the call"), "dns_us": integer(), "connect_us": integer(), "tls_us": integer(),
		"ttfb_us": us("from the start of the attempt to the first byte"), "transfer_us": integer(), "retried": boolean()})
	schemas["Phase"] = obj(object{"name": enum("total", "auth", "routing", "attempt", "dns", "connect", "tls", "ttfb", "transfer", "ttft"),
		"attempt": object{"type": "integer", "description": "the attempt's number, from 1"}, "provider": str(), "status": integer(), "error": str(),
		"start_us": us("offset from the start of the call"), "duration_us": integer()})
	schemas["Waterfall"] = obj(object{"total_us": integer(), "phases": arr(ref("Phase"))})
	schemas["LogDetail"] = with(summary, object{"attempts": arr(ref("Attempt")), "request_body": nullable(str()),
		"response_body": nullable(str()), "waterfall": ref("Waterfall")})
	schemas["AnalyticsPoint"] = with(stats, object{"group": str(), "bucket_start": dateTime()})
	schemas["AnalyticsGroup"] = with(stats, object{"group": str()})
	schemas["AnalyticsStats"] = obj(stats)
	schemas["Analytics"] = obj(object{"since": dateTime(), "until": dateTime(), "bucket": enum("minute", "hour", "day"), "group_by": str(),
		"data": arr(ref("AnalyticsPoint")), "groups": arr(ref("AnalyticsGroup")), "total": ref("AnalyticsStats"), "names": names})
	schemas["AnalyticsTop"] = obj(object{"by": str(), "names": names, "data": arr(obj(object{"group": str(), "requests": integer(), "errors": integer(),
		"tokens_in": integer(), "tokens_out": integer(), "cost": number(), "latency_avg_ms": number()}))})

	rangeParams := []param{q("since", "RFC 3339 time, inclusive", dateTime()), q("until", "RFC 3339 time, exclusive (default now)", dateTime())}
	groups := enum(calllog.GroupNames...)
	operations = append(operations,
		operation{method: "GET", path: "/logs", summary: "Call-log records, newest first, with a cursor (members: their teams' calls)", tag: "logs",
			query: append(rangeParams, q("status", "a status code, or 2xx, 3xx, 4xx, 5xx", str()), q("consumer_id", "of this consumer", integer()),
				q("service_id", "of this service", integer()), q("model", "public model name", str()), q("request_id", "the X-Request-Id answered", str()),
				q("endpoint", "chat, embeddings, messages, prompt, models, …", str()), q("cursor", "next_cursor of the previous page", str()),
				q("limit", "page size, 1 to 200 (default 50)", integer())),
			status: 200, response: "LogPage", errors: []int{400}},
		operation{method: "GET", path: "/logs/{log_id}", summary: "One call-log record with its attempts and waterfall", tag: "logs",
			status: 200, response: "LogDetail", errors: []int{404}},
		operation{method: "GET", path: "/analytics", summary: "Requests, errors, tokens, cost and latency percentiles per bucket and group, from the rollups (members: their teams')", tag: "analytics",
			query: append(rangeParams, q("bucket", "minute, hour (default) or day, UTC", enum("minute", "hour", "day")),
				q("group_by", "one series per service, consumer, model, provider or endpoint; none for one series", groups),
				q("service_id", "only this service's calls", integer()), q("consumer_id", "only this consumer's calls", integer()),
				q("model", "only calls for this public model", str())),
			status: 200, response: "Analytics", errors: []int{400}},
		operation{method: "GET", path: "/analytics/top", summary: "The busiest services, consumers, models, providers or endpoints over a range (default 7 days)", tag: "analytics",
			query: append(rangeParams, q("by", "what to rank", groups), q("order", "requests (default), errors, tokens or cost", enum("requests", "errors", "tokens", "cost")),
				q("limit", "1 to 100 (default 10)", integer()), q("service_id", "only this service's calls", integer())),
			status: 200, response: "AnalyticsTop", errors: []int{400}},
	)
}
