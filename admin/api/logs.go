package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sluicehq/sluice/internal/apierr"
	"github.com/sluicehq/sluice/internal/calllog"
)

// The log explorer: raw call-log records with filters and a keyset cursor,
// and one record with its waterfall. Members see their teams' calls only.

// registerCallLog adds the log explorer and analytics routes.
func (a *API) registerCallLog(auth *gin.RouterGroup) {
	auth.GET("/logs", a.h(a.listLogs))
	auth.GET("/logs/:log_id", a.h(a.getLog))
	auth.GET("/analytics", a.h(a.analytics))
	auth.GET("/analytics/top", a.h(a.analyticsTop))
}

// calls reads the call log.
func (a *API) calls() *calllog.Reader { return calllog.NewReader(a.deps.DB).WithClock(a.deps.Clock) }

// logScope is the caller's scope for call-log reads.
func logScope(c *gin.Context) calllog.Scope {
	s := who(c).scope()
	return calllog.Scope{All: s.All, Teams: s.Teams}
}

// callLogErr maps the call log's errors to answers.
func callLogErr(err error) error {
	var qe *calllog.QueryError
	if errors.As(err, &qe) {
		return apierr.BadRequest(qe.Param, qe.Message)
	}
	return err
}

// queryTime reads an optional RFC 3339 query parameter.
func queryTime(c *gin.Context, name string) (time.Time, error) {
	s := c.Query(name)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return t, badField(name, name+" must be an RFC 3339 time such as 2030-01-31T00:00:00Z")
	}
	return t, nil
}

// queryInt reads an optional integer query parameter within [lo, hi].
func queryInt(c *gin.Context, name string, lo, hi int) (int, error) {
	s := c.Query(name)
	if s == "" {
		return 0, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < lo || v > hi {
		return 0, badField(name, fmt.Sprintf("%s must be an integer from %d to %d, got %q", name, lo, hi, s))
	}
	return v, nil
}

func (a *API) listLogs(c *gin.Context) error {
	f := calllog.LogFilter{Scope: logScope(c), Model: c.Query("model"), RequestID: c.Query("request_id"),
		Endpoint: c.Query("endpoint"), Cursor: c.Query("cursor")}
	var err error
	if f.Since, err = queryTime(c, "since"); err != nil {
		return err
	}
	if f.Until, err = queryTime(c, "until"); err != nil {
		return err
	}
	if f.ConsumerID, err = queryID(c, "consumer_id"); err != nil {
		return err
	}
	if f.ServiceID, err = queryID(c, "service_id"); err != nil {
		return err
	}
	if f.Limit, err = queryInt(c, "limit", 1, calllog.MaxLogLimit); err != nil {
		return err
	}
	switch s := c.Query("status"); s {
	case "":
	case "2xx", "3xx", "4xx", "5xx":
		f.StatusClass = s
	default:
		v, err := strconv.Atoi(s)
		if err != nil || v < 0 || v > 599 {
			return badField("status", "status must be a status code (e.g. 429) or a class: 2xx, 3xx, 4xx, 5xx")
		}
		f.Status = v
	}
	page, err := a.calls().List(c.Request.Context(), f)
	if err != nil {
		return callLogErr(err)
	}
	c.JSON(http.StatusOK, page)
	return nil
}

func (a *API) getLog(c *gin.Context) error {
	id := c.Param("log_id")
	d, err := a.calls().Get(c.Request.Context(), logScope(c), id)
	if errors.Is(err, calllog.ErrNotFound) {
		return notFound("call log record", id)
	}
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, d)
	return nil
}
