package access

import (
	"context"
	"fmt"
	"net/http"

	"gorm.io/gorm"

	"github.com/sluicehq/sluice/admin"
	"github.com/sluicehq/sluice/internal/apierr"
	"github.com/sluicehq/sluice/prompts"
)

// Prompt is a published prompt as the data plane serves it: its live
// version compiled once per snapshot.
type Prompt struct {
	ID          uint64
	Slug        string
	Name        string
	Description string
	ServiceID   uint64
	// Version is the live version's number.
	Version int
	// Template is the live version, compiled.
	Template *prompts.Template
}

// buildPrompts indexes the published prompts by slug. A version that no
// longer compiles (it did when saved) is left out, so its slug is 404.
func buildPrompts(live []prompts.Live) map[string]*Prompt {
	out := make(map[string]*Prompt, len(live))
	for _, l := range live {
		t, err := l.Version.Compile()
		if err != nil {
			continue
		}
		out[l.Prompt.Slug] = &Prompt{ID: l.Prompt.ID, Slug: l.Prompt.Slug, Name: l.Prompt.Name,
			Description: l.Prompt.Description, ServiceID: l.Prompt.ServiceID, Version: l.Version.Version, Template: t}
	}
	return out
}

// loadPrompts reads the published prompts for a snapshot.
func loadPrompts(ctx context.Context, db *gorm.DB) ([]prompts.Live, error) {
	return prompts.LoadLive(ctx, db)
}

// Prompt returns the published prompt called slug; unknown and unpublished
// prompts answer the same 404.
func (s *Snapshot) Prompt(slug string) (*Prompt, error) {
	p, ok := s.prompts[slug]
	if !ok || s.services[p.ServiceID] == nil {
		return nil, &apierr.Error{Status: http.StatusNotFound, Code: "prompt_not_found",
			Message: fmt.Sprintf("prompt %q does not exist or is not published; ask its owners for the right slug", slug)}
	}
	return p, nil
}

// AuthorizePrompt decides whether consumer may call prompt p: it needs an
// approved subscription to the prompt's service (403 naming the service
// and the subscription's state otherwise). The grant's model is the
// prompt's model; a model deleted since publishing is a 503 naming it.
func (s *Snapshot) AuthorizePrompt(consumer uint64, p *Prompt) (Grant, error) {
	svc := s.services[p.ServiceID]
	sub, ok := s.subs[subKey{consumer, p.ServiceID}]
	if !ok || sub.Status != admin.StatusApproved {
		status := "none"
		if ok {
			status = sub.Status
		}
		msg := ""
		switch status {
		case admin.StatusPending:
			msg = fmt.Sprintf("subscription to service %q is pending approval; ask the service's team to approve it", svc.Slug)
		case admin.StatusRejected:
			msg = fmt.Sprintf("subscription to service %q was rejected", svc.Slug)
		case admin.StatusRevoked:
			msg = fmt.Sprintf("subscription to service %q was revoked", svc.Slug)
		default:
			msg = fmt.Sprintf("no subscription covers prompt %q; subscribe with POST /v1/subscriptions {\"service\":%q}", p.Slug, svc.Slug)
		}
		return Grant{}, &apierr.Error{Status: http.StatusForbidden, Code: "subscription_" + status, Param: "prompt", Message: msg}
	}
	m, ok := s.models[p.Template.Model]
	if !ok {
		return Grant{}, &apierr.Error{Status: http.StatusServiceUnavailable, Code: "model_not_found",
			Message: fmt.Sprintf("prompt %q calls model %q, which no longer exists; its owners must publish a version with an existing model", p.Slug, p.Template.Model)}
	}
	return Grant{Subscription: sub, Service: svc, Model: m}, nil
}
