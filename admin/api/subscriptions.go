package api

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/sluicehq/sluice/admin"
)

func (a *API) listSubscriptions(c *gin.Context) error {
	p, err := page(c)
	if err != nil {
		return err
	}
	f := admin.SubscriptionFilter{Scope: who(c).scope(), Status: c.Query("status"), Page: p}
	switch f.Status {
	case "", admin.StatusPending, admin.StatusApproved, admin.StatusRejected, admin.StatusRevoked:
	default:
		return badField("status", "status must be pending, approved, rejected or revoked")
	}
	if f.ServiceID, err = queryID(c, "service_id"); err != nil {
		return err
	}
	if f.ConsumerID, err = queryID(c, "consumer_id"); err != nil {
		return err
	}
	list, total, err := a.stores.Subscriptions.List(c.Request.Context(), f)
	if err != nil {
		return err
	}
	return listJSON(c, list, p, total)
}

// visible reports whether the caller sees a subscription: through the
// service's team or the consumer's.
func visible(p *principal, s *admin.SubscriptionView) bool {
	sc := p.scope()
	return sc.Has(s.ServiceTeamID) || sc.Has(s.ConsumerTeamID)
}

func (a *API) getSubscription(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	s, err := a.stores.Subscriptions.Get(c.Request.Context(), id)
	if err != nil {
		return err
	}
	if !visible(who(c), s) {
		return notFound("subscription", id)
	}
	c.JSON(http.StatusOK, s)
	return nil
}

type decisionRequest struct {
	Reason string `json:"reason"`
}

// decide approves, rejects or revokes a subscription; the service's team
// decides. A reason is required to reject or revoke.
func (a *API) decide(decision string) handler {
	return func(c *gin.Context) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		var req decisionRequest
		if c.Request.ContentLength != 0 {
			if err := decode(c, &req); err != nil {
				return err
			}
		}
		reason, err := text("reason", req.Reason, decision != admin.DecisionApprove, 2000)
		if err != nil {
			return badField("reason", fmt.Sprintf("reason is required to %s a subscription (at most 2000 characters): the consumer's team sees it", decision))
		}
		ctx := c.Request.Context()
		s, err := a.stores.Subscriptions.Get(ctx, id)
		if err != nil {
			return err
		}
		if err := writeTeam(who(c), s.ServiceTeamID); err != nil {
			return err
		}
		s, err = a.stores.Subscriptions.Decide(ctx, who(c).actor(), id, decision, reason)
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, s)
		return nil
	}
}
