package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sluicehq/sluice/admin"
	"github.com/sluicehq/sluice/internal/apierr"
)

// SelfService is the control-plane store behind a consumer's own
// subscription requests.
type SelfService interface {
	Request(ctx context.Context, consumerID uint64, serviceSlug string) (*admin.Subscription, bool, error)
	ListForConsumer(ctx context.Context, consumerID uint64) ([]admin.SubscriptionView, error)
}

type subscriptionOut struct {
	ID        uint64     `json:"id"`
	Object    string     `json:"object"`
	Service   string     `json:"service"`
	Status    string     `json:"status"`
	Reason    string     `json:"reason,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	DecidedAt *time.Time `json:"decided_at,omitempty"`
}

// requestSubscription answers POST /v1/subscriptions {"service":"slug"}:
// 201 with the new subscription (approved at once for auto-approval
// services, else pending), or 200 with the existing one.
func (s *Server) requestSubscription(c *gin.Context) {
	body, err := ReadBody(c)
	if err != nil {
		fail(c, err)
		return
	}
	var in struct {
		Service string `json:"service"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		fail(c, apierr.BadRequest("service", "send a JSON object {\"service\":\"SLUG\"}"))
		return
	}
	if in.Service == "" {
		fail(c, apierr.BadRequest("service", "service is required: the slug of the service to subscribe to"))
		return
	}
	sub, created, err := s.deps.Access.Subscriptions.Request(c.Request.Context(), callOf(c).consumerID, in.Service)
	if errors.Is(err, admin.ErrNotFound) {
		fail(c, &apierr.Error{Status: http.StatusNotFound, Code: "service_not_found", Param: "service",
			Message: "service " + quote(in.Service) + " does not exist"})
		return
	}
	if err != nil {
		s.deps.Logger.Error("subscription request failed", "request_id", RequestID(c), "err", err)
		fail(c, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	c.JSON(status, subscriptionOut{ID: sub.ID, Object: "subscription", Service: in.Service, Status: sub.Status,
		Reason: sub.Reason, CreatedAt: sub.CreatedAt, DecidedAt: sub.DecidedAt})
}

// listSubscriptions answers GET /v1/subscriptions with the consumer's
// subscriptions and their status.
func (s *Server) listSubscriptions(c *gin.Context) {
	views, err := s.deps.Access.Subscriptions.ListForConsumer(c.Request.Context(), callOf(c).consumerID)
	if err != nil {
		s.deps.Logger.Error("listing subscriptions failed", "request_id", RequestID(c), "err", err)
		fail(c, err)
		return
	}
	out := struct {
		Object string            `json:"object"`
		Data   []subscriptionOut `json:"data"`
	}{Object: "list", Data: make([]subscriptionOut, 0, len(views))}
	for _, v := range views {
		out.Data = append(out.Data, subscriptionOut{ID: v.ID, Object: "subscription", Service: v.ServiceSlug,
			Status: v.Status, Reason: v.Reason, CreatedAt: v.CreatedAt, DecidedAt: v.DecidedAt})
	}
	c.JSON(http.StatusOK, out)
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
