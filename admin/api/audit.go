package api

import (
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sluicehq/sluice/admin"
)

func (a *API) listAudit(c *gin.Context) error {
	p, err := page(c)
	if err != nil {
		return err
	}
	f := admin.AuditFilter{Scope: who(c).scope(), Resource: c.Query("resource"), ResourceID: c.Query("resource_id"), Page: p}
	if f.ActorID, err = queryID(c, "actor_id"); err != nil {
		return err
	}
	if s := c.Query("since"); s != "" {
		if f.Since, err = time.Parse(time.RFC3339, s); err != nil {
			return badField("since", "since must be an RFC 3339 time such as 2030-01-31T00:00:00Z")
		}
	}
	list, total, err := a.stores.Audit.List(c.Request.Context(), f)
	if err != nil {
		return err
	}
	return listJSON(c, list, p, total)
}
